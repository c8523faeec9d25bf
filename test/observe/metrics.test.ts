import { afterAll, describe, expect, it } from 'vitest'
import { stripSamples } from '../../src/data/models/index.ts'
import { openSqlite } from '../../src/db/sqlite.ts'
import { sqliteClient } from '../../src/observe/node-probes.ts'
import { createPrometheusMetrics } from '../../src/observe/prometheus.ts'
import { sleepAt } from '../helpers/data.ts'
import { expectResponseMatchesSpec } from '../helpers/openapi.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'
import { adminClient, connectOverHttp } from '../notify/child-gateway.ts'
import { NODE_ADMIN_KEY, type NodeGateway, startNodeGateway } from './node-gateway.ts'
import { type MetricFamily, parseExposition, sampleValue } from './prom-text.ts'

/*
 * /metrics on the real Node wiring, driven over HTTP like production traffic: OAuth, refresh,
 * ingest, pulls, two webhook endpoints that fail (503, and 410 Gone). The exposition must parse
 * strictly; the counters must say exactly what happened; the database-derived gauges must agree
 * with the database; and they must move when an endpoint starts failing.
 */

const REDIRECT_URI = 'https://terra.example.test/callback'

let gw: NodeGateway
let failing: Receiver
let gone: Receiver
afterAll(async () => {
  await gw?.dispose()
  await failing?.close()
  await gone?.close()
})

async function scrape(): Promise<Map<string, MetricFamily>> {
  const response = await gw.get('/metrics', { admin: true })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  await expectResponseMatchesSpec('GET', '/metrics', response.clone())
  return parseExposition(await response.text())
}

