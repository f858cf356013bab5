// Preloaded into every test process (.taprc node-arg). A worker thread inherits its parent's
// node options, so each worker a store starts would load tap's own loader hooks as well, each
// on a loader thread of its own: time spent in every store start. Tap's hooks are of no use
// there (coverage is off), so the threads get the test process's options without them, and
// without this module, which a worker could not load ahead of tsx.
import { syncBuiltinESMExports } from 'node:module'
import workerThreads, { type WorkerOptions } from 'node:worker_threads'

const execArgv = process.execArgv.filter((arg) => !/[\\/]@tapjs[\\/]|worker_loaders/.test(arg))
const TapWorker = workerThreads.Worker

workerThreads.Worker = class extends TapWorker {
  constructor(filename: string | URL, options: WorkerOptions = {}) {
    super(filename, { ...options, execArgv: options.execArgv ?? execArgv })
  }
}
syncBuiltinESMExports()
