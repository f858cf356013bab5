// Calls between threads (lib/actors/calls.ts): replies and errors with their codes, a timeout
// and an abort that reach the callee's signal, and pending calls rejected when the other
// side's port closes or its thread dies.
import { once } from 'node:events'
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads'
import t from 'tap'
import { Caller, serve } from '../../lib/actors/calls.js'
import { ConnectionError, StreamNotFoundError } from '../../lib/errors.js'

interface Echo {
  echo(text: string): string
  fail(code: 'stream_not_found' | 'plain'): void
  /** Settles only when its signal aborts, with the abort's reason. */
  hang(): void
  count(port: MessagePort): number
}

/** An actor on one end of a channel, its caller on the other; `aborted` settles when a hung call's signal aborts. */
function connected() {
  const { port1, port2 } = new MessageChannel()
  let seen: (signal: AbortSignal | undefined) => void = () => {}
  const hung = new Promise<AbortSignal | undefined>((resolve) => {
    seen = resolve
  })
  serve<Echo>(port2, {
    echo: (text) => text.toUpperCase(),
    fail: (code) => {
      throw code === 'plain' ? new TypeError('just broken') : new StreamNotFoundError('no such stream', { streamId: 's' })
    },
    hang: (signal) =>
      new Promise<void>((_, reject) => {
        seen(signal)
        signal?.addEventListener('abort', () => reject(new Error('cancelled')), { once: true })
      }),
    count: async (port) => {
      const [message] = await once(port as never, 'message')
      return message as number
    },
  })
  const caller = new Caller<Echo>(port1, 'the test call')
  t.teardown(() => caller.close(new ConnectionError('test over')))
  return { caller, port2, hung }
}

t.test('a call gets its reply; an error thrown there arrives with its class and code', async (t) => {
  const { caller } = connected()
  t.equal(await caller.call('echo', ['hi']), 'HI')
  const error = await caller.call('fail', ['stream_not_found']).catch((e: unknown) => e)
  t.ok(error instanceof StreamNotFoundError)
  t.match(error, { code: 'stream_not_found', details: { streamId: 's' } })
  await t.rejects(caller.call('fail', ['plain']), { name: 'TypeError', message: 'just broken' })
  t.equal(caller.pending, 0, 'nothing left pending')
})

t.test('a call without signal or timeout cannot be cancelled: the callee gets no signal', async (t) => {
  const { caller, hung } = connected()
  void caller.call('hang', []).catch(() => {})
  t.equal(await hung, undefined)
})

t.test('past its timeout a call rejects with timeout, and the callee’s signal aborts', async (t) => {
  const { caller, hung } = connected()
  const call = caller.call('hang', [], { timeout: 50 })
  const signal = await hung
  await t.rejects(call, { code: 'timeout', message: /^the test call took more than 50 ms/ })
  if (signal && !signal.aborted) await once(signal, 'abort')
  t.ok(signal?.aborted, 'the callee was told')
})

t.test('an aborted call rejects at once with aborted, and the callee’s signal aborts; an aborted signal sends nothing', async (t) => {
  const { caller, hung } = connected()
  const controller = new AbortController()
  const call = caller.call('hang', [], { signal: controller.signal })
  const signal = await hung
  controller.abort()
  await t.rejects(call, { code: 'aborted' })
  if (signal && !signal.aborted) await once(signal, 'abort')
  t.ok(signal?.aborted, 'the callee was told')
  await t.rejects(caller.call('echo', ['x'], { signal: AbortSignal.abort() }), { code: 'aborted' })
})

t.test('a port handed over moves to the callee', async (t) => {
  const { caller } = connected()
  const channel = new MessageChannel()
  const counted = caller.call('count', [channel.port1], { transfer: [channel.port1] })
  channel.port2.postMessage(7)
  t.equal(await counted, 7)
  channel.port2.close()
})

t.test('when the other side closes its port, pending and later calls reject with a ConnectionError', async (t) => {
  const { caller, port2, hung } = connected()
  const call = caller.call('hang', [])
  await hung
  const rejected = t.rejects(call, { code: 'connection', message: 'the test call failed: its actor stopped or its thread ended' })
  port2.close()
  await rejected
  t.ok(caller.closed)
  await t.rejects(caller.call('echo', ['x']), { code: 'connection' })
})

t.test('close() rejects pending calls with the error given', async (t) => {
  const { caller, hung } = connected()
  const call = caller.call('hang', [])
  await hung
  caller.close(new ConnectionError('the store stopped'))
  await t.rejects(call, { code: 'connection', message: 'the store stopped' })
  t.equal(caller.pending, 0)
})

t.test('when the thread holding the other end dies, pending calls reject instead of waiting for ever', async (t) => {
  const { port1, port2 } = new MessageChannel()
  // A thread that takes the port, never answers, and says when it has the call.
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads')
     workerData.port.on('message', () => parentPort.postMessage({ type: 'called' }))`,
    { eval: true, workerData: { port: port2 }, transferList: [port2] },
  )
  const caller = new Caller<Echo>(port1, 'the test call')
  const call = caller.call('echo', ['x'])
  await once(worker, 'message')
  const rejected = t.rejects(call, { code: 'connection' })
  await worker.terminate()
  await rejected
})
