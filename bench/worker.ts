import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { FigureBenchmark } from './lib/benchmark.ts'
import { freePort } from './lib/ports.ts'

/*
 * The Workers build: the size of the bundle wrangler would upload (minified, then gzipped as
 * Cloudflare counts it) and the time from starting `wrangler dev` to the first answer, each as a
 * ratio to a hello-world Hono worker built and started the same way in the same run. Cold starts
 * are measured on a fresh local D1: in production mode (migrations applied, nothing to seed) and
 * in mock mode (the first request seeds 90 days of demo data, as `npm run dev:worker` does once).
 */

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const HELLO = fileURLToPath(new URL('./servers/hello-worker.ts', import.meta.url))
const ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false' }

function wrangler(args: string[], options: { quiet?: boolean } = {}): ChildProcess {
  return spawn('npx', ['wrangler', ...args], {
    cwd: ROOT,
    env: ENV,
    stdio: options.quiet ? 'ignore' : ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that stopping it stops wrangler and workerd too, not just npx.
    detached: true,
  })
}

function finished(child: ChildProcess, what: string): Promise<void> {
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  return new Promise((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${what} failed (${code}):\n${output}`)),
    )
  })
}

/** A wrangler config for the hello-world worker, in a temp dir. */
function helloConfig(dir: string): string {
  const path = join(dir, 'wrangler.toml')
  writeFileSync(path, `name = "hello"\nmain = "${HELLO}"\ncompatibility_date = "2025-09-01"\n`)
  return path
}

/**
 * The size of what would be uploaded (the bundle plus modules kept beside it, such as openapi.yaml
 * under the Text rule), minified, and gzipped as one stream, in KiB.
 */
async function bundleSize(
  config: string[],
  outdir: string,
): Promise<{ raw: number; gzip: number }> {
  await finished(
    wrangler(['deploy', '--dry-run', '--minify', '--outdir', outdir, ...config]),
    'wrangler deploy --dry-run',
  )
  const files = readdirSync(outdir).filter((f) => !f.endsWith('.map') && f !== 'README.md')
  if (!files.some((f) => f.endsWith('.js'))) throw new Error(`no bundle in ${outdir}`)
  const code = Buffer.concat(files.map((f) => readFileSync(join(outdir, f))))
  const raw = files.reduce((sum, f) => sum + statSync(join(outdir, f)).size, 0)
  return { raw: raw / 1024, gzip: gzipSync(code).length / 1024 }
}

/** Milliseconds from spawning `wrangler dev` to the first 2xx answer of `path`. */
async function coldStart(args: string[], path: string): Promise<number> {
  const port = await freePort()
  const started = performance.now()
  const child = wrangler(['dev', '--ip', '127.0.0.1', '--port', String(port), ...args], {
    quiet: true,
  })
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error('wrangler dev exited before answering')
      try {
        const response = await fetch(`http://127.0.0.1:${port}${path}`)
        await response.body?.cancel()
        if (response.ok) return performance.now() - started
      } catch {
        // not listening yet
      }
      if (performance.now() - started > 180_000) throw new Error('no answer within 3 minutes')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM')
    await exited
  }
}

const kib = (n: number) => `${n.toFixed(1)} KiB`
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

export const workerBuild: FigureBenchmark = {
  kind: 'figures',
  id: 'worker',
  name: 'workers bundle and cold start',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'pg-bench-worker-'))
    try {
      const hello = helloConfig(dir)
      const gatewaySize = await bundleSize([], join(dir, 'gateway-out'))
      const helloSize = await bundleSize(['--config', hello], join(dir, 'hello-out'))

      const helloMs = await coldStart(['--config', hello], '/')
      const production = join(dir, 'd1-production')
      await finished(
        wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', production]),
        'wrangler d1 migrations apply',
      )
      const productionMs = await coldStart(
        [
          '--persist-to',
          production,
          '--var',
          'MOCK:0',
          '--var',
          'ADMIN_API_KEY:bench-admin-key-0123456789abcdef',
        ],
        '/.well-known/oauth-authorization-server',
      )
      const mock = join(dir, 'd1-mock')
      await finished(
        wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', mock]),
        'wrangler d1 migrations apply',
      )
      const mockMs = await coldStart(
        ['--persist-to', mock],
        '/.well-known/oauth-authorization-server',
      )
      const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`
      return {
        lines: [
          `workers bundle (minified, gzip): ${kib(gatewaySize.gzip)} vs hello-world worker ${kib(helloSize.gzip)} = ${ratio(gatewaySize.gzip, helloSize.gzip)} (minified ${kib(gatewaySize.raw)} vs ${kib(helloSize.raw)}; Cloudflare allows 3 MiB gzip on the free plan, 10 MiB paid)`,
          `workers cold start (wrangler dev to first answer, production mode, migrated empty D1): ${seconds(productionMs)} vs hello-world worker ${seconds(helloMs)} = ${ratio(productionMs, helloMs)}`,
          `workers cold start (mock mode, first start seeds 90 days): ${seconds(mockMs)} vs hello-world worker ${seconds(helloMs)} = ${ratio(mockMs, helloMs)}`,
        ],
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
}
