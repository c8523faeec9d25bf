import { afterEach, describe, expect, it } from 'vitest'
import { conformanceChecks, runConformance } from '../../src/kit/conformance/index.ts'
import { DAYS_OF_DATA, failedNames, type KitFixture, kitFixture } from './harness.ts'

let fx: KitFixture | undefined
afterEach(async () => {
  await fx?.close()
  fx = undefined
})

const EXPECTED_CHECKS = [
  'discovery: metadata',
  'discovery: PKCE S256 and iss',
  'oauth: authorization (login + consent)',
  'oauth: PKCE required',
  'oauth: token exchange',
  'oauth: wrong code_verifier refused',
  'oauth: refresh rotation',
  'data: user',
  'data: sleep pagination',
  'data: sleep with_samples',
  'data: sleep schema',
  'data: activity pagination',
  'data: activity with_samples',
  'data: activity schema',
  'data: daily pagination',
  'data: daily with_samples',
  'data: daily schema',
  'oauth: introspect active token',
  'oauth: revoke',
  'oauth: introspect after revoke',
]

describe('the conformance kit against a real gateway', () => {
  it('passes every check (no admin key: no webhook checks)', async () => {
    fx = await kitFixture()
    const seen: string[] = []
    const report = await runConformance(fx.options({ onResult: (r) => seen.push(r.name) }))
    const failures = report.checks.filter((c) => !c.ok).map((c) => `${c.name} — ${c.detail}`)
    expect(failures).toEqual([])
    expect(report.checks.map((c) => c.name)).toEqual(EXPECTED_CHECKS)
    expect(seen).toEqual(EXPECTED_CHECKS)
    expect(report).toMatchObject({ passed: EXPECTED_CHECKS.length, failed: 0 })
    for (const check of report.checks) expect(check.ms).toBeGreaterThanOrEqual(0)

    const detail = (name: string) => report.checks.find((c) => c.name === name)?.detail
    // Pages of 5 over 6 records: two pages, so next_token was followed.
    expect(detail('data: sleep pagination')).toBe(
      `${DAYS_OF_DATA} records in 2 pages of ≤5, same as with limit=500`,
    )
    expect(detail('data: sleep with_samples')).toMatch(
      /records carry samples with with_samples=true/,
    )
    expect(detail('data: activity schema')).toBe(
      `${DAYS_OF_DATA * 2} records valid (with and without samples)`,
    )
    expect(detail('oauth: authorization (login + consent)')).toMatch(/signed in as .*, consent for/)
  })

  it('runs the webhook checks only with an admin key', () => {
    const without = conformanceChecks({}).map((c) => c.name)
    const withKey = conformanceChecks({ adminKey: 'k' }).map((c) => c.name)
    expect(without).toEqual(EXPECTED_CHECKS)
    expect(withKey.filter((n) => !without.includes(n))).toEqual([
      'webhooks: receiver registered',
      'webhooks: mock sync',
      'webhooks: events delivered',
      'webhooks: signatures',
      'webhooks: event bodies',
      'webhooks: webhook_url restored',
    ])
    // Revocation stays last: it ends the session the webhook checks need.
    expect(withKey.slice(-3)).toEqual(EXPECTED_CHECKS.slice(-3))
  })

  it('reports every check failed when the issuer does not answer', async () => {
    const report = await runConformance({
      issuer: 'http://127.0.0.1:9',
      clientId: 'x',
      clientSecret: 'y',
      redirectUri: 'http://127.0.0.1:9/cb',
      user: 'a@example.test',
      password: 'p',
      requestTimeoutMs: 2000,
    })
    expect(report.passed).toBe(0)
    expect(failedNames(report)).toEqual(EXPECTED_CHECKS)
    expect(report.checks[0]?.detail).toMatch(/ECONNREFUSED|fetch failed/)
    expect(report.checks[1]?.detail).toBe('skipped: depends on discovery: metadata')
  })
})
