import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { verifyTerraWebhookSignature } from 'terra-api'
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
} from './child-gateway.ts'

/*
 * Crash safety: the gateway as a real process, SIGKILLed in the middle of delivering a burst and
 * started again on the same database file. At-least-once: every record reaches the receiver;
 * duplicates (events the receiver got but the dead process never recorded) are counted and
 * reported, never lost.
 */

const USERS = 4
const PER_TYPE = 250 // 4 users × 2 types × 250 = 2,000 records, 200 events of 10
const ADMIN_KEY = 'crash-test-admin-key-0123456789'
const REDIRECT_URI = 'https://terra.example.test/callback'

const dir = mkdtempSync(join(tmpdir(), 'pgw-crash-'))
const children: ChildGateway[] = []
let receiver: Receiver | undefined
afterAll(async () => {
  for (const c of children) c.process.kill('SIGKILL')
  await receiver?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('crash safety', () => {
  it('loses no event when the gateway is SIGKILLed mid-delivery and restarted', {
    timeout: 120_000,
  }, async () => {
    receiver = await startReceiver()
    const rx = receiver
    // Slow enough that deliveries are in flight when the process dies.
    rx.setDefault({ status: 200, delayMs: 40 })
    const env = {
      port: await closedPort(),
      databasePath: join(dir, 'gateway.sqlite'),
      adminKey: ADMIN_KEY,
    }
    const first = await startChildGateway(env)
    children.push(first)
    const admin = adminClient(first.url, ADMIN_KEY)

    const { webhookSecret, userIds: users } = await connectedClientAndUsers(first.url, admin, {
      webhookUrl: rx.url,
      redirectUri: REDIRECT_URI,
      count: USERS,
      emailPrefix: 'crash',
    })

    // The burst: every user's sleep and activity at once.
    const expected = new Set<string>()
    const start = Date.parse('2024-01-01T06:00:00Z')
    const ingests = users.flatMap((userId, u) =>
      (['sleep', 'activity'] as const).map((type) => {
        const data = Array.from({ length: PER_TYPE }, (_, i) => {
          const id = `${type}-${u}-${i}`
          expected.add(id)
          const at = new Date(start + i * 86_400_000).toISOString()
          return stripSamples(type === 'sleep' ? sleepAt(id, at) : activityAt(id, at))
        })
        return admin(`/users/${userId}/${type}`, { method: 'PUT', json: { data } })
      }),
    )
    const results = await Promise.all(ingests).catch((err) => {
      throw new Error(
        `ingest failed: ${err}; ${err?.cause}\n${first.stderr()}\n${first.lines.slice(-15).join('\n')}`,
      )
    })
    for (const result of results) {
      expect(result.body).toMatchObject({
        received: PER_TYPE,
        inserted: PER_TYPE,
        events: PER_TYPE,
      })
    }
    expect(expected.size).toBe(USERS * 2 * PER_TYPE)

    // Mid-delivery: some events are through, others in flight or waiting.
    await rx.waitFor(40, 30_000)
    first.process.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    const atKill = rx.requests.length
    expect(atKill).toBeLessThan(USERS * 2 * (PER_TYPE / 10))

    const second = await startChildGateway(env)
    children.push(second)
    const seen = () => new Set(rx.requests.flatMap((r) => summaryIds(r.body)))
    // Done when the receiver has every record and the gateway has recorded every delivery as
    // delivered (those the dead process had in flight go again once their lease runs out).
    const unfinished = () => {
      const db = new Database(env.databasePath, { readonly: true })
      try {
        const row = db
          .prepare("select count(*) as n from deliveries where status != 'succeeded'")
          .get() as { n: number }
        return row.n
      } finally {
        db.close()
      }
    }
    const deadline = Date.now() + 90_000
    while ((seen().size < expected.size || unfinished() > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250))
    }
    second.process.kill('SIGTERM')
    expect(await second.exited).toBe(0)

    const received = seen()
    const lost = [...expected].filter((id) => !received.has(id))
    expect(lost).toStrictEqual([])

    // Duplicates: the same event (webhook-id) received more than once.
    const byEvent = new Map<string, number>()
    for (const r of rx.requests) {
      const id = r.headers['webhook-id'] as string
      byEvent.set(id, (byEvent.get(id) ?? 0) + 1)
    }
    const duplicates = [...byEvent.values()].filter((n) => n > 1).reduce((sum, n) => sum + n - 1, 0)
    const recordCopies = rx.requests.reduce((sum, r) => sum + summaryIds(r.body).length, 0)

    const db = new Database(env.databasePath, { readonly: true })
    const statuses = db
      .prepare('select status, count(*) as n from deliveries group by status')
      .all()
    const interrupted = db
      .prepare("select count(*) as n from delivery_attempts where error = 'interrupted'")
      .get() as { n: number }
    db.close()
    console.log(
      `crash safety: ${expected.size} records in ${byEvent.size} events; ${atKill} requests before SIGKILL, ` +
        `${rx.requests.length} in all; ${duplicates} duplicate event deliveries ` +
        `(${recordCopies - expected.size} duplicate record copies); ${interrupted.n} attempts interrupted ` +
        `by the kill; none lost. Deliveries: ${JSON.stringify(statuses)}`,
    )
    expect(statuses).toStrictEqual([{ status: 'succeeded', n: byEvent.size }])
    expect(duplicates).toBeLessThanOrEqual(interrupted.n)

    for (const r of rx.requests.slice(-20)) {
      expect(
        await verifyTerraWebhookSignature(
          r.body,
          r.headers['terra-signature'] ?? '',
          webhookSecret,
        ),
      ).toBe(true)
    }
  })
})
