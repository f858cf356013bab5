// Finds files shipped beside the code (sql/, workers/, package.json) both from the TypeScript sources
// (lib/…) and from the build (dist/lib/…), which sit at different depths.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
/** `.ts` when running from sources (tests), `.js` when running the build. */
export const moduleExtension = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

function findUp(relative: string): string {
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, relative)
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) throw new Error(`pg-eventstore: cannot find ${relative} above ${here}`)
  }
}

/** Absolute path of the package's `sql/` folder. */
export const sqlDir = join(findUp('sql/migrations'), '..')

/** The package's root folder (where package.json, sql/ and benchmarks/ are). */
export const packageRoot = join(sqlDir, '..')

/** The version in the package's package.json (`pg-eventstore --version`). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version
}

/** URL of a worker entry module, e.g. `workerUrl('reader_worker')`. */
export function workerUrl(name: string): URL {
  return pathToFileURL(join(here, '..', 'workers', `${name}${moduleExtension}`))
}
