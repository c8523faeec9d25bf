import { readFileSync } from 'node:fs'
import { drizzle } from 'drizzle-orm/d1'
import { migrate } from 'drizzle-orm/d1/migrator'
import { getPlatformProxy } from 'wrangler'
import { MIGRATIONS_DIR } from '../../src/db/sqlite.ts'
import type { Deps } from '../../src/http/env.ts'
import { createWorker, type WorkerEnv, type WorkerOptions } from '../../src/workers/gateway.ts'
import { ADMIN_KEY, adminOver, ISSUER, type TestClock, type TestGateway } from '../helpers/app.ts'

/*
 * The Workers handlers (src/workers/gateway.ts) run in this Node process against a real local D1:
 * wrangler's getPlatformProxy starts workerd with the D1 binding of wrangler.toml (in memory), so
 * every query below goes through D1's own engine and limits (100 bound parameters, batch()).
 * Each `isolate()` is a separate gateway sharing that D1, as separate Workers isolates do.
 */

const OPENAPI = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')

export interface D1Harness {
  env: WorkerEnv
  /** A new isolate: its own app, deps and notifier, the shared D1. */
  isolate(options?: IsolateOptions): Promise<WorkerIsolate>
  dispose(): Promise<void>
}

export interface IsolateOptions {
  env?: Record<string, string>
  fetch?: typeof fetch
  /** `drop`: deferred work (the webhook kick) never runs, as when a runtime discards waitUntil. */
  deferred?: 'run' | 'drop'
}

export interface WorkerIsolate extends TestGateway {
  worker: ReturnType<typeof createWorker>
  workerEnv: WorkerEnv
  /** Deferred work started so far (kicks); `settle()` waits for all of it. */
  settle(): Promise<void>
  /** What the Cron Trigger runs, awaited. */
  cron(): Promise<void>
}

export async function startD1(clock: TestClock): Promise<D1Harness> {
  const proxy = await getPlatformProxy<WorkerEnv>({
    configPath: new URL('../../wrangler.toml', import.meta.url).pathname,
    persist: false,
  })
  // The same migrations as Node and as `wrangler d1 migrations apply`.
  await migrate(drizzle(proxy.env.DB as never), { migrationsFolder: MIGRATIONS_DIR })
  const base: WorkerEnv = {
    ...proxy.env,
    MOCK: '0',
    ISSUER,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
  }

  async function isolate(options: IsolateOptions = {}): Promise<WorkerIsolate> {
    const workerEnv: WorkerEnv = { ...base, ...options.env }
    const started: Promise<unknown>[] = []
    const logs: Record<string, unknown>[] = []
    const workerOptions: WorkerOptions = {
      waitUntil: (work) => {
        started.push(work)
      },
      now: clock.now,
      random: () => 0.5,
      log: (level, fields) => {
        logs.push({ level, ...fields })
      },
      passwordIterations: 1000,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.deferred === 'drop' ? { defer: () => {} } : {}),
    }
    const worker = createWorker(OPENAPI, workerOptions)
    const ctx = {
      waitUntil: (work: Promise<unknown>) => {
        started.push(work)
      },
      passThroughOnException: () => {},
      props: {},
    }
    const { deps, app } = await worker.boot(workerEnv)
    const fetch = async (url: string | URL | Request, init?: RequestInit) => {
      const request =
        url instanceof Request ? url : new Request(new URL(url.toString(), ISSUER), init)
      return worker.fetch(request, workerEnv, ctx as never)
    }
    return {
      app,
      deps: deps as Deps,
      clock,
      logs,
      fetch,
      admin: adminOver(fetch),
      close: () => {},
      worker,
      workerEnv,
      async settle() {
        while (started.length > 0) await Promise.all(started.splice(0))
      },
      cron: () => worker.cron(workerEnv),
    }
  }

  return { env: base, isolate, dispose: () => proxy.dispose() }
}
