import { readFileSync } from 'node:fs'
import { serve } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { createApp } from './app.ts'
import { ConfigError, loadConfig } from './config.ts'
import { openSqlite } from './db/sqlite.ts'
import type { Deps } from './http/env.ts'
import { jsonLogger } from './log.ts'
import { prepareMock } from './mock/demo.ts'
import { syncUsers } from './mock/sync.ts'
import { startNotifierRunner } from './notify/runner.ts'
import { createNotifier } from './notify/worker.ts'

try {
  const config = loadConfig(process.env)
  const { db, close } = openSqlite(config.databasePath)
  const log = jsonLogger(config.logLevel)
  const pending = new Set<Promise<unknown>>()
  const deps: Deps = {
    db,
    config,
    now: Date.now,
    random: Math.random,
    fetch: globalThis.fetch,
    defer: (work) => {
      const tracked = work.catch((err) =>
        log('error', { msg: 'deferred work failed', error: String(err) }),
      )
      pending.add(tracked)
      void tracked.finally(() => pending.delete(tracked))
    },
    log,
    remoteAddress: (c) => getConnInfo(c).remote.address,
    openapiYaml: readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8'),
  }
  // Seeding on first start takes a few seconds: show progress on one line of stderr.
  const banner = config.mock
    ? await prepareMock(deps, (line) => process.stderr.write(`\r${line}   `)).finally(() =>
        process.stderr.write('\n'),
      )
    : null
  // The webhook notifier runs in this process: kicked after each ingest, swept every few seconds.
  const notifier = startNotifierRunner(deps, createNotifier(deps))
  deps.notifier = notifier
  // MOCK_SYNC_INTERVAL: the demo bands upload every N seconds, through the ingest path.
  const syncTimer =
    config.mock && config.mockSyncIntervalSeconds > 0
      ? setInterval(() => {
          syncUsers(deps)
            .then((counts) => log('info', { msg: 'mock sync', ...counts }))
            .catch((err) => log('error', { msg: 'mock sync failed', error: String(err) }))
        }, config.mockSyncIntervalSeconds * 1000)
      : undefined
  syncTimer?.unref()
  const app = createApp(deps)
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    if (banner) console.log(banner)
    log('info', {
      msg: 'listening',
      url: `http://${info.address}:${info.port}`,
      issuer: config.issuer,
    })
  })
  const shutdown = (signal: string) => {
    log('info', { msg: 'shutting down', signal })
    clearInterval(syncTimer)
    // No new claims from now on; deliveries in flight finish and are recorded (at most the 10 s
    // request timeout). The rest stay in the database for the next start.
    const stopping = notifier.stop()
    server.close(() => {
      void Promise.allSettled([...pending, stopping]).then(() => {
        close()
        process.exit(0)
      })
    })
    setTimeout(() => process.exit(1), 15_000).unref()
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`partner-gateway: ${err.message}`)
    process.exit(78) // EX_CONFIG
  }
  throw err
}
