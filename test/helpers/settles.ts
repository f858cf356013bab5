// What a call settles to within a bound, or 'hung', for tests of things that must not hang.
// The bound's timer is cleared once the call settles: left running, it would hold the test
// process open.
export async function within<T>(call: Promise<T>, ms: number): Promise<T | 'hung'> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<'hung'>((resolve) => {
    timer = setTimeout(resolve, ms, 'hung')
  })
  try {
    return await Promise.race([call, bound])
  } finally {
    clearTimeout(timer)
  }
}
