import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { stripSamples } from '../../src/data/models/index.ts'
import { activityAt, sleepAt } from '../helpers/data.ts'
import { closedPort, type Receiver, startReceiver } from '../helpers/receiver.ts'
import {
  adminClient,
  type ChildGateway,
  connectedClientAndUsers,
  startChildGateway,
  summaryIds,
} from '../notify/child-gateway.ts'

/*
 * Graceful shutdown: the gateway as a real process (src/node.ts), SIGTERMed in the middle of a
 * delivery burst and of an ingest request. It must exit 0 within its bound, having finished the
 * request and recorded every delivery in flight (none left `delivering`, none `interrupted`);
 * restarted on the same file it sends the rest. Unlike the SIGKILL test (test/notify/crash), a
 * graceful stop sends nothing twice.
 */

const USERS = 2
const PER_TYPE = 200 // 2 users × 2 types × 200 = 800 records, 80 events of 10
const LATE = 200 // records ingested by the request in flight at SIGTERM
const ADMIN_KEY = 'shutdown-test-admin-key-0123456789'
const REDIRECT_URI = 'https://terra.example.test/callback'
/** src/server.ts's default bound on the drain, plus the process's own start-up and exit. */
const EXIT_BOUND_MS = 12_000 + 3_000

const dir = mkdtempSync(join(tmpdir(), 'pgw-shutdown-'))
const children: ChildGateway[] = []
let receiver: Receiver | undefined
afterAll(async () => {
  for (const c of children) c.process.kill('SIGKILL')
  await receiver?.close()
  rmSync(dir, { recursive: true, force: true })
})

/**
 * An admin PUT sent in two halves: the headers and the first half of the body at once, the rest
 * when `finish()` is called. In between the gateway is in the middle of reading the request.
 */
function putInTwoHalves(url: string, json: unknown) {
  const payload = Buffer.from(JSON.stringify(json))
  const half = Math.floor(payload.length / 2)
  let req: ReturnType<typeof request> | undefined
  const answer = new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    req = request(
      url,
      {
        method: 'PUT',
        agent: false,
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          'content-type': 'application/json',
          'content-length': payload.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          }),
        )
      },
    )
    req.on('error', reject)
    req.write(payload.subarray(0, half))
  })
  return { answer, finish: () => req?.end(payload.subarray(half)) }
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

function deliveryStates(path: string) {
  const db = new Database(path, { readonly: true })
  try {
    const statuses = Object.fromEntries(
      (
        db.prepare('select status, count(*) as n from deliveries group by status').all() as {
          status: string
          n: number
        }[]
      ).map((r) => [r.status, r.n]),
    )
    const outbox = (db.prepare('select count(*) as n from outbox').get() as { n: number }).n
    const interrupted = (
      db
        .prepare("select count(*) as n from delivery_attempts where error = 'interrupted'")
        .get() as { n: number }
    ).n
    return { statuses, outbox, interrupted }
  } finally {
    db.close()
  }
}

