// The store's one channel for what it retries, drops or survives. Every report goes to the
// store's 'warning' / 'error' listeners, to a pino-style logger when one is given, and to
// node:diagnostics_channel ("pg-eventstore:warning", "pg-eventstore:error"). Worker threads
// post theirs on a BroadcastChannel the main thread relays. No report carries a secret:
// messages come from our own text and the driver's, which never includes the password.
import { channel } from 'node:diagnostics_channel'
import { BroadcastChannel } from 'node:worker_threads'
import { EventStoreError } from './errors.js'

export type ReportLevel = 'warning' | 'error'

/**
 * What a 'warning' or 'error' listener receives.
 * - warning: the store retried or worked around it; nothing was lost.
 * - error: something stopped or could not be settled (a subscription closed, a write's outcome unknown).
 */
export interface StoreReport {
  level: ReportLevel
  /** Where it happened, e.g. 'writer', 'listener', 'subscription', 'checkpoint', 'lock'. */
  source: string
  message: string
  /** The error's stable code when there was one (EventStoreError code or the driver's code). */
  code: string | null
  /** Plain data: stream id, subscription name, sqlstate... */
  details: Record<string, unknown>
}

/** The pino/bunyan calling convention: `logger.warn(object, message)`. */
export interface Logger {
  warn(object: object, message?: string): void
  error(object: object, message?: string): void
}

export type Report = (level: ReportLevel, source: string, message: string, error?: unknown, details?: Record<string, unknown>) => void

export const warningChannel = channel('pg-eventstore:warning')
export const errorChannel = channel('pg-eventstore:error')

/** Builds a report from whatever was thrown, keeping only its code and message. */
export function makeReport(level: ReportLevel, source: string, message: string, error?: unknown, details: Record<string, unknown> = {}): StoreReport {
  const code = error instanceof EventStoreError ? error.code : typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : null
  // Errors from worker threads arrive as plain objects with a message (lib/errors.ts toWire).
  const text = typeof (error as { message?: unknown })?.message === 'string' ? (error as { message: string }).message : String(error)
  const cause = error === undefined ? '' : `: ${text}`
  return { level, source, message: `${message}${cause}`, code, details }
}

/** Publishes a report to the diagnostics channel of its level (free when nobody listens). */
export function publish(report: StoreReport): void {
  const target = report.level === 'error' ? errorChannel : warningChannel
  if (target.hasSubscribers) target.publish(report)
}

/** The BroadcastChannel name on which one store's worker threads post their reports. */
export const reportChannelName = (storeId: string): string => `pg-eventstore:reports:${storeId}`

/** A worker thread's way to report: posts to the main thread of its store. */
export function workerReporter(storeId: string): Report {
  const out = new BroadcastChannel(reportChannelName(storeId))
  out.unref()
  return (level, source, message, error, details) => out.postMessage(makeReport(level, source, message, error, details))
}
