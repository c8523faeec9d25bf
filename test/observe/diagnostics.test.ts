import { afterEach, describe, expect, it } from 'vitest'
import { RETRY_SCHEDULE_MS } from '../../src/notify/policy.ts'
import {
  adminKeyItem,
  type DiagnosticItem,
  type DiagnosticsReport,
  diagnose,
  issuerItem,
} from '../../src/observe/diagnostics.ts'
import { addClient, addUser, createTestGateway, type TestGateway } from '../helpers/app.ts'
import { ingest, sleepAt } from '../helpers/data.ts'
import { expectResponseMatchesSpec } from '../helpers/openapi.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'
import { deliveryRows, type NotifyFixture, notifyFixture } from '../notify/harness.ts'

/*
 * The diagnostics report (GET /admin/v1/diagnostics and `doctor`): each item's verdict and what
 * it tells the operator to do, driven by real failures — a receiver answering 503 until its
 * deliveries are dead letters, a 410 Gone, a backlog that grows, a clock that drifts.
 */

const STRONG_KEY = 'diag-Zr8Qp3Lk7Vw2Nx6Bm4Ht9Jc5Fy1'
const HTTPS_ISSUER = 'https://auth.example.com'

let t: NotifyFixture | undefined
const gateways: TestGateway[] = []
const receivers: Receiver[] = []
afterEach(async () => {
  await t?.close()
  t = undefined
  for (const gw of gateways.splice(0)) gw.close()
  for (const r of receivers.splice(0)) await r.close()
})

const byId = (report: DiagnosticsReport, id: string): DiagnosticItem | undefined =>
  report.items.find((i) => i.id === id)

const iso = (ms: number) => new Date(ms).toISOString()

