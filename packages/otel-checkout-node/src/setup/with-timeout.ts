/** How `settlesWithin` treats the process while it waits. */
export interface SettlesWithinOptions {
  /**
   * Keep the process alive until `work` settles or the time is up (a ref'd timer). For a wait the
   * application awaits, such as `shutdown()`: when nothing else holds the event loop (a custom
   * exporter whose promise never settles holds nothing), an unref'd timer would let the process
   * exit with the wait unresolved, and the code after the application's `await` would never run.
   * The wait is bounded, so the process is held at most `timeoutMillis`. Off by default: a
   * background wait must not keep a process alive that has nothing else to do.
   */
  holdProcess?: boolean;
}

/** Resolves `true` when `work` settles within `timeoutMillis`, `false` otherwise; never rejects. */
export function settlesWithin(work: Promise<unknown>, timeoutMillis: number, options: SettlesWithinOptions = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMillis);
    if (options.holdProcess !== true) timer.unref();
    work.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}
