import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { shippedMigrations, sqliteClient } from '../../src/observe/node-probes.ts'
import { ADMIN_KEY, createTestGateway } from '../helpers/app.ts'
import { expectResponseMatchesSpec } from '../helpers/openapi.ts'
import { type NodeGateway, startNodeGateway } from './node-gateway.ts'

/*
 * /healthz and /readyz on the real Node wiring (src/server.ts), and each way readiness fails for
 * real: the database file removed, the database read-only, a migration missing, the webhook
 * worker stopped, a shutdown begun.
 */

let running: NodeGateway | undefined
afterEach(async () => {
  await running?.dispose()
  running = undefined
})

async function readyz(gw: NodeGateway) {
  const response = await gw.get('/readyz')
  const body = await expectResponseMatchesSpec('GET', '/readyz', response.clone())
  return { response, body: body as Record<string, unknown> }
}

const MIGRATIONS = shippedMigrations()

const healthyChecks = (databasePath: string) => [
  {
    name: 'database',
    status: 'ok',
    detail: `${databasePath} answers queries and accepts writes`,
  },
  { name: 'migrations', status: 'ok', detail: `all ${MIGRATIONS.length} migrations applied` },
  { name: 'worker', status: 'ok', detail: expect.stringMatching(/^running, last run \d+ s ago$/) },
]

describe('GET /healthz', () => {
  it('answers 200 {"status":"ok"} without credentials, with a request id', async () => {
    running = await startNodeGateway()
    const response = await running.get('/healthz')
    expect(response.status).toBe(200)
    expect(await expectResponseMatchesSpec('GET', '/healthz', response.clone())).toStrictEqual({
      status: 'ok',
    })
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(response.headers.get('cache-control')).toBe('no-store')
  })
})

