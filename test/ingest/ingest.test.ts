import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { schema } from '../../src/db/index.ts'
import { makeSleep } from '../fixtures/records.ts'
import { addUser, createTestGateway, ISSUER, type TestGateway } from '../helpers/app.ts'
import { activityAt, dailyOn, ingest, sleepAt } from '../helpers/data.ts'

let gw: TestGateway
let userId: string
beforeEach(async () => {
  gw = createTestGateway()
  userId = (await addUser(gw, { timezone: 'America/New_York' })).userId
})
afterEach(() => gw.close())

const outboxRows = () => gw.deps.db.select().from(schema.outbox).all()
const recordRows = () => gw.deps.db.select().from(schema.records).all()

describe('PUT /admin/v1/users/{id}/{type}', () => {
  it('inserts, then reports an identical re-send as unchanged without an outbox row', async () => {
    const batch = [sleepAt('s1', '2026-03-01T04:00:00Z'), sleepAt('s2', '2026-03-02T04:00:00Z')]
    expect(await ingest(gw, userId, 'sleep', batch)).toStrictEqual({
      status: 200,
      body: { received: 2, inserted: 2, updated: 0, unchanged: 0, events: 2 },
    })
    expect((await outboxRows()).map((r) => [r.type, r.recordKey, r.change])).toStrictEqual([
      ['sleep', 's1', 'upsert'],
      ['sleep', 's2', 'upsert'],
    ])
    expect(await ingest(gw, userId, 'sleep', batch)).toStrictEqual({
      status: 200,
      body: { received: 2, inserted: 0, updated: 0, unchanged: 2, events: 0 },
    })
    expect(await outboxRows()).toHaveLength(2)
  })

  it('overwrites a record with a new version (superset rule) and announces only the change', async () => {
    await ingest(gw, userId, 'sleep', [
      sleepAt('s1', '2026-03-01T04:00:00Z'),
      sleepAt('s2', '2026-03-02T04:00:00Z'),
    ])
    const changed = sleepAt('s1', '2026-03-01T04:00:00Z')
    changed.scores = { sleep: 91 }
    expect(
      (await ingest(gw, userId, 'sleep', [changed, sleepAt('s2', '2026-03-02T04:00:00Z')])).body,
    ).toStrictEqual({
      received: 2,
      inserted: 0,
      updated: 1,
      unchanged: 1,
      events: 1,
    })
    const rows = await recordRows()
    const s1 = rows.find((r) => r.key === 's1')
    expect(JSON.parse(s1?.bodyFull as string).scores).toStrictEqual({ sleep: 91 })
    expect((await outboxRows()).map((r) => r.recordKey)).toStrictEqual(['s1', 's2', 's1'])
  })

  it('gives each change a higher sequence number than every earlier one', async () => {
    await ingest(gw, userId, 'sleep', [
      sleepAt('s1', '2026-03-01T04:00:00Z'),
      sleepAt('s2', '2026-03-02T04:00:00Z'),
    ])
    await ingest(gw, userId, 'activity', [activityAt('a1', '2026-03-01T12:00:00Z')])
    const changed = sleepAt('s1', '2026-03-01T04:00:00Z')
    changed.scores = { sleep: 50 }
    await ingest(gw, userId, 'sleep', [changed])
    const seqs = Object.fromEntries((await recordRows()).map((r) => [r.key, r.seq]))
    expect(seqs).toStrictEqual({ s1: 4, s2: 2, a1: 3 })
  })

  it('stores the local day in the user\u2019s zone and the UTC start instant', async () => {
    // 03:30 UTC on 8 March is still 7 March in New York.
    await ingest(gw, userId, 'sleep', [sleepAt('late', '2026-03-08T03:30:00Z', '-05:00')])
    await ingest(gw, userId, 'daily', [dailyOn('2026-03-08', '-05:00', 23)])
    const rows = await recordRows()
    expect(rows.map((r) => [r.key, r.localDay, new Date(r.startMs).toISOString()])).toStrictEqual([
      ['late', '2026-03-07', '2026-03-08T03:30:00.000Z'],
      ['2026-03-08', '2026-03-08', '2026-03-08T05:00:00.000Z'],
    ])
  })

  it('rejects the whole batch with 422 listing every bad record, and stores nothing', async () => {
    const bad = makeSleep({ metadata: { upload_type: 7 as never } })
    const unknownField = { ...sleepAt('s3', '2026-03-03T04:00:00Z'), sleep_quality: 3 }
    const response = await ingest(gw, userId, 'sleep', [
      sleepAt('s1', '2026-03-01T04:00:00Z'),
      bad,
      unknownField,
    ])
    expect(response.status).toBe(422)
    expect(response.body).toMatchObject({
      type: 'about:blank',
      title: 'Unprocessable Content',
      status: 422,
      detail: 'Some records do not follow the model; nothing was stored.',
    })
    expect(response.body.errors).toStrictEqual([
      { index: 1, path: 'metadata.upload_type', message: expect.any(String) },
      {
        index: 2,
        path: 'sleep_quality',
        message: 'is not a known field (check the spelling)',
      },
    ])
    expect(await recordRows()).toStrictEqual([])
    expect(await outboxRows()).toStrictEqual([])
  })

  it('rejects a daily that does not start at local midnight in the user\u2019s zone', async () => {
    // The user is in New York: a UTC-midnight daily would be keyed to one day and found in another.
    const response = await ingest(gw, userId, 'daily', [
      dailyOn('2026-03-08', '-05:00', 23),
      dailyOn('2026-03-09', '+00:00'),
    ])
    expect(response.status).toBe(422)
    expect(response.body.errors).toStrictEqual([
      {
        index: 1,
        path: 'metadata.start_time',
        message:
          "must be local midnight of 2026-03-09 in the user's time zone America/New_York, i.e. 2026-03-09T00:00:00.000000-04:00",
      },
    ])
  })

  it('rejects two versions of one record in a batch', async () => {
    const response = await ingest(gw, userId, 'activity', [
      activityAt('a1', '2026-03-01T12:00:00Z'),
      activityAt('a1', '2026-03-01T13:00:00Z'),
    ])
    expect(response.status).toBe(422)
    expect(response.body.errors).toStrictEqual([
      {
        index: 1,
        path: 'metadata.summary_id',
        message: 'has the same key (a1) as the record at index 0; send one version per record',
      },
    ])
  })

  it('refuses more than 1,000 records with 413, and a body over 10 MB', async () => {
    const many = Array.from({ length: 1001 }, (_, i) =>
      dailyOn(`2020-01-01`.replace('01-01', `01-${String((i % 28) + 1).padStart(2, '0')}`)),
    )
    expect((await ingest(gw, userId, 'daily', many)).status).toBe(413)
    const huge = JSON.stringify({ data: [{ metadata: { pad: 'x'.repeat(10 * 1024 * 1024) } }] })
    const response = await gw.admin(`/users/${userId}/sleep`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: huge,
    })
    expect(response.status).toBe(413)
    expect(await recordRows()).toStrictEqual([])
  })

  it.each([
    ['malformed JSON', { 'content-type': 'application/json' }, '{"data": [', 400],
    ['not an envelope', { 'content-type': 'application/json' }, '[{"metadata":{}}]', 400],
    ['data not an array', { 'content-type': 'application/json' }, '{"data": {}}', 400],
    [
      'extra envelope fields',
      { 'content-type': 'application/json' },
      '{"data": [], "user": "x"}',
      400,
    ],
    ['a form body', { 'content-type': 'application/x-www-form-urlencoded' }, 'data=1', 415],
    ['no content type', {}, '{"data": []}', 415],
  ])('answers %s with %i problem+json', async (_, headers, body, status) => {
    const response = await gw.admin(`/users/${userId}/sleep`, { method: 'PUT', headers, body })
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
  })

  it('404s an unknown user or data type', async () => {
    expect((await ingest(gw, 'nobody', 'sleep', [])).status).toBe(404)
    expect((await ingest(gw, userId, 'body', [])).status).toBe(404)
  })

  it('requires the admin key', async () => {
    const response = await gw.fetch(`${ISSUER}/admin/v1/users/${userId}/sleep`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [sleepAt('s1', '2026-03-01T04:00:00Z')] }),
    })
    expect(response.status).toBe(401)
    const wrong = await gw.fetch(`${ISSUER}/admin/v1/users/${userId}/sleep/s1`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer wrong-key-wrong-key-wrong-key' },
    })
    expect(wrong.status).toBe(401)
    expect(await recordRows()).toStrictEqual([])
  })

  it('accepts an empty batch', async () => {
    expect((await ingest(gw, userId, 'sleep', [])).body).toStrictEqual({
      received: 0,
      inserted: 0,
      updated: 0,
      unchanged: 0,
      events: 0,
    })
  })
})

describe('DELETE /admin/v1/users/{id}/{type}/{key}', () => {
  it('leaves a tombstone and an outbox row; a second delete is 404; re-ingest revives it', async () => {
    await ingest(gw, userId, 'daily', [dailyOn('2026-03-01', '-05:00')])
    const response = await gw.admin(`/users/${userId}/daily/2026-03-01`, { method: 'DELETE' })
    expect(response.status).toBe(204)
    const [row] = await recordRows()
    expect(row).toMatchObject({
      key: '2026-03-01',
      bodyFull: null,
      bodyLite: null,
      deletedAt: gw.clock.ms,
    })
    expect((await outboxRows()).map((r) => r.change)).toStrictEqual(['upsert', 'delete'])
    expect((await gw.admin(`/users/${userId}/daily/2026-03-01`, { method: 'DELETE' })).status).toBe(
      404,
    )
    expect(
      (await ingest(gw, userId, 'daily', [dailyOn('2026-03-01', '-05:00')])).body,
    ).toMatchObject({ updated: 1 })
  })
})