function form(fields: Record<string, string>, client: { id: string; secret: string }) {
  return {
    method: 'POST',
    headers: {
      authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(fields).toString(),
  }
}

describe('GET /metrics', () => {
  it('counts what happened, reads the backlog from the database, and moves when an endpoint fails', {
    timeout: 60_000,
  }, async () => {
    failing = await startReceiver()
    failing.setDefault(503)
    gone = await startReceiver()
    gone.setDefault(410)
    gw = await startNodeGateway()
    const admin = adminClient(gw.url, NODE_ADMIN_KEY)
    const sqlite = sqliteClient(gw.gateway.deps.db)

    const clients: { id: string; secret: string }[] = []
    for (const [name, rx] of [
      ['Terra', failing],
      ['Other', gone],
    ] as const) {
      const created = await admin('/clients', {
        method: 'POST',
        json: { name, redirect_uris: [REDIRECT_URI], webhook_url: rx.url },
      })
      expect(created.status).toBe(201)
      clients.push({
        id: created.body.client_id as string,
        secret: created.body.client_secret as string,
      })
    }
    const [terra, other] = clients as [(typeof clients)[0], (typeof clients)[0]]
    const user = await admin('/users', {
      method: 'POST',
      json: { email: 'metrics@example.test', password: 'a long enough password', timezone: 'UTC' },
    })
    const userId = user.body.user_id as string
    const login = { email: 'metrics@example.test', password: 'a long enough password' }
    const tokens = await connectOverHttp(
      gw.url,
      { clientId: terra.id, clientSecret: terra.secret, redirectUri: REDIRECT_URI },
      login,
    )
    await connectOverHttp(
      gw.url,
      { clientId: other.id, clientSecret: other.secret, redirectUri: REDIRECT_URI },
      login,
    )

    const before = await scrape()
    expect(sampleValue(before, 'partner_gateway_webhook_endpoints_disabled')).toBe(0)
    expect(sampleValue(before, 'partner_gateway_webhook_delivery_attempts_total')).toBeUndefined()
    expect(
      before.get('partner_gateway_webhook_delivery_attempts_total')?.samples ?? [],
    ).toStrictEqual([])

    // Token endpoint: a refresh, a bad refresh, a grant type we do not support.
    const token = (fields: Record<string, string>) =>
      fetch(`${gw.url}/oauth/token`, form(fields, terra))
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
    })
    expect(refreshed.status).toBe(200)
    expect((await token({ grant_type: 'refresh_token', refresh_token: 'nope' })).status).toBe(400)
    expect((await token({ grant_type: 'client_credentials' })).status).toBe(400)

    // Ingest: 3 new, the same 3 again, one of them changed, then a batch the model refuses.
    const records = ['m-1', 'm-2', 'm-3'].map((id, i) =>
      stripSamples(sleepAt(id, `2026-02-0${i + 1}T23:00:00Z`)),
    )
    const put = (data: unknown[]) =>
      admin(`/users/${userId}/sleep`, { method: 'PUT', json: { data } })
    expect((await put(records)).body).toMatchObject({ inserted: 3 })
    expect((await put(records)).body).toMatchObject({ unchanged: 3 })
    const changed = structuredClone(records)
    const metadata = (changed[0] as { metadata: { upload_type: number } }).metadata
    metadata.upload_type = metadata.upload_type === 1 ? 2 : 1
    expect((await put(changed)).body).toMatchObject({ updated: 1, unchanged: 2 })
    expect((await put([{ metadata: {} }])).status).toBe(422)

    // A pull, an unknown path, an admin path without the key.
    const pulled = await fetch(`${gw.url}/v1/sleep?start_date=2026-02-01&end_date=2026-02-05`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    expect(pulled.status).toBe(200)
    expect((await fetch(`${gw.url}/nowhere/${userId}`)).status).toBe(404)
    expect((await fetch(`${gw.url}/admin/v1/users/${userId}`)).status).toBe(401)

    // Both receivers have answered and the gateway has recorded it all.
    await failing.waitFor(1, 20_000)
    await gone.waitFor(1, 20_000)
    const open = () =>
      (
        sqlite
          .prepare(
            "select (select count(*) from outbox) + (select count(*) from deliveries where status = 'delivering') as n",
          )
          .get() as { n: number }
      ).n
    const deadline = Date.now() + 20_000
    while (open() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(open()).toBe(0)

    const after = await scrape()
    const value = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels)

    expect(
      value('partner_gateway_token_grants_total', {
        grant_type: 'authorization_code',
        outcome: 'issued',
      }),
    ).toBe(2)
    expect(
      value('partner_gateway_token_grants_total', {
        grant_type: 'refresh_token',
        outcome: 'issued',
      }),
    ).toBe(1)
    expect(
      value('partner_gateway_token_grants_total', {
        grant_type: 'refresh_token',
        outcome: 'invalid_grant',
      }),
    ).toBe(1)
    expect(
      value('partner_gateway_token_grants_total', {
        grant_type: 'other',
        outcome: 'unsupported_grant_type',
      }),
    ).toBe(1)
    expect(after.get('partner_gateway_token_grants_total')?.samples).toHaveLength(4)

    expect(
      Object.fromEntries(
        (after.get('partner_gateway_ingest_records_total')?.samples ?? []).map((s) => [
          `${s.labels.type}/${s.labels.outcome}`,
          s.value,
        ]),
      ),
    ).toStrictEqual({
      'sleep/inserted': 3,
      'sleep/unchanged': 5,
      'sleep/updated': 1,
      'sleep/rejected': 1,
    })

    const ingestRoute = { method: 'PUT', route: '/admin/v1/users/:userId/:type' }
    expect(value('partner_gateway_http_requests_total', { ...ingestRoute, status: '200' })).toBe(3)
    expect(value('partner_gateway_http_requests_total', { ...ingestRoute, status: '422' })).toBe(1)
    expect(
      value('partner_gateway_http_request_duration_seconds_count', {
        ...ingestRoute,
        status: '200',
      }),
    ).toBe(3)
    expect(
      value('partner_gateway_http_requests_total', {
        method: 'GET',
        route: 'unmatched',
        status: '404',
      }),
    ).toBe(1)
    // Refused by the key check before its handler ran: still counted under the route's pattern.
    expect(
      value('partner_gateway_http_requests_total', {
        method: 'GET',
        route: '/admin/v1/users/:id',
        status: '401',
      }),
    ).toBe(1)
    expect(
      value('partner_gateway_http_requests_total', {
        method: 'GET',
        route: '/v1/sleep',
        status: '200',
      }),
    ).toBe(1)
    // Route patterns only: no id ever becomes a label value.
    const labelValues = [...after.values()].flatMap((f) =>
      f.samples.flatMap((s) => Object.values(s.labels)),
    )
    for (const id of [userId, terra.id, other.id]) {
      expect(labelValues.filter((v) => v.includes(id))).toStrictEqual([])
    }

    // The failing endpoints, as counters and as gauges that agree with the database.
    expect(value('partner_gateway_webhook_delivery_attempts_total', { outcome: 'http_5xx' })).toBe(
      failing.requests.length,
    )
    expect(value('partner_gateway_webhook_delivery_attempts_total', { outcome: 'gone' })).toBe(1)
    expect(
      value('partner_gateway_webhook_delivery_attempts_total', { outcome: 'succeeded' }),
    ).toBeUndefined()
    expect(value('partner_gateway_webhook_endpoints_disabled')).toBe(1)
    const byStatus = Object.fromEntries(
      (
        sqlite.prepare('select status, count(*) as n from deliveries group by status').all() as {
          status: string
          n: number
        }[]
      ).map((r) => [r.status, r.n]),
    )
    expect(byStatus.held).toBeGreaterThan(0)
    expect(byStatus.pending).toBeGreaterThan(0)
    for (const status of ['pending', 'delivering', 'held', 'failed']) {
      expect(value('partner_gateway_webhook_deliveries', { status }), status).toBe(
        byStatus[status] ?? 0,
      )
    }
    expect(value('partner_gateway_outbox_depth')).toBe(0)
    expect(value('partner_gateway_database_up')).toBe(1)
    expect(value('partner_gateway_build_info', { version: '0.1.0' })).toBe(1)
    expect(after.get('process_resident_memory_bytes')?.type).toBe('gauge')
    expect(after.get('partner_gateway_http_request_duration_seconds')?.type).toBe('histogram')
  })
})

describe('the database-derived gauges', () => {
  it('are left out, not left stale, when the database cannot be read', async () => {
    const { db, close } = openSqlite(':memory:')
    const logs: unknown[] = []
    const metrics = createPrometheusMetrics({
      db,
      now: Date.now,
      log: (level, fields) => logs.push({ level, ...fields }),
      processMetrics: false,
    })
    const up = parseExposition((await metrics.render()).body)
    expect(sampleValue(up, 'partner_gateway_database_up')).toBe(1)
    expect(sampleValue(up, 'partner_gateway_outbox_depth')).toBe(0)
    close()
    const down = parseExposition((await metrics.render()).body)
    expect(sampleValue(down, 'partner_gateway_database_up')).toBe(0)
    expect(down.get('partner_gateway_outbox_depth')?.samples ?? []).toStrictEqual([])
    expect(down.get('partner_gateway_webhook_deliveries')?.samples ?? []).toStrictEqual([])
    expect(logs).toStrictEqual([
      {
        level: 'warn',
        msg: 'metrics: database gauges unavailable',
        error: 'The database connection is not open',
      },
    ])
  })
})
