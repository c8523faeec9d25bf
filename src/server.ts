import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { createApp } from './app.ts'
import type { Config } from './config.ts'
import { openSqlite } from './db/sqlite.ts'
import type { Deps, LogFn } from './http/env.ts'
import { jsonLogger } from './log.ts'
import { prepareMock } from './mock/demo.ts'
import { syncUsers } from './mock/sync.ts'
import { nodeDeps } from './node-deps.ts'
import { type NotifierRunner, startNotifierRunner } from './notify/runner.ts'
import { createNotifier } from './notify/worker.ts'
import { sqliteClient, sqliteDatabaseProbe, sqliteMigrationsProbe } from './observe/node-probes.ts'
import { workerProbe } from './observe/probes.ts'
import { createPrometheusMetrics } from './observe/prometheus.ts'

/*
 * The gateway on Node, as a value: the `npm start` entry, the CLI and the in-process test helper
 * all start it through here, and stop it with `close()`.
 */

export interface StartOptions {
  /** Log sink; JSON lines on stdout at `config.logLevel` by default. */
  log?: LogFn
  /** Progress lines while the mock data is seeded (first start only). */
  onProgress?: (line: string) => void
  /** Days of demo history seeded on first start in mock mode (default 90; 0 for none). */
  mockSeedDays?: number | undefined
  /** How long `close()` waits for in-flight requests and deliveries before cutting them off. */
  shutdownTimeoutMs?: number
}

export interface RunningGateway {
  /** Where it listens, e.g. `http://127.0.0.1:8787`. */
  url: string
  port: number
  deps: Deps
  /** The webhook worker's runner (its `status()` feeds /readyz). */
  notifier: NotifierRunner
  /** The mock provider's start banner (credentials, demo users); `null` outside mock mode. */
  banner: string | null
  /**
   * Graceful stop: no new connections, in-flight requests and webhook sends finish (bounded by
   * `shutdownTimeoutMs`), then the database is closed. Safe to call more than once.
   */
  close(): Promise<void>
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 12_000

/**
 * The answer while the gateway prepares (migrations, mock seeding): alive for /healthz, so that a
 * liveness probe does not kill a first start that seeds data, and 503 for everything else.
 */
function startingUp(request: Request): Response {
  if (new URL(request.url).pathname === '/healthz') {
    return Response.json({ status: 'ok' }, { headers: { 'cache-control': 'no-store' } })
  }
  return new Response('starting up; try again in a moment\n', {
    status: 503,
    headers: { 'retry-after': '1', 'content-type': 'text/plain', 'cache-control': 'no-store' },
  })
}

/** The issuer `loadConfig` derives when ISSUER is unset. */
export function defaultIssuer(port: number): string {
  return `http://127.0.0.1:${port}`
}

/**
 * Opens the database (migrating it), listens, prepares the mock provider when `config.mock`, and
 * starts the webhook notifier. `config.port` 0 picks a free port (the issuer follows it unless
 * ISSUER was set). Until preparation is done every request is answered 503.
 */
export async function startGateway(
  config: Config,
  options: StartOptions = {},
): Promise<RunningGateway> {
  const log = options.log ?? jsonLogger(config.logLevel)
  const { db, close: closeDb } = openSqlite(config.databasePath)
  let closing: Promise<void> | undefined
  let notifier: NotifierRunner | undefined
  const client = sqliteClient(db)
  const { deps: base, settled } = nodeDeps(db, config, log)
  const deps: Deps = {
    ...base,
    remoteAddress: (c) => getConnInfo(c).remote.address,
    openapiYaml: readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8'),
    metrics: createPrometheusMetrics({ db, now: Date.now, log }),
    probes: {
      database: sqliteDatabaseProbe(client, config.databasePath),
      migrations: sqliteMigrationsProbe(client),
      worker: () =>
        notifier
          ? workerProbe(notifier.status, Date.now)()
          : {
              ok: false,
              detail: 'the webhook worker has not started yet',
              action: 'wait a moment',
            },
      shuttingDown: () => closing !== undefined,
    },
  }

  // The Node bindings (`env.incoming`) carry the peer address that getConnInfo reads.
  let appFetch: ((request: Request, env: unknown) => Response | Promise<Response>) | undefined
  const server = createAdaptorServer({
    fetch: (request: Request, env: unknown) =>
      appFetch ? appFetch(request, env) : startingUp(request),
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.port, config.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    closeDb()
    throw err
  }
  const port = (server.address() as AddressInfo).port
  if (config.port === 0 && config.issuer === defaultIssuer(0)) config.issuer = defaultIssuer(port)

  let syncTimer: ReturnType<typeof setInterval> | undefined
  let banner: string | null = null
  try {
    banner = config.mock
      ? await prepareMock(deps, options.onProgress, { days: options.mockSeedDays })
      : null
    // The webhook notifier runs in this process: kicked after each ingest, swept every few seconds.
    notifier = startNotifierRunner(deps, createNotifier(deps))
    deps.notifier = notifier
    // MOCK_SYNC_INTERVAL: the demo bands upload every N seconds, through the ingest path.
    if (config.mock && config.mockSyncIntervalSeconds > 0) {
      syncTimer = setInterval(() => {
        syncUsers(deps)
          .then((counts) => log('info', { msg: 'mock sync', ...counts }))
          .catch((err) => log('error', { msg: 'mock sync failed', error: String(err) }))
      }, config.mockSyncIntervalSeconds * 1000)
      syncTimer.unref()
    }
    appFetch = createApp(deps).fetch
  } catch (err) {
    server.close()
    closeDb()
    throw err
  }

  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`
  const runner = notifier
  const close = () => {
    closing ??= (async () => {
      const began = Date.now()
      clearInterval(syncTimer)
      // No new connections; idle keep-alive ones go now, busy ones when their response is sent.
      // From here /readyz answers 503 (probes.shuttingDown) for requests still arriving on open
      // connections, so a load balancer stops sending any.
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()))
      ;(server as { closeIdleConnections?: () => void }).closeIdleConnections?.()
      // No new claims from now on; deliveries in flight finish and are recorded. What is not
      // sent stays in the database for the next start. Requests finishing meanwhile may still
      // defer work (an ingest's kick), so the deferred set is drained until it stays empty.
      const drained = (async () => {
        await Promise.allSettled([serverClosed, runner.stop()])
        await settled()
      })()
      const timeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS
      let timer: ReturnType<typeof setTimeout> | undefined
      const timedOut = await Promise.race([
        drained.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), timeoutMs)
        }),
      ])
      clearTimeout(timer)
      if (timedOut) {
        log('warn', { msg: 'shutdown timed out; cutting open connections', timeout_ms: timeoutMs })
        ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
      }
      closeDb()
      log('info', { msg: 'stopped', clean: !timedOut, duration_ms: Date.now() - began })
    })()
    return closing
  }

  return { url, port, deps, notifier: runner, banner, close }
}
