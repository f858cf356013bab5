// Small event builders for tests.
import type { EventData } from '../../lib/types.js'

export function makeEvents(count: number, from = 1, eventType = 'TestEvent'): EventData[] {
  return Array.from({ length: count }, (_, i) => ({ eventType, data: { n: from + i }, metadata: { source: 'test' } }))
}
