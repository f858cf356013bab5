// What the OpenTelemetry bridge reads of a store. Apart from store/status.ts, whose types the
// package publishes: @opentelemetry/api is optional, and a user's strict build must not need it.
import type { TelemetrySource } from '../observability/otel.js'
import type { StoreParts } from './parts.js'
import type { StoreStatus } from './status.js'

/** What the OpenTelemetry bridge reads of a store. */
export function telemetrySource(parts: StoreParts, status: () => Promise<StoreStatus>): TelemetrySource {
  const { config, metrics, writer, pool } = parts
  return {
    schema: config.schema,
    metrics,
    queued: () => writer.queued,
    workerUtilization: () => pool.utilization,
    subscriptions: async () => (await status()).subscriptions,
  }
}