describe('GET /readyz', () => {
  it('is ready when the database, its migrations and the worker are', async () => {
    running = await startNodeGateway()
    const { response, body } = await readyz(running)
    expect(response.status).toBe(200)
    expect(body).toStrictEqual({ status: 'ready', checks: healthyChecks(running.databasePath) })
  })

  it('answers 503 naming the database when its file was removed (queries still succeed)', async () => {
    running = await startNodeGateway()
    const gw = running
    rmSync(gw.databasePath)
    // The open descriptor keeps the unlinked file working: a plain query cannot tell.
    expect(sqliteClient(gw.gateway.deps.db).prepare('select 1 as one').get()).toStrictEqual({
      one: 1,
    })
    const { response, body } = await readyz(gw)
    expect(response.status).toBe(503)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    const database = {
      name: 'database',
      status: 'fail',
      detail: `the database file ${gw.databasePath} was removed while the gateway runs: what it writes now is lost when it stops`,
      action:
        'stop sending traffic here; restore the file from a backup (or accept a new empty one) and restart the gateway',
    }
    expect(body).toStrictEqual({
      type: 'about:blank',
      title: 'Not Ready',
      status: 503,
      detail: `Not ready: database: ${database.detail} (${database.action}).`,
      checks: [database, ...healthyChecks(gw.databasePath).slice(1)],
      request_id: response.headers.get('x-request-id'),
    })
  })

  it('answers 503 when the file was replaced by another one', async () => {
    running = await startNodeGateway()
    const gw = running
    renameSync(gw.databasePath, `${gw.databasePath}.old`)
    writeFileSync(gw.databasePath, '')
    const { response, body } = await readyz(gw)
    expect(response.status).toBe(503)
    expect((body.checks as unknown[])[0]).toMatchObject({
      name: 'database',
      status: 'fail',
      detail: `the database file ${gw.databasePath} was replaced by another file while the gateway runs: the gateway still writes to the old one`,
    })
  })

  it('answers 503 naming the database when it is read-only', async () => {
    running = await startNodeGateway()
    const gw = running
    // Tests run as root in CI, and root ignores file permissions (chmod 444 changes nothing for
    // it), nor can a test mount a read-only filesystem. So the database is made read-only where
    // SQLite itself enforces it, for any user: `PRAGMA query_only` on the gateway's own
    // connection. Every write the gateway tries then fails with SQLITE_READONLY, exactly the
    // error a read-only mount gives (shown below by a real ingest failing).
    sqliteClient(gw.gateway.deps.db).pragma('query_only = ON')
    const created = await fetch(`${gw.url}/admin/v1/users`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${gw.gateway.deps.config.adminApiKey as string}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ email: 'ro@example.test', timezone: 'UTC' }),
    })
    expect(created.status).toBe(500)
    const { response, body } = await readyz(gw)
    expect(response.status).toBe(503)
    expect((body.checks as unknown[])[0]).toStrictEqual({
      name: 'database',
      status: 'fail',
      detail: 'the database refuses writes (attempt to write a readonly database)',
      action:
        "make the database file, its directory and its -wal/-shm files writable by the gateway's user (check for a read-only mount or a full disk), then restart the gateway",
    })
    expect(body.detail).toMatch(/^Not ready: database: the database refuses writes/)

    sqliteClient(gw.gateway.deps.db).pragma('query_only = OFF')
    expect((await readyz(gw)).response.status).toBe(200)
  })

  it('answers 503 naming the migrations when one is not applied', async () => {
    running = await startNodeGateway()
    const gw = running
    // As if the database came from the previous release: the newest migration is not applied.
    sqliteClient(gw.gateway.deps.db).exec(
      'delete from __drizzle_migrations where created_at = (select max(created_at) from __drizzle_migrations)',
    )
    const { response, body } = await readyz(gw)
    expect(response.status).toBe(503)
    expect(body.detail).toBe(
      `Not ready: migrations: 1 of ${MIGRATIONS.length} migrations not applied (${MIGRATIONS.at(-1)?.tag}) (start (or restart) the gateway: it applies pending migrations at start-up).`,
    )
  })

  it('answers 503 naming the worker when it has stopped', async () => {
    running = await startNodeGateway()
    const gw = running
    await gw.gateway.notifier.stop()
    const { response, body } = await readyz(gw)
    expect(response.status).toBe(503)
    expect(body.checks).toStrictEqual([
      ...healthyChecks(gw.databasePath).slice(0, 2),
      {
        name: 'worker',
        status: 'fail',
        detail: 'the webhook worker is stopped',
        action: 'restart the gateway (the worker stops only when the gateway shuts down)',
      },
    ])
  })

  it('reports the shutdown as soon as it begins, while the work in flight drains', async () => {
    running = await startNodeGateway()
    const gw = running
    expect(gw.gateway.deps.probes?.shuttingDown?.()).toBe(false)
    const closed = gw.gateway.close()
    expect(gw.gateway.deps.probes?.shuttingDown?.()).toBe(true)
    await closed
    expect(gw.logs.at(-1)).toMatchObject({ level: 'info', msg: 'stopped', clean: true })
  })
})

describe('on a runtime without the Node probes and metrics (as Workers)', () => {
  const gw = createTestGateway()
  afterEach(() => {})

  it('checks only the database, and /metrics says it is not served here', async () => {
    const response = await gw.fetch('/readyz')
    expect(await expectResponseMatchesSpec('GET', '/readyz', response)).toStrictEqual({
      status: 'ready',
      checks: [{ name: 'database', status: 'ok', detail: 'answers queries' }],
    })
    const metrics = await gw.fetch('/metrics', {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    })
    expect(metrics.status).toBe(501)
    expect(await expectResponseMatchesSpec('GET', '/metrics', metrics)).toStrictEqual({
      type: 'about:blank',
      title: 'Not Implemented',
      status: 501,
      detail:
        "Prometheus metrics are served by the Node runtime only. On this runtime, use GET /admin/v1/diagnostics for the notifier's state, and the platform's analytics for request rates.",
      request_id: metrics.headers.get('x-request-id'),
    })
    const unauthorized = await gw.fetch('/metrics')
    expect(unauthorized.status).toBe(401)
    await expectResponseMatchesSpec('GET', '/metrics', unauthorized)
  })
})
