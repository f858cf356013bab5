// Public exports of pg-eventstore.
export { EventStore, type StreamReadOptions, type ReadAllOptions, type StreamAllOptions } from './event_store.js'
export type { EventStoreConfig, EmbeddedConfig } from './config.js'
export { Subscription, type ClosedReason, type ModuleSubscriptionHandle } from './subscriptions/handle.js'
export type { ModuleSubscriptionOptions, SubscriptionOptions, TransientSubscriptionOptions } from './subscriptions/options.js'
export type { Subscriber, SubscriberMessage, Acknowledgement, ModuleSubscriber, ModuleSubscription } from './subscriptions/subscriber.js'
export type {
  EventData,
  RecordedEvent,
  ExpectedVersion,
  WriteOptions,
  CallOptions,
  StreamInfo,
  StreamStatus,
  SnapshotData,
  RecordedSnapshot,
  PaginateOptions,
  StreamPage,
} from './types.js'
export {
  EventStoreError,
  type ErrorCode,
  WrongExpectedVersionError,
  StreamExistsError,
  StreamNotFoundError,
  StreamDeletedError,
  DuplicateEventError,
  SubscriptionAlreadyExistsError,
  SubscriptionNotFoundError,
  SnapshotNotFoundError,
  InvalidArgumentError,
  SchemaError,
  ConnectionError,
  TimeoutError,
  AbortedError,
  OverloadedError,
  ServerError,
} from './errors.js'
export type { StoreReport, Logger, ReportLevel } from './reports.js'
export type { StoreStatus } from './event_store.js'
export type { ConnectionsStatus, ConnectionUse } from './store/status.js'
export type { SubscriptionStatus, SubscriptionState } from './observability/status.js'
export type { Holder } from './storage/holder.js'
export type { MetricsSnapshot, HistogramSnapshot, Counters } from './observability/metrics.js'
export type { AppendMessage, LinkMessage, ReadMessage, DeleteMessage, DeliveryMessage } from './observability/channels.js'
export { startAdminServer, type AdminServer, type AdminServerOptions } from './admin/server.js'
export type { Upcaster } from './upcasting.js'
export type { EventFilter } from './filter.js'
export { Projection, type ProjectionHandle, type ProjectionHandler, type ProjectOptions, type ProjectionEnd } from './projections/projection.js'
