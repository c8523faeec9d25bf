import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { verifyTerraWebhookSignature } from 'terra-api'
import { describe, expect, it } from 'vitest'
import { newWebhookSecret } from '../../src/admin/records.ts'
import {
  classifyError,
  classifyStatus,
  jittered,
  MAX_RETRY_AFTER_MS,
  nextStep,
  parseRetryAfter,
  RETRY_SCHEDULE_MS,
} from '../../src/notify/policy.ts'
import { signatureHeaders, standardSignature, terraSignature } from '../../src/notify/signing.ts'

const BODY =
  '{"type":"sleep","user":{"user_id":"u1","provider":"MOCKWEAR"},"data":[],"version":"2022-03-16"}'
const now = () => Date.now()

describe('terra signature scheme', () => {
  it('matches the reference implementation in TERRA-NOTES §2.1 byte for byte', async () => {
    const secret = 'pgw_reference'
    const t = 1723808700
    const expected = createHmac('sha256', secret).update(`${t}.${BODY}`, 'utf8').digest('hex')
    expect(await terraSignature(BODY, [secret], t)).toBe(`t=${t},v1=${expected}`)
  })

  it('is accepted by Terra’s SDK, and a tampered body or a wrong secret is not', async () => {
    const secret = newWebhookSecret('terra')
    const { 'terra-signature': header } = await signatureHeaders(
      'terra',
      'evt',
      BODY,
      [secret],
      now(),
    )
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    expect(await verifyTerraWebhookSignature(BODY, header as string, secret)).toBe(true)
    await expect(
      verifyTerraWebhookSignature(BODY.replace('u1', 'u2'), header as string, secret),
    ).rejects.toThrow(/no matching signature/i)
    await expect(
      verifyTerraWebhookSignature(BODY, header as string, newWebhookSecret('terra')),
    ).rejects.toThrow(/no matching signature/i)
  })

  it('carries one v1 per live secret, each accepted on its own', async () => {
    const [current, previous] = [newWebhookSecret('terra'), newWebhookSecret('terra')]
    const header = await terraSignature(BODY, [current, previous], Math.floor(now() / 1000))
    expect(header.split(',').filter((p) => p.startsWith('v1='))).toHaveLength(2)
    expect(await verifyTerraWebhookSignature(BODY, header, current)).toBe(true)
    expect(await verifyTerraWebhookSignature(BODY, header, previous)).toBe(true)
    await expect(
      verifyTerraWebhookSignature(BODY, header, newWebhookSecret('terra')),
    ).rejects.toThrow()
  })
})

describe('standard signature scheme (Standard Webhooks)', () => {
  const headersFor = async (
    secrets: string[],
    eventId = 'evt_1',
  ): Promise<Record<string, string>> => ({
    'webhook-id': eventId,
    ...(await signatureHeaders('standard', eventId, BODY, secrets, now())),
  })

  it('is accepted by the standardwebhooks package; tampering and a wrong secret are not', async () => {
    const secret = newWebhookSecret('standard')
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/)
    const headers = await headersFor([secret])
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
    expect(new Webhook(secret).verify(BODY, headers)).toStrictEqual(JSON.parse(BODY))
    expect(() => new Webhook(secret).verify(`${BODY} `, headers)).toThrow(/no matching signature/i)
    expect(() => new Webhook(secret).verify(BODY, { ...headers, 'webhook-id': 'evt_2' })).toThrow()
    expect(() => new Webhook(newWebhookSecret('standard')).verify(BODY, headers)).toThrow(
      /no matching signature/i,
    )
  })

  it('lists one space-separated v1 per live secret during a rotation', async () => {
    const [current, previous] = [newWebhookSecret('standard'), newWebhookSecret('standard')]
    const headers = await headersFor([current, previous])
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2)
    expect(new Webhook(current).verify(BODY, headers)).toBeTruthy()
    expect(new Webhook(previous).verify(BODY, headers)).toBeTruthy()
  })

  it('signs "<id>.<timestamp>.<body>" with the base64-decoded secret', async () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef')
    const secret = `whsec_${key.toString('base64')}`
    const expected = createHmac('sha256', key).update(`msg_1.1700000000.${BODY}`).digest('base64')
    expect(await standardSignature('msg_1', BODY, [secret], 1700000000)).toBe(`v1,${expected}`)
  })
})

