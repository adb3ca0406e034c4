/**
 * On SIGTERM: shut down (bounded), then let the signal do what it would have done. When
 * the app has its own SIGTERM listeners they decide about exiting; otherwise the signal is
 * raised again with ours removed, which terminates the process as if we had not been there.
 */
export function installSigtermHook(shutdown: () => Promise<void>): () => void {
  const onSigterm = (): void => {
    void shutdown().finally(() => {
      if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
    });
  };
  process.once('SIGTERM', onSigterm);
  return () => process.removeListener('SIGTERM', onSigterm);
}