describe('GET /admin/v1/diagnostics', () => {
  it('reports a healthy production gateway item by item, behind the admin key', async () => {
    const gw = createTestGateway({ env: { ISSUER: HTTPS_ISSUER, ADMIN_API_KEY: STRONG_KEY } })
    gateways.push(gw)
    const response = await gw.fetch('/admin/v1/diagnostics', {
      headers: { authorization: `Bearer ${STRONG_KEY}` },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const body = await expectResponseMatchesSpec('GET', '/admin/v1/diagnostics', response)
    expect(body).toStrictEqual({
      status: 'ok',
      version: '0.1.0',
      checked_at: iso(gw.clock.ms),
      items: [
        { id: 'config.mode', status: 'ok', message: 'production mode (MOCK=0)' },
        {
          id: 'config.issuer',
          status: 'ok',
          message: 'the issuer https://auth.example.com uses https',
        },
        {
          id: 'config.admin_key',
          status: 'ok',
          message: `the admin key is strong: ${STRONG_KEY.length} characters, ${new Set(STRONG_KEY).size} distinct (ADMIN_API_KEY)`,
        },
        // The in-memory test app has no runtime probes: the shared query only.
        { id: 'database', status: 'ok', message: 'answers queries' },
        {
          id: 'deliveries.backlog',
          status: 'ok',
          message:
            '0 changes waiting to be fanned out, 0 deliveries due now, 0 pending in all, 0 in flight, 0 held',
        },
        { id: 'deliveries.failed', status: 'ok', message: 'no delivery has failed for good' },
        {
          id: 'clock',
          status: 'ok',
          message: `our clock reads ${iso(gw.clock.ms)}; no webhook answer in the last 24 h to compare it with (the check uses receivers' Date headers)`,
        },
      ],
    })

    const refused = await gw.fetch('/admin/v1/diagnostics')
    expect(refused.status).toBe(401)
    await expectResponseMatchesSpec('GET', '/admin/v1/diagnostics', refused)
  })

  it('stops at a database that does not answer, saying so', async () => {
    const gw = createTestGateway()
    gw.close()
    const report = await diagnose(gw.deps)
    expect(report.status).toBe('fail')
    expect(report.items.map((i) => [i.id, i.status])).toStrictEqual([
      ['config.mode', 'ok'],
      ['config.issuer', 'fail'],
      ['config.admin_key', 'warn'],
      ['database', 'fail'],
    ])
    expect(byId(report, 'database')).toStrictEqual({
      id: 'database',
      status: 'fail',
      message:
        "the database does not answer a query (Failed to run the query 'select 1': The database connection is not open)",
      action: 'check that the database exists and is reachable, then restart the gateway',
    })
  })
})

describe('a failing webhook endpoint', () => {
  it('is a WARN from the first failure, a FAIL at ten in a row, OK again once it delivers', async () => {
    t = await notifyFixture()
    const fx = t
    const { clientId } = fx.fx.client
    fx.receiver.setDefault({ status: 503, body: 'maintenance' })
    await ingest(fx.gw, fx.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    const firstAttempt = fx.gw.clock.ms
    await fx.notifier.drain()

    const url = fx.receiver.url
    const action = `check the receiver at ${url} (its logs, TLS, that it answers 2xx within 10 s); failed events are retried for a day, then recoverable with POST /admin/v1/clients/${clientId}/recover`
    let report = await diagnose(fx.gw.deps)
    expect(byId(report, `webhook.${clientId}`)).toStrictEqual({
      id: `webhook.${clientId}`,
      status: 'warn',
      message: `"Terra (test)" → ${url}: last success never, 1 failed attempts since, 0 dead letters, 0 held; last attempt ${iso(firstAttempt)}: http_5xx (503)`,
      action,
    })

    // The whole schedule: ten failures in a row, the delivery a dead letter.
    for (const delay of RETRY_SCHEDULE_MS.slice(1)) {
      fx.gw.clock.advance(delay)
      await fx.notifier.drain()
    }
    expect(fx.receiver.requests).toHaveLength(10)
    report = await diagnose(fx.gw.deps)
    expect(byId(report, `webhook.${clientId}`)).toStrictEqual({
      id: `webhook.${clientId}`,
      status: 'fail',
      message: `"Terra (test)" → ${url}: last success never, 10 failed attempts since, 1 dead letters, 0 held; last attempt ${iso(fx.gw.clock.ms)}: http_5xx (503)`,
      action,
    })
    expect(byId(report, 'deliveries.failed')).toStrictEqual({
      id: 'deliveries.failed',
      status: 'warn',
      message:
        '1 deliveries failed for good (dead letters): their receivers never got these events',
      action:
        'list them with GET /admin/v1/deliveries?status=failed; once the receiver works again, send them with POST /admin/v1/clients/{client_id}/recover {"since": "<time of the outage>"} or POST /admin/v1/deliveries/{id}/redeliver',
    })
    expect(report.status).toBe('fail')

    // The receiver is fixed; the operator sends the dead letter again.
    fx.receiver.setDefault(200)
    const [delivery] = await deliveryRows(fx.gw)
    fx.gw.clock.advance(1000)
    const redelivered = await fx.gw.admin(`/deliveries/${delivery?.id}/redeliver`, {
      method: 'POST',
    })
    expect(redelivered.status).toBe(202)
    await fx.notifier.drain()
    report = await diagnose(fx.gw.deps)
    expect(byId(report, `webhook.${clientId}`)).toStrictEqual({
      id: `webhook.${clientId}`,
      status: 'ok',
      message: `"Terra (test)" → ${url}: last success ${iso(fx.gw.clock.ms)}, 0 failed attempts since, 0 dead letters, 0 held; last attempt ${iso(fx.gw.clock.ms)}: delivered (200)`,
    })
    expect(byId(report, 'deliveries.failed')?.status).toBe('ok')
  })

  it('that answered 410 Gone is a FAIL that says how to re-enable it', async () => {
    t = await notifyFixture()
    const fx = t
    const { clientId } = fx.fx.client
    fx.receiver.plan(410)
    await ingest(fx.gw, fx.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await fx.notifier.drain()
    await ingest(fx.gw, fx.userId, 'sleep', [sleepAt('s2', '2026-02-28T23:00:00Z')])
    await fx.notifier.drain()

    const report = await diagnose(fx.gw.deps)
    expect(byId(report, `webhook.${clientId}`)).toStrictEqual({
      id: `webhook.${clientId}`,
      status: 'fail',
      message: `the webhook is disabled (it answered 410 Gone, or an operator disabled it); "Terra (test)" → ${fx.receiver.url}: last success never, 1 failed attempts since, 0 dead letters, 2 held; last attempt ${iso(fx.gw.clock.ms)}: gone (410)`,
      action: `fix the receiver, then re-enable it: PATCH /admin/v1/clients/${clientId} {"webhook_status": "active"} (held events then go out)`,
    })

    const patched = await fx.gw.admin(`/clients/${clientId}`, {
      method: 'PATCH',
      json: { webhook_status: 'active' },
    })
    expect(patched.status).toBe(200)
    await fx.notifier.drain()
    expect(fx.receiver.requests).toHaveLength(3)
    expect(byId(await diagnose(fx.gw.deps), `webhook.${clientId}`)?.status).toBe('ok')
  })
})

describe('the delivery backlog', () => {
  it('is a WARN past a minute overdue and a FAIL past fifteen', async () => {
    const receiver = await startReceiver()
    receivers.push(receiver)
    const gw = createTestGateway()
    gateways.push(gw)
    // No notifier runs in this gateway: the change waits in the outbox, as when the worker is down.
    await addClient(gw, { webhookUrl: receiver.url })
    const user = await addUser(gw)
    await ingest(gw, user.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    // Without a grant nobody is notified, but the change still waits for fan-out.
    const backlog = async () => byId(await diagnose(gw.deps), 'deliveries.backlog')

    expect((await backlog())?.status).toBe('ok')
    gw.clock.advance(2 * 60_000)
    const warned = await backlog()
    expect(warned).toStrictEqual({
      id: 'deliveries.backlog',
      status: 'warn',
      message:
        '1 changes waiting to be fanned out (oldest 120 s), 0 deliveries due now, 0 pending in all, 0 in flight, 0 held',
      action:
        'deliveries are not keeping up: check that the webhook worker runs (GET /readyz) and how fast the receivers answer (each endpoint gets at most 8 at once); partner_gateway_webhook_oldest_due_age_seconds in /metrics shows the trend',
    })
    gw.clock.advance(14 * 60_000)
    expect(await backlog()).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^1 changes waiting to be fanned out \(oldest 16 min\)/),
    })
  })

  it('counts due deliveries from their due time', async () => {
    t = await notifyFixture()
    const fx = t
    fx.receiver.setDefault(503)
    await ingest(fx.gw, fx.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await fx.notifier.drain()
    // The retry falls due after 10 s; nobody sends it for 100 s more.
    fx.gw.clock.advance(110_000)
    expect(byId(await diagnose(fx.gw.deps), 'deliveries.backlog')).toMatchObject({
      status: 'warn',
      message:
        '0 changes waiting to be fanned out, 1 deliveries due now (oldest 100 s overdue), 1 pending in all, 0 in flight, 0 held',
    })
  })
})

describe('the clock', () => {
  /** One delivery answered by the receiver (whose Date header is the real time) at our clock `ms`. */
  async function deliverAt(fx: NotifyFixture, ms: number, id: string) {
    fx.gw.clock.ms = ms
    await ingest(fx.gw, fx.userId, 'sleep', [sleepAt(id, '2026-02-27T23:00:00Z')])
    await fx.notifier.drain()
    return byId(await diagnose(fx.gw.deps), 'clock')
  }

  it("is compared with the Date header of the receivers' answers", async () => {
    t = await notifyFixture()
    const fx = t
    const origin = new URL(fx.receiver.url).origin
    const action =
      'synchronise the clock (NTP: chrony or systemd-timesyncd): receivers refuse webhook signatures more than 5 minutes off their clock'

    expect(await deliverAt(fx, Date.now(), 's1')).toStrictEqual({
      id: 'clock',
      status: 'ok',
      message: expect.stringMatching(
        new RegExp(
          `^our clock is about [01] s (behind|ahead of) ${origin}'s \\(from the Date header of its answer at .+, ±[01] s\\)$`,
        ),
      ),
    })
    // Samples are kept at most once a minute, so each step moves the clock on by more.
    expect(await deliverAt(fx, Date.now() + 2 * 60_000, 's2')).toStrictEqual({
      id: 'clock',
      status: 'warn',
      message: expect.stringMatching(
        new RegExp(`^our clock is about (119|120|121) s ahead of ${origin}'s`),
      ),
      action,
    })
    expect(await deliverAt(fx, Date.now() - 3600_000, 's3')).toStrictEqual({
      id: 'clock',
      status: 'fail',
      message: expect.stringMatching(
        new RegExp(`^our clock is about (3599|3600|3601) s behind ${origin}'s`),
      ),
      action,
    })
    // A sample older than a day says nothing about the clock now.
    fx.gw.clock.advance(25 * 3600_000)
    expect(byId(await diagnose(fx.gw.deps), 'clock')?.status).toBe('ok')
  })
})

describe('configuration checks', () => {
  it('want https in production, and tolerate http on this machine in mock mode', () => {
    expect(issuerItem('https://auth.example.com', false).status).toBe('ok')
    expect(issuerItem('http://auth.example.com', false)).toStrictEqual({
      id: 'config.issuer',
      status: 'fail',
      message:
        'the issuer http://auth.example.com is not https in production: authorization codes, tokens and passwords would cross the network in clear, and Terra expects https',
      action: 'serve the gateway behind TLS and set ISSUER to its https:// URL',
    })
    expect(issuerItem('http://127.0.0.1:8787', false).status).toBe('fail')
    expect(issuerItem('http://127.0.0.1:8787', true).status).toBe('ok')
    expect(issuerItem('http://localhost:8787', true).status).toBe('ok')
    expect(issuerItem('http://10.0.0.5:8787', true).status).toBe('warn')
  })

  it('grade the admin key', () => {
    const grade = (key: string | null) => adminKeyItem(key, 'ADMIN_API_KEY').status
    expect(grade(STRONG_KEY)).toBe('ok')
    expect(grade('pgadm_Q2x7VbN4kP9sL3mZ8rT1wY6cF5hJ0dG-aE')).toBe('ok')
    expect(grade('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).toBe('fail')
    expect(grade('abcabcabcabcabcabcabcabcabcabc')).toBe('fail')
    expect(grade('Xk3pQ9vL2mZ7rT4wN8bC6hJ1s')).toBe('warn') // 25 characters
    expect(grade('my-admin-password-is-very-long-indeed')).toBe('warn')
    expect(grade(null)).toBe('fail')
    expect(adminKeyItem('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'ADMIN_API_KEY')).toStrictEqual({
      id: 'config.admin_key',
      status: 'fail',
      message: 'the admin key is trivially guessable: 34 characters, 1 distinct (ADMIN_API_KEY)',
      action:
        'generate one with `openssl rand -base64 32` and set it as ADMIN_API_KEY (then restart)',
    })
  })
})
