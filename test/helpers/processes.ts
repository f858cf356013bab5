// Child processes for cross-process tests: spawn, wait for a line, collect output.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

export interface Child {
  process: ChildProcess
  lines: string[]
  waitFor(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>
  exited: Promise<number | null>
}

/** Runs a TypeScript file under test/ in a new Node process (with tsx), killed when the test ends. */
export function spawnScript(t: Test, relativePath: string, env: Record<string, string>, args: string[] = []): Child {
  const file = fileURLToPath(new URL(`../${relativePath}`, import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines: string[] = []
  const waiters = new Set<() => void>()
  let buffered = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    lines.push(...parts)
    for (const wake of waiters) wake()
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  return {
    process: child,
    lines,
    exited,
    waitFor(predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(predicate)
          if (found === undefined) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`${relativePath}: no matching line within ${timeoutMs} ms; got ${JSON.stringify(lines)}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
  }
}
