// Where commands write: the Output interface, and the process's standard output as one. A
// reader may close it early (`pg-eventstore events '$all' | head -1`): the command then ends
// quietly with status 0, as Unix tools do, instead of dying of an unhandled EPIPE.

/** What a command writes to: the process's streams in use, strings in tests. */
export interface Output {
  write(text: string): void
  isTTY: boolean
  /** Aborts when the reader has gone (a closed pipe): following or watching then ends. */
  closed?: AbortSignal
}

/** Thrown by a write once the reader has gone: unwinds the command, which then ends with 0. */
export class OutputClosed extends Error {
  constructor() {
    super('standard output was closed by its reader')
    this.name = 'OutputClosed'
  }
}

export function standardOutput(): Output {
  const closed = new AbortController()
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    closed.abort()
  })
  return {
    isTTY: process.stdout.isTTY === true,
    closed: closed.signal,
    write: (text) => {
      if (closed.signal.aborted) throw new OutputClosed()
      process.stdout.write(text)
    },
  }
}
