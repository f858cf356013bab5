// `npm test`: runs tap, then prints the line CI reads, "tap: N passed, N failed, N skipped",
// from tap's own closing summary ("# { total: 6, pass: 6 }"), keeping tap's exit code.
import { spawn } from 'node:child_process'

const child = spawn('npx', ['tap', ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'inherit'] })
let tail = ''
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  tail = (tail + chunk.toString()).slice(-4000)
})
child.on('close', (code, signal) => {
  const summary = [...tail.matchAll(/^# \{ (.*) \}$/gm)].at(-1)?.[1] ?? ''
  const count = (key) => Number(new RegExp(`\\b${key}: (\\d+)`).exec(summary)?.[1] ?? 0)
  const failed = count('fail') + (code !== 0 && count('fail') === 0 ? 1 : 0)
  console.log(`tap: ${count('pass')} passed, ${failed} failed, ${count('skip') + count('todo')} skipped`)
  process.exit(code ?? (signal ? 1 : 0))
})
