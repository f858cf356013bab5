// Runs the command line (lib/cli/main.ts) as a user would, to its end: exit code and output.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const main = fileURLToPath(new URL('../../lib/cli/main.ts', import.meta.url))

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

export interface CliOptions {
  /** DATABASE_URL of the run; none by default. */
  databaseUrl?: string
  cwd?: string
  /** More modules for node to --import first. */
  imports?: string[]
}

export async function runCli(options: CliOptions, ...args: string[]): Promise<CliRun> {
  // tsx by its path: the run may be in a directory with no node_modules.
  const node = ['--import', import.meta.resolve('tsx'), ...(options.imports ?? []).flatMap((file) => ['--import', file])]
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...node, main, ...args], {
      env: { ...process.env, DATABASE_URL: options.databaseUrl ?? '' },
      cwd: options.cwd,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const { code, stdout, stderr } = error as CliRun
    return { code, stdout, stderr }
  }
}

/** The command line with no DATABASE_URL, in this directory. */
export const cli = (...args: string[]): Promise<CliRun> => runCli({}, ...args)
