// What a call settles to within a bound, or 'hung', for tests of things that must not hang
// (lib/actors/timeout.ts withTimeout, whose timer is cleared once the call settles).
import { withTimeout } from '../../lib/actors/timeout.js'

export async function within<T>(call: Promise<T>, ms: number): Promise<T | 'hung'> {
  const hung = new Error('hung')
  return withTimeout(call, ms, () => hung).catch((error: unknown) => {
    if (error === hung) return 'hung' as const
    throw error
  })
}
