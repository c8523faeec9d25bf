import type {
  D1Database,
  ExecutionContext,
  ScheduledController,
} from '@cloudflare/workers-types/index.ts'
import { drizzle } from 'drizzle-orm/d1'
import { createApp } from '../app.ts'
import { type Config, loadConfig } from '../config.ts'
import { databaseRateLimiter, expireRateLimitWindows } from '../data/rate-limit.ts'
import { type Db, schema } from '../db/index.ts'
import type { Deps } from '../http/env.ts'
import { jsonLogger } from '../log.ts'
import { prepareMock } from '../mock/demo.ts'
import { syncUsers } from '../mock/sync.ts'
import { createNotifier } from '../notify/worker.ts'
import { workerProbes } from './probes.ts'

/*
 * The gateway as a Workers module (fetch + scheduled handlers) on D1. Everything an isolate keeps
 * between requests is derived from the bindings; whatever matters lives in D1, so isolates come
 * and go freely and any number run at once:
 *
 * - the webhook notifier is created fresh for each kick and each cron run (never an isolate-wide
 *   pump: a promise started inside one request cannot be awaited by a later one once that request
 *   is gone), and the database leases keep concurrent ones apart;
 * - an ingest's outbox rows are committed with its data; the kick that sends them right away runs
 *   under `waitUntil`, and if the runtime drops it, the cron's sweep sends them within a minute;
 * - rate limits are counted in D1 (see rate-limit.ts for why not the rate-limiting binding).
 *
 * Kept free of `cloudflare:*` imports (src/worker.ts supplies `waitUntil`) so that tests can run
 * these handlers in Node against a real local D1.
 */

/** The bindings and variables wrangler.toml declares (plus secrets such as ADMIN_API_KEY). */
export interface WorkerEnv {
  DB: D1Database
  [variable: string]: unknown
}

export interface WorkerOptions {
  /** Keeps work alive after the response; `cloudflare:workers`' `waitUntil` in production. */
  waitUntil: (work: Promise<unknown>) => void
  /** Test seams; production uses the real clock, randomness and network. */
  now?: () => number
  random?: () => number
  fetch?: typeof fetch
  log?: Deps['log']
  passwordIterations?: number
  /** Replaces `waitUntil` for deferred work: tests use one that never runs it. */
  defer?: Deps['defer']
}

export interface WorkerGateway {
  deps: Deps
  app: ReturnType<typeof createApp>
  /** Mock mode: the demo client, users and data are in place (the first request waits for it). */
  ready: Promise<string | null>
}

/** String variables only: bindings (DB) and anything else are not configuration. */
function variables(env: WorkerEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string') out[name] = value
  return out
}

function buildGateway(env: WorkerEnv, openapiYaml: string, options: WorkerOptions): WorkerGateway {
  const config: Config = loadConfig(variables(env), { runtime: 'workers' })
  const log = options.log ?? jsonLogger(config.logLevel)
  const db = drizzle(env.DB as never, { schema }) as unknown as Db
  const deps: Deps = {
    db,
    config,
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    // Called through a wrapper: a detached `fetch` loses its binding on workerd.
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    defer:
      options.defer ??
      ((work) =>
        options.waitUntil(
          work().catch((err) => log('error', { msg: 'deferred work failed', error: String(err) })),
        )),
    log,
    remoteAddress: (c) => c.req.header('cf-connecting-ip'),
    openapiYaml,
    rateLimiter: databaseRateLimiter(db),
    probes: workerProbes(db),
    notifier: {
      kick: () => {
        const notifier = createNotifier(deps)
        return notifier.kick().then(() => notifier.drain())
      },
    },
    ...(options.passwordIterations ? { passwordIterations: options.passwordIterations } : {}),
  }
  const ready = config.mock ? prepareMock(deps) : Promise.resolve(null)
  // A failed preparation is retried by the next request rather than cached.
  return { deps, app: createApp(deps), ready }
}

/**
 * The fetch and scheduled handlers. `openapiYaml` is the spec text (bundled by wrangler's Text
 * rule in src/worker.ts).
 */
export function createWorker(openapiYaml: string, options: WorkerOptions) {
  let gateway: WorkerGateway | undefined

  /** One gateway per isolate (per `env`), built on first use. */
  async function boot(env: WorkerEnv): Promise<WorkerGateway> {
    if (!gateway) {
      gateway = buildGateway(env, openapiYaml, options)
      const banner = await gateway.ready.catch((err: unknown) => {
        gateway = undefined
        throw err
      })
      // Mock mode: the credentials, as `npm start` prints them (wrangler shows worker logs).
      if (banner) console.log(banner)
    }
    await gateway.ready
    return gateway
  }

  /**
   * The cron: takes back deliveries whose worker vanished, sends everything due (retries, and
   * events whose kick was dropped), expires old rate-limit windows and, in mock mode with
   * MOCK_SYNC_INTERVAL, lets the demo bands upload.
   */
  async function cron(env: WorkerEnv): Promise<void> {
    const { deps } = await boot(env)
    const notifier = createNotifier(deps)
    await notifier.sweep()
    await notifier.drain()
    await expireRateLimitWindows(deps.db, deps.now())
    if (deps.config.mock && deps.config.mockSyncIntervalSeconds > 0) {
      // Its webhooks go out through the ingest path's own kick.
      const counts = await syncUsers(deps)
      deps.log('info', { msg: 'mock sync', ...counts })
    }
  }

  return {
    boot,
    cron,
    async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
      const { app } = await boot(env)
      return app.fetch(request, env, ctx as never)
    },
    async scheduled(
      _controller: ScheduledController,
      env: WorkerEnv,
      ctx: ExecutionContext,
    ): Promise<void> {
      ctx.waitUntil(
        cron(env).catch((err: unknown) => {
          console.error(JSON.stringify({ level: 'error', msg: 'cron failed', error: String(err) }))
        }),
      )
    },
  }
}