describe('delivery policy', () => {
  it('reads the contract schedule as ten attempts: immediately, then 10 s … 8 h, 8 h', () => {
    expect(RETRY_SCHEDULE_MS.map((ms) => ms / 1000)).toStrictEqual([
      0, 10, 60, 300, 1800, 3600, 7200, 14400, 28800, 28800,
    ])
    const half = () => 0.5
    let retryIndex = 0
    const delays: number[] = []
    for (;;) {
      const step = nextStep({
        outcome: { failure: 'http_5xx', retryAfterMs: null },
        trigger: 'auto',
        retryIndex,
        now: 0,
        random: half,
      })
      if (step.status !== 'pending') {
        expect(step.status).toBe('failed')
        break
      }
      delays.push(step.nextAttemptAt)
      retryIndex = step.retryIndex
    }
    expect(delays).toStrictEqual(RETRY_SCHEDULE_MS.slice(1))
    expect(retryIndex + 1).toBe(10)
  })

  it('jitters each delay by ±20 % from the random source', () => {
    expect(jittered(10_000, () => 0)).toBe(8_000)
    expect(jittered(10_000, () => 0.5)).toBe(10_000)
    expect(jittered(10_000, () => 0.999_999)).toBe(12_000)
    expect(jittered(10_000, () => 0.25)).toBe(9_000)
  })

  it('waits for Retry-After when it is longer than the scheduled delay, capped at 8 h', () => {
    const at = Date.parse('2026-03-01T12:00:00Z')
    expect(parseRetryAfter('120', at)).toBe(120_000)
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:05:00 GMT', at)).toBe(300_000)
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', at)).toBe(0)
    expect(parseRetryAfter('999999999', at)).toBe(MAX_RETRY_AFTER_MS)
    expect(parseRetryAfter('soon', at)).toBeNull()
    expect(parseRetryAfter(null, at)).toBeNull()
    const step = (retryAfterMs: number | null) =>
      nextStep({
        outcome: { failure: 'http_5xx', retryAfterMs },
        trigger: 'auto',
        retryIndex: 0,
        now: 0,
        random: () => 0.5,
      })
    expect(step(120_000)).toStrictEqual({
      status: 'pending',
      retryIndex: 1,
      nextAttemptAt: 120_000,
    })
    expect(step(1_000)).toStrictEqual({ status: 'pending', retryIndex: 1, nextAttemptAt: 10_000 })
  })

  it('treats only 2xx as success and classifies the rest', () => {
    expect([200, 201, 204, 299].map(classifyStatus)).toStrictEqual([null, null, null, null])
    expect([301, 302, 307, 410, 400, 429, 500, 503, 101].map(classifyStatus)).toStrictEqual([
      'redirect',
      'redirect',
      'redirect',
      'gone',
      'http_4xx',
      'http_4xx',
      'http_5xx',
      'http_5xx',
      'http_other',
    ])
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    })
    expect(classifyError(refused)).toBe('connection_refused')
    expect(classifyError(new DOMException('timed out', 'TimeoutError'))).toBe('timeout')
    expect(classifyError(new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } }))).toBe(
      'dns',
    )
    expect(classifyError(new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }))).toBe(
      'connection_reset',
    )
    expect(classifyError(new Error('Network connection lost.'))).toBe('network')
  })

  it('holds on 410 and never reschedules a manual attempt past the automatic schedule', () => {
    const base = { retryAfterMs: null }
    expect(
      nextStep({
        outcome: { ...base, failure: 'gone' },
        trigger: 'auto',
        retryIndex: 2,
        now: 0,
        random: Math.random,
      }),
    ).toStrictEqual({ status: 'held', retryIndex: 3 })
    expect(
      nextStep({
        outcome: { ...base, failure: 'http_5xx' },
        trigger: 'manual',
        retryIndex: 10,
        now: 0,
        random: Math.random,
      }),
    ).toStrictEqual({ status: 'failed', retryIndex: 10 })
    expect(
      nextStep({
        outcome: { ...base, failure: null },
        trigger: 'manual',
        retryIndex: 10,
        now: 0,
        random: Math.random,
      }),
    ).toStrictEqual({ status: 'succeeded', retryIndex: 10 })
  })
})
