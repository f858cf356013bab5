// A lock between processes on one machine: whoever creates the directory holds it. A lock
// left by a dead process is taken over (renamed away first, so only one taker wins).
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export async function withDirLock<T>(lockDir: string, work: () => Promise<T>, waitMs = 120_000): Promise<T> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      await mkdir(lockDir)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const owner = Number(await readFile(`${lockDir}/pid`, 'utf8').catch(() => 'NaN'))
    if (Number.isInteger(owner) && !isAlive(owner)) {
      const stale = `${lockDir}.stale-${process.pid}-${Date.now()}`
      if (await rename(lockDir, stale).then(() => true, () => false)) await rm(stale, { recursive: true, force: true })
      continue
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir} (held by pid ${owner})`)
    await sleep(50)
  }
  try {
    await writeFile(`${lockDir}/pid`, String(process.pid))
    return await work()
  } finally {
    await rm(lockDir, { recursive: true, force: true })
  }
}
