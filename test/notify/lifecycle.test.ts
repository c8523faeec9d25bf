import { afterEach, describe, expect, it } from 'vitest'
import { schema } from '../../src/db/index.ts'
import { dispatchOutbox } from '../../src/notify/outbox-dispatch.ts'
import { ISSUER } from '../helpers/app.ts'
import { activityAt, dailyOn, ingest, sleepAt } from '../helpers/data.ts'
import { authorizeInBrowser } from '../helpers/oauth.ts'
import {
  attemptRows,
  bodies,
  dataOf,
  deliveryRows,
  type NotifyFixture,
  notifyFixture,
  schemaErrors,
  terraVerifies,
} from './harness.ts'

let t: NotifyFixture | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

const CONNECTED_AT = '2026-03-01T12:00:00.000000+00:00'

/** The account page's Disconnect form, submitted `times` times (a double click). */
async function disconnect(fx: NotifyFixture, times = 1) {
  const html = await (await fx.agent.get(`${ISSUER}/account`)).text()
  const statuses: number[] = []
  for (let i = 0; i < times; i++) {
    const response = await fx.agent.submit(
      html,
      `${ISSUER}/account`,
      {},
      {
        formSelector: 'form[action="/account/disconnect"]',
      },
    )
    statuses.push(response.status)
  }
  return statuses
}

describe('access_revoked', () => {
  it('is sent when the user disconnects the client on /account; pending data is not', async () => {
    t = await notifyFixture({ reference: 'crm-1' })
    // A sync fanned out, but not sent yet when the user disconnects.
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await dispatchOutbox(t.gw.deps.db, t.gw.clock.ms)
    // And one not even fanned out: no client has a grant for it any more.
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s2', '2026-02-26T23:00:00Z')])
    // Submitted twice (a double click): the second finds nothing to disconnect, announces nothing.
    expect(await disconnect(t, 2)).toStrictEqual([303, 404])
    await t.notifier.drain()

    expect(t.receiver.requests).toHaveLength(1)
    const [request] = t.receiver.requests
    const body = JSON.parse(request?.body ?? '{}')
    expect(body).toStrictEqual({
      type: 'access_revoked',
      user: {
        user_id: t.userId,
        provider: 'MOCKWEAR',
        created_at: CONNECTED_AT,
        last_webhook_update: null,
        scopes: 'sleep:read,activity:read,daily:read',
        reference_id: 'crm-1',
        active: false,
      },
      status: 'warning',
      message: 'User revoked access',
    })
    expect(schemaErrors('AccessRevokedEvent', body)).toStrictEqual([])
    expect(await terraVerifies(request as never, t.secret, t.gw.clock.ms)).toBe(true)

    // The data delivery was not sent: consent is gone. It is done, with the reason logged.
    const rows = await deliveryRows(t.gw)
    expect(rows.map((d) => [d.type, d.status])).toStrictEqual([
      ['sleep', 'succeeded'],
      ['access_revoked', 'succeeded'],
    ])
    const [skipped] = await attemptRows(t.gw, rows[0]?.id as string)
    expect(skipped).toMatchObject({
      error: 'skipped',
      statusCode: null,
      responseExcerpt: 'not sent: the user no longer grants this client sleep:read',
    })
  })

  it('is sent when the provider deletes the user, and outlives the user', async () => {
    t = await notifyFixture()
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await t.notifier.drain()
    t.gw.clock.advance(60_000)
    expect((await t.gw.admin(`/users/${t.userId}`, { method: 'DELETE' })).status).toBe(204)
    expect(await t.gw.deps.db.select().from(schema.users).all()).toStrictEqual([])
    await t.notifier.drain()
    const [, revoked] = bodies(t.receiver)
    expect(revoked).toStrictEqual({
      type: 'access_revoked',
      user: {
        user_id: t.userId,
        provider: 'MOCKWEAR',
        created_at: CONNECTED_AT,
        last_webhook_update: CONNECTED_AT,
        scopes: 'sleep:read,activity:read,daily:read',
        reference_id: null,
        active: false,
      },
      status: 'warning',
      message: 'User revoked access: the provider deleted the account',
    })
    expect(schemaErrors('AccessRevokedEvent', revoked)).toStrictEqual([])
    const list = await (await t.gw.admin(`/deliveries?user_id=${t.userId}`)).json()
    expect(
      list.data.map((d: { type: string; status: string }) => [d.type, d.status]),
    ).toStrictEqual([
      ['access_revoked', 'succeeded'],
      ['sleep', 'succeeded'],
    ])
  })
})

