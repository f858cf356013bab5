// Every ```ts block of README.md compiles under `strict`, against this repository's lib/.
// - Each block is a module of its own, so blocks may reuse names; all are compiled in one
//   program, with test/package/subscriber_types.ts (what must not compile, as @ts-expect-error).
// - Names the README uses without defining them (`store`, `sendEmail`, …) are declared once, in
//   PREAMBLE, as globals; a block's own imports and declarations shadow them.
// - A block fenced ```ts signature shows a call's shape (`opts?`, `count = 1000`): not code,
//   not compiled. Blocks in other languages (js, sh) are not compiled either.
// - `pg-eventstore` resolves to lib/index.ts, where a user's import would find the package.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const typesTest = fileURLToPath(new URL('./subscriber_types.ts', import.meta.url))

// A script, not a module: its declarations are globals, and it may declare a module.
const PREAMBLE = `
// What the Quick start imports and starts.
declare const EventStore: typeof import('pg-eventstore').EventStore
declare const WrongExpectedVersionError: typeof import('pg-eventstore').WrongExpectedVersionError
declare const store: import('pg-eventstore').EventStore
// The reader's own.
declare const request: Request
declare const signal: AbortSignal
declare const subscriber: import('pg-eventstore').Subscriber
declare const handler: (event: import('pg-eventstore').RecordedEvent) => void
declare const state: unknown
declare const url: string
declare const os: typeof import('node:os')
declare const log: import('pg-eventstore').Logger
declare function sendEmail(event: import('pg-eventstore').RecordedEvent): Promise<void>
declare function saveTotal(orderId: string, total: number): Promise<void>
declare function alert(report: import('pg-eventstore').StoreReport): void
declare function pino(): import('pg-eventstore').Logger
// A package this repository doesn't install.
declare module '@opentelemetry/sdk-node' {
  export class NodeSDK {
    constructor(configuration: object)
    start(): void
  }
}
`

interface Block {
  /** README line of the block's first line of code. */
  line: number
  code: string
}

function tsBlocks(markdown: string): Block[] {
  const blocks: Block[] = []
  for (const match of markdown.matchAll(/^```(\S*)(.*)\n([\s\S]*?)^```$/gm)) {
    const [, language, rest, code] = match
    if (language !== 'ts' || rest?.trim() === 'signature' || code === undefined) continue
    blocks.push({ line: markdown.slice(0, match.index).split('\n').length + 1, code })
  }
  return blocks
}

const blocks = tsBlocks(readFileSync(join(repo, 'README.md'), 'utf8'))
const dir = mkdtempSync(join(tmpdir(), 'readme-examples-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const fileOf = (block: Block) => join(dir, `readme_line_${block.line}.ts`)
writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
writeFileSync(join(dir, 'preamble.d.ts'), PREAMBLE)
// `export {}` makes a block without imports a module too (top-level await, names of its own).
for (const block of blocks) writeFileSync(fileOf(block), `${block.code}export {}\n`)
const config = {
  compilerOptions: {
    strict: true,
    target: 'ES2022',
    lib: ['ES2024'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    types: ['node'],
    typeRoots: [join(repo, 'node_modules/@types')],
    skipLibCheck: true,
    noEmit: true,
    paths: { 'pg-eventstore': [join(repo, 'lib/index.ts')] },
  },
  files: ['preamble.d.ts', ...blocks.map(fileOf), typesTest],
}
writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2))

const parsed = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), undefined, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => t.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
})
if (!parsed) throw new Error('tsconfig.json could not be read')
const blockOf = new Map(blocks.map((block) => [fileOf(block), block]))

/** The diagnostics of each file, as `file:line: message`, with README lines for the blocks. */
const errors = new Map<string, string[]>()
for (const diagnostic of ts.getPreEmitDiagnostics(ts.createProgram(parsed.fileNames, parsed.options))) {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
  const file = diagnostic.file?.fileName ?? ''
  const line = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line : 0
  const block = blockOf.get(file)
  errors.set(file, [...(errors.get(file) ?? []), block ? `README.md:${block.line + line}: ${message}` : `${file}:${line + 1}: ${message}`])
}
/** Takes a file's errors out of the map, so that what is left is somewhere else. */
const take = (file: string) => {
  const found = errors.get(file) ?? []
  errors.delete(file)
  return found
}

t.ok(blocks.length > 0, `README.md has ts blocks (${blocks.length})`)
for (const block of blocks) t.same(take(fileOf(block)), [], `README.md:${block.line} compiles`)
t.same(take(typesTest), [], 'test/package/subscriber_types.ts compiles: each @ts-expect-error line is an error')
t.same([...errors.values()].flat(), [], 'nothing else fails (the preamble, lib/)')
