import { type ChildProcess, spawn } from 'node:child_process'
import { parseArgs } from 'node:util'

/*
 * `npm run dev:worker`: the gateway on workerd with a local D1, as `npm start` is on Node —
 * migrations applied, the mock provider seeded and its banner printed, webhooks sent. wrangler dev
 * does not fire Cron Triggers by itself, so this script plays the cron (every minute, through
 * `--test-scheduled`'s /__scheduled) so that retries and swept deliveries go out as they would
 * on Cloudflare.
 */

const USAGE = `usage: npm run dev:worker -- [--port 8787] [--persist-to <dir>] [--cron-seconds 60]`

function options() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: process.env.PORT ?? '8787' },
        'persist-to': { type: 'string' },
        'cron-seconds': { type: 'string', default: '60' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (err) {
    console.error(`dev:worker: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
    process.exit(2)
  }
}

const values = options()
if (values.help) {
  console.log(`${USAGE}

Runs wrangler dev on 127.0.0.1:<port> with a local D1 (kept in .wrangler/state, or <dir>),
applies the migrations in drizzle/, seeds the mock provider on the first request and fires the
delivery cron every --cron-seconds.`)
  process.exit(0)
}
const cronSeconds = Number(values['cron-seconds'])
if (!Number.isFinite(cronSeconds) || cronSeconds < 0) {
  console.error(
    `dev:worker: --cron-seconds must be a number of seconds (0: no cron), not "${values['cron-seconds']}"`,
  )
  process.exit(2)
}
const port = Number(values.port)
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`dev:worker: --port must be a port number, not "${values.port}"`)
  process.exit(2)
}
const base = `http://127.0.0.1:${port}`
const persist = values['persist-to'] ? ['--persist-to', values['persist-to']] : []
const quiet = { ...process.env, WRANGLER_SEND_METRICS: 'false' }

function run(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['wrangler', ...args], { stdio: 'inherit', env: quiet })
    child.on('exit', (code) => resolve(code ?? 1))
  })
}

async function answers(path: string): Promise<boolean> {
  try {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(60_000) })
    await response.body?.cancel()
    return response.ok
  } catch {
    return false
  }
}

console.error('dev:worker: applying migrations to the local D1')
const migrated = await run(['d1', 'migrations', 'apply', 'DB', '--local', ...persist])
if (migrated !== 0) {
  console.error('dev:worker: `wrangler d1 migrations apply DB --local` failed (see above)')
  process.exit(1)
}

const dev: ChildProcess = spawn(
  'npx',
  [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--var',
    `ISSUER:${base}`,
    '--test-scheduled',
    '--show-interactive-dev-session=false',
    ...persist,
  ],
  // Its own process group: npx, wrangler and workerd are stopped together (a signal to npx alone
  // leaves wrangler running).
  { stdio: 'inherit', env: quiet, detached: true },
)
const stopDev = (signal: NodeJS.Signals) => {
  try {
    if (dev.pid !== undefined) process.kill(-dev.pid, signal)
  } catch {
    // already gone
  }
}
dev.on('exit', (code) => process.exit(code ?? 1))
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => stopDev(signal))
}

// The first request builds the isolate and, on an empty D1, seeds it (a few seconds); the banner
// with the credentials appears in wrangler's output above.
console.error(`dev:worker: waiting for ${base} (the first start seeds the mock data)`)
for (let i = 0; !(await answers('/.well-known/oauth-authorization-server')); i++) {
  if (i > 120) {
    console.error('dev:worker: wrangler dev did not answer within 2 minutes')
    stopDev('SIGTERM')
    process.exit(1)
  }
  await new Promise((resolve) => setTimeout(resolve, 1000))
}
console.error(`dev:worker: ready on ${base}`)

const cronMs = cronSeconds * 1000
if (cronMs > 0) {
  setInterval(() => {
    void answers('/__scheduled?cron=*+*+*+*+*')
  }, cronMs).unref()
}