describe('graceful shutdown', () => {
  it('on SIGTERM mid-burst: exits 0 in time, loses nothing, sends nothing twice', {
    timeout: 120_000,
  }, async () => {
    receiver = await startReceiver()
    const rx = receiver
    // Slow enough that deliveries are in flight when the signal arrives.
    rx.setDefault({ status: 200, delayMs: 60 })
    const env = {
      port: await closedPort(),
      databasePath: join(dir, 'gateway.sqlite'),
      adminKey: ADMIN_KEY,
    }
    const first = await startChildGateway(env)
    children.push(first)
    const admin = adminClient(first.url, ADMIN_KEY)

    const { userIds: users } = await connectedClientAndUsers(first.url, admin, {
      webhookUrl: rx.url,
      redirectUri: REDIRECT_URI,
      count: USERS,
      emailPrefix: 'term',
    })

    const expected = new Set<string>()
    const batch = (type: 'sleep' | 'activity', prefix: string, count: number, dayOffset = 0) =>
      Array.from({ length: count }, (_, i) => {
        const id = `${type}-${prefix}-${i}`
        expected.add(id)
        const at = new Date(Date.parse('2023-01-01T06:00:00Z') + (dayOffset + i) * 86_400_000)
        return stripSamples(
          type === 'sleep' ? sleepAt(id, at.toISOString()) : activityAt(id, at.toISOString()),
        )
      })
    const results = await Promise.all(
      users.flatMap((userId, u) =>
        (['sleep', 'activity'] as const).map((type) =>
          admin(`/users/${userId}/${type}`, {
            method: 'PUT',
            json: { data: batch(type, String(u), PER_TYPE) },
          }),
        ),
      ),
    )
    for (const r of results) expect(r.body).toMatchObject({ inserted: PER_TYPE })

    // Mid-burst: an ingest request on its way in, deliveries in flight, more waiting.
    await rx.waitFor(30, 30_000)
    const late = putInTwoHalves(`${first.url}/admin/v1/users/${users[0]}/sleep`, {
      data: batch('sleep', 'late', LATE, 1000),
    })
    // The gateway is reading the request's body when the signal arrives; the rest follows once
    // it has begun shutting down.
    await new Promise((r) => setTimeout(r, 200))
    const signalled = Date.now()
    first.process.kill('SIGTERM')
    await until(() => first.lines.some((l) => l.includes('"msg":"shutting down"')), 'SIGTERM')
    late.finish()
    expect(await first.exited).toBe(0)
    const took = Date.now() - signalled
    expect(took).toBeLessThan(EXIT_BOUND_MS)
    // The request in flight was answered, its records stored (with their outbox rows).
    expect(await late.answer).toMatchObject({
      status: 200,
      body: { received: LATE, inserted: LATE },
    })

    const logs = first.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(logs.find((l) => l.msg === 'shutting down')).toMatchObject({ signal: 'SIGTERM' })
    // It was answered after the signal, during the drain.
    const shutdownAt = logs.findIndex((l) => l.msg === 'shutting down')
    expect(
      logs
        .slice(shutdownAt)
        .filter((l) => l.msg === 'request')
        .map((l) => [l.method, l.status]),
    ).toStrictEqual([['PUT', 200]])
    expect(logs.at(-1)).toMatchObject({ msg: 'stopped', clean: true })
    const atStop = deliveryStates(env.databasePath)
    // Every delivery in flight finished and was recorded; the rest waits in the database.
    expect(atStop.statuses.delivering).toBeUndefined()
    expect(atStop.interrupted).toBe(0)
    expect((atStop.statuses.pending ?? 0) + atStop.outbox).toBeGreaterThan(0)
    const sentBeforeStop = rx.requests.length
    expect(sentBeforeStop).toBeLessThan(USERS * 2 * (PER_TYPE / 10))

    // Restarted on the same file, it sends the rest.
    const second = await startChildGateway(env)
    children.push(second)
    const seen = () => new Set(rx.requests.flatMap((r) => summaryIds(r.body)))
    const unfinished = () => {
      const s = deliveryStates(env.databasePath)
      return (
        s.outbox +
        Object.entries(s.statuses).reduce((n, [k, v]) => (k === 'succeeded' ? n : n + v), 0)
      )
    }
    const deadline = Date.now() + 60_000
    while ((seen().size < expected.size || unfinished() > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250))
    }
    second.process.kill('SIGTERM')
    expect(await second.exited).toBe(0)

    expect([...expected].filter((id) => !seen().has(id))).toStrictEqual([])
    const byEvent = new Map<string, number>()
    for (const r of rx.requests) {
      const id = r.headers['webhook-id'] as string
      byEvent.set(id, (byEvent.get(id) ?? 0) + 1)
    }
    expect([...byEvent.values()].filter((n) => n > 1)).toStrictEqual([])
    expect(deliveryStates(env.databasePath)).toStrictEqual({
      statuses: { succeeded: byEvent.size },
      outbox: 0,
      interrupted: 0,
    })
    console.log(
      `graceful shutdown: ${expected.size} records in ${byEvent.size} events; ${sentBeforeStop} sent before SIGTERM, stopped in ${took} ms; none lost, none twice`,
    )
  })
})
