// Imports run one way: a layer imports only from layers below it, lib/ never from workers/,
// and no module of lib/ or workers/ reaches itself again through its imports.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * The layers of lib/, lowest first. A module belongs to a unit: its folder under lib/, or
 * itself when it sits in lib/ directly. Units of the base layer are plain modules that
 * depend on nothing of the store, and may import one another; elsewhere a unit imports only
 * from itself and from units of lower layers: so lib/storage/, the one place that talks to
 * PostgreSQL, imports nothing of lib/ but the base modules.
 */
const layers: { name: string; units: string[] }[] = [
  {
    name: 'base',
    units: [
      'lib/actors',
      'lib/config.ts',
      'lib/embedded',
      'lib/errors.ts',
      'lib/expected_version.ts',
      'lib/filter.ts',
      'lib/json.ts',
      'lib/jsonb_key_order.ts',
      'lib/package_files.ts',
      'lib/reports.ts',
      'lib/serializer.ts',
      'lib/types.ts',
      'lib/upcasting.ts',
      'lib/uuid_v7.ts',
      'lib/validation.ts',
    ],
  },
  { name: 'storage', units: ['lib/storage'] },
  { name: 'signals', units: ['lib/locks', 'lib/notifications', 'lib/observability'] },
  { name: 'services', units: ['lib/projections', 'lib/readers', 'lib/snapshots', 'lib/subscriptions', 'lib/writer'] },
  { name: 'store', units: ['lib/store'] },
  { name: 'facade', units: ['lib/event_store.ts'] },
  { name: 'admin', units: ['lib/admin'] },
  { name: 'entry points', units: ['lib/cli', 'lib/index.ts'] },
]

interface Import {
  from: string
  to: string
  typeOnly: boolean
}

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"](\.[^'"]+)['"]/gm

/** The relative imports of a module, as paths from the repository root. */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(root, file), 'utf8')
  return [...text.matchAll(IMPORT)].map((match) => {
    const target = posix.normalize(posix.join(posix.dirname(file), match[2] as string)).replace(/\.js$/, '.ts')
    // `import { type A, type B }` is type-only too.
    const named = /\{([^}]*)\}/.exec(match[0])?.[1]
    const allTypes = named !== undefined && !/^\s*(import|export)\s+[^{]*,/.test(match[0]) && named.split(',').every((name) => name.trim() === '' || /^type\s/.test(name.trim()))
    return { from: file, to: target, typeOnly: match[1] !== undefined || allTypes }
  })
}

function unitOf(file: string): string | null {
  for (const layer of layers) {
    for (const unit of layer.units) if (file === unit || file.startsWith(`${unit}/`)) return unit
  }
  return null
}

const layerOf = (unit: string): number => layers.findIndex((layer) => layer.units.includes(unit))

const files = [...sources('lib'), ...sources('workers')]
const imports = files.flatMap(importsOf)

t.test('every module of lib/ has a layer', async (t) => {
  t.same(
    files.filter((file) => file.startsWith('lib/') && unitOf(file) === null),
    [],
    'add new folders and top-level modules to the layers above',
  )
})

t.test('lib/ never imports from workers/', async (t) => {
  const wrong = imports.filter((i) => i.from.startsWith('lib/') && i.to.startsWith('workers/'))
  t.same(wrong.map((i) => `${i.from} -> ${i.to}`), [])
})

t.test('each layer of lib/ imports only from the layers below it', async (t) => {
  const wrong = imports.filter((i) => {
    if (!i.from.startsWith('lib/') || !i.to.startsWith('lib/')) return false
    const from = unitOf(i.from)
    const to = unitOf(i.to)
    if (from === null || to === null || from === to) return false
    const [a, b] = [layerOf(from), layerOf(to)]
    return b > a || (b === a && layers[a]?.name !== 'base')
  })
  t.same(
    wrong.map((i) => `${i.from} (${layers[layerOf(unitOf(i.from) as string)]?.name}) -> ${i.to} (${layers[layerOf(unitOf(i.to) as string)]?.name})`),
    [],
  )
})

t.test('no import cycles among the modules of lib/ and workers/', async (t) => {
  // Type-only imports are left out: they are erased before anything runs, so they cannot
  // change the order modules load in (subscriptions/handle.ts and subscriber.ts name each
  // other's types).
  const graph = new Map<string, string[]>()
  for (const i of imports) if (!i.typeOnly) graph.set(i.from, [...(graph.get(i.from) ?? []), i.to])
  const cycles: string[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const path: string[] = []
  const visit = (file: string): void => {
    state.set(file, 'visiting')
    path.push(file)
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'visiting') cycles.push([...path.slice(path.indexOf(next)), next].map((f) => relative('.', f)).join(' -> '))
      else if (!state.has(next)) visit(next)
    }
    path.pop()
    state.set(file, 'done')
  }
  for (const file of files) if (!state.has(file)) visit(file)
  t.same(cycles, [])
})
