/** Resolves as `work` does, or rejects after `ms` saying what the test waited for (a hang fails with why). */
export async function within<T>(work: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms); });
  try {
    return await Promise.race([Promise.resolve(work), expired]);
  } finally {
    clearTimeout(timer);
  }
}
