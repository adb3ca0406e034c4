/** Resolves `true` when `work` settles within `timeoutMillis`, `false` otherwise; never rejects. */
export function settlesWithin(work: Promise<unknown>, timeoutMillis: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMillis);
    timer.unref();
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
