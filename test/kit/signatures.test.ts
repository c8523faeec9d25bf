import { describe, expect, it } from 'vitest'
import { eventProblems } from '../../src/kit/conformance/checks-webhooks.ts'
import {
  loadStandardWebhooks,
  standardSignatureProblem,
  standardSignatureProblemBuiltIn,
  terraSignatureProblem,
} from '../../src/kit/conformance/signatures.ts'
import { signatureHeaders } from '../../src/notify/signing.ts'
import { makeSleep } from '../fixtures/records.ts'

/* The kit's verifiers against the gateway's signer, and the event envelope checks. */

const NOW = Date.parse('2026-11-20T10:00:00Z')
const BODY =
  '{"type":"sleep","user":{"user_id":"u1","provider":"MOCKWEAR"},"data":[],"version":"2022-03-16"}'
const TERRA_SECRET = 'pgw_test_secret'
const STANDARD_SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`

async function signed(scheme: 'terra' | 'standard', secrets: string[], atMs = NOW, body = BODY) {
  const headers = await signatureHeaders(scheme, 'evt_1', body, secrets, atMs)
  return { headers: { 'webhook-id': 'evt_1', ...headers }, body, at: NOW }
}

describe('terra-signature verification', () => {
  it('accepts the gateway signature, one of several during a rotation', async () => {
    expect(
      await terraSignatureProblem(await signed('terra', [TERRA_SECRET]), TERRA_SECRET),
    ).toBeNull()
    const rotating = await signed('terra', ['pgw_old', TERRA_SECRET])
    expect(await terraSignatureProblem(rotating, TERRA_SECRET)).toBeNull()
  })

  it('refuses another secret, a changed body, a stale timestamp and a missing header', async () => {
    const request = await signed('terra', [TERRA_SECRET])
    expect(await terraSignatureProblem(request, 'pgw_other')).toBe(
      'no v1 signature matches the webhook secret',
    )
    expect(await terraSignatureProblem({ ...request, body: `${BODY} ` }, TERRA_SECRET)).toBe(
      'no v1 signature matches the webhook secret',
    )
    const stale = await signed('terra', [TERRA_SECRET], NOW - 600_000)
    expect(await terraSignatureProblem(stale, TERRA_SECRET)).toMatch(/600 s away/)
    expect(await terraSignatureProblem({ headers: {}, body: BODY, at: NOW }, TERRA_SECRET)).toBe(
      'no terra-signature header',
    )
  })
})

describe('Standard Webhooks verification', () => {
  it('the built-in verifier accepts the gateway signature and refuses tampering', async () => {
    const request = await signed('standard', [STANDARD_SECRET])
    expect(await standardSignatureProblemBuiltIn(request, STANDARD_SECRET)).toBeNull()
    const other = `whsec_${Buffer.from('another key of 32 bytes, exactly').toString('base64')}`
    expect(await standardSignatureProblemBuiltIn(request, other)).toBe(
      'no v1 signature matches the webhook secret',
    )
    const stale = await signed('standard', [STANDARD_SECRET], NOW - 600_000)
    expect(await standardSignatureProblemBuiltIn(stale, STANDARD_SECRET)).toMatch(/600 s away/)
    expect(
      await standardSignatureProblemBuiltIn({ headers: {}, body: BODY, at: NOW }, STANDARD_SECRET),
    ).toMatch(/^missing webhook-id/)
  })

  it('uses the standardwebhooks package when it is installed', async () => {
    expect(await loadStandardWebhooks()).not.toBeNull()
    const fresh = await signed('standard', [STANDARD_SECRET], Date.now())
    const result = await standardSignatureProblem({ ...fresh, at: Date.now() }, STANDARD_SECRET)
    expect(result).toEqual({ problem: null, verifier: 'standardwebhooks package' })
  })
})

describe('event envelopes', () => {
  const user = { user_id: 'u1', provider: 'MOCKWEAR' }
  const sleep = makeSleep()

  it('accepts full, ping and lifecycle events', () => {
    expect(eventProblems({ type: 'sleep', user, data: [sleep], version: '2022-03-16' })).toEqual([])
    expect(
      eventProblems({
        type: 'daily',
        user,
        ping: { ids: ['2026-03-07'], start_time: null, end_time: null },
      }),
    ).toEqual([])
    expect(eventProblems({ type: 'deletion', user, data_type: 'sleep', ids: ['s1'] })).toEqual([])
    expect(eventProblems({ type: 'access_revoked', user })).toEqual([])
  })

  it('names what is wrong', () => {
    const broken = structuredClone(sleep) as { metadata: Record<string, unknown> }
    broken.metadata.upload_type = 42
    expect(
      eventProblems({ type: 'sleep', user: { user_id: 'u1' }, data: [broken], version: '2021' }),
    ).toEqual([
      'no user.provider',
      'version is "2021", not "2022-03-16"',
      expect.stringMatching(
        new RegExp(`^sleep ${sleep.metadata.summary_id}: metadata\\.upload_type: `),
      ),
    ])
    expect(eventProblems({ type: 'nap', user })).toEqual(['unknown event type "nap"'])
    expect(eventProblems([])).toEqual(['the body is not a JSON object'])
  })
})