describe('permission_change', () => {
  it('is sent when a re-consent changes the scopes, with scopes_added and scopes_removed', async () => {
    t = await notifyFixture({ connect: { scope: 'sleep:read activity:read' } })
    // Terra asks again for more, and the user unticks activity on the consent screen.
    const flow = await authorizeInBrowser(t.gw, t.fx.as, t.fx.client, t.fx.user, {
      agent: t.agent,
      scope: 'sleep:read activity:read daily:read',
      untick: ['activity:read'],
    })
    expect(flow.sawConsent).toBe(true)
    expect(flow.callbackUrl.searchParams.get('code')).toBeTruthy()
    await t.notifier.drain()
    const [body] = bodies(t.receiver)
    expect(body).toStrictEqual({
      type: 'permission_change',
      user: {
        user_id: t.userId,
        provider: 'MOCKWEAR',
        created_at: CONNECTED_AT,
        last_webhook_update: null,
        scopes: 'sleep:read,daily:read',
        reference_id: null,
        active: true,
      },
      status: 'warning',
      message: 'User changed the permissions granted',
      version: '2022-03-16',
      scopes_added: 'daily:read',
      scopes_removed: 'activity:read',
    })
    expect(schemaErrors('PermissionChangeEvent', body)).toStrictEqual([])

    // The same scopes again (consent skipped): nothing to announce.
    await authorizeInBrowser(t.gw, t.fx.as, t.fx.client, t.fx.user, {
      agent: t.agent,
      scope: 'sleep:read daily:read',
    })
    // And the new scopes decide which data goes out.
    await ingest(t.gw, t.userId, 'activity', [activityAt('a1', '2026-02-28T08:00:00Z')])
    await ingest(t.gw, t.userId, 'daily', [dailyOn('2026-02-28')])
    await t.notifier.drain()
    expect(bodies(t.receiver).map((b) => b.type)).toStrictEqual(['permission_change', 'daily'])
  })
})

describe('deletion', () => {
  it('is sent when a record is deleted: summary_ids, or local dates for daily', async () => {
    t = await notifyFixture()
    await ingest(t.gw, t.userId, 'sleep', [
      sleepAt('s1', '2026-02-27T23:00:00Z'),
      sleepAt('s2', '2026-02-26T23:00:00Z'),
    ])
    await ingest(t.gw, t.userId, 'daily', [dailyOn('2026-02-28')])
    await t.notifier.drain()
    expect((await t.gw.admin(`/users/${t.userId}/sleep/s1`, { method: 'DELETE' })).status).toBe(204)
    expect((await t.gw.admin(`/users/${t.userId}/sleep/s2`, { method: 'DELETE' })).status).toBe(204)
    expect(
      (await t.gw.admin(`/users/${t.userId}/daily/2026-02-28`, { method: 'DELETE' })).status,
    ).toBe(204)
    await t.notifier.drain()
    const deletions = bodies(t.receiver).slice(2)
    const sleepDeletion = deletions.find((b) => b.data_type === 'sleep')
    const dailyDeletion = deletions.find((b) => b.data_type === 'daily')
    expect(deletions).toHaveLength(2)
    const user = {
      user_id: t.userId,
      provider: 'MOCKWEAR',
      created_at: CONNECTED_AT,
      last_webhook_update: CONNECTED_AT,
      scopes: 'sleep:read,activity:read,daily:read',
      reference_id: null,
      active: true,
    }
    expect(sleepDeletion).toStrictEqual({
      type: 'deletion',
      user,
      data_type: 'sleep',
      ids: ['s2', 's1'],
    })
    expect(dailyDeletion).toStrictEqual({
      type: 'deletion',
      user,
      data_type: 'daily',
      ids: ['2026-02-28'],
    })
    expect(schemaErrors('TerraUser', user)).toStrictEqual([])
    for (const r of t.receiver.requests)
      expect(await terraVerifies(r, t.secret, t.gw.clock.ms)).toBe(true)
  })

  it('is not sent for a record that was ingested again before it went out; the data is', async () => {
    t = await notifyFixture()
    t.receiver.plan(500, 500) // the first sync and the deletion both wait for a retry
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await t.notifier.drain()
    await t.gw.admin(`/users/${t.userId}/sleep/s1`, { method: 'DELETE' })
    await t.notifier.drain()
    const again = sleepAt('s1', '2026-02-27T23:00:00Z')
    again.scores = { sleep: 90 }
    await ingest(t.gw, t.userId, 'sleep', [again])
    t.gw.clock.advance(10_000)
    await t.notifier.drain()
    const sent = bodies(t.receiver).slice(2)
    expect(sent.map((b) => b.type)).toStrictEqual(['sleep'])
    expect(dataOf(sent[0])[0]?.scores).toStrictEqual({ sleep: 90 })
    const rows = await deliveryRows(t.gw)
    expect(rows.map((d) => [d.type, d.status])).toStrictEqual([
      ['sleep', 'succeeded'],
      ['deletion', 'succeeded'],
    ])
    expect((await attemptRows(t.gw, rows[1]?.id as string)).at(-1)?.responseExcerpt).toBe(
      'not sent: the records were ingested again since',
    )
  })
})
