// A call to another thread or server that must answer in time: comlink and postgres.js
// never settle a call whose other side died.
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms)
  })
  return Promise.race([work, expired]).finally(() => clearTimeout(timer))
}
