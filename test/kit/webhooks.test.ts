import { afterEach, describe, expect, it } from 'vitest'
import { runConformance } from '../../src/kit/conformance/index.ts'
import { ADMIN_KEY } from '../helpers/app.ts'
import { failedNames, type KitFixture, kitFixture, mockSyncWrap } from './harness.ts'

/*
 * The webhook checks against a gateway whose notifier runs in process. `/admin/v1/mock/sync` is
 * the mock provider's (not built here): a wrapper stands in for it by ingesting one new record,
 * through the real ingest path, so the real notifier signs and sends the event.
 */

let fx: KitFixture | undefined
afterEach(async () => {
  await fx?.close()
  fx = undefined
})

const WEBHOOK_CHECKS = [
  'webhooks: receiver registered',
  'webhooks: mock sync',
  'webhooks: events delivered',
  'webhooks: signatures',
  'webhooks: event bodies',
  'webhooks: webhook_url restored',
]

function detailOf(report: Awaited<ReturnType<typeof runConformance>>, name: string) {
  return report.checks.find((c) => c.name === name)?.detail ?? ''
}

async function webhookUrl(f: KitFixture): Promise<unknown> {
  const response = await f.gw.admin(`/clients/${f.clientId}`)
  return ((await response.json()) as { webhook_url: unknown }).webhook_url
}

describe('the conformance kit with --admin-key', () => {
  it('receives the events of a sync, verifies terra signatures and bodies, restores the URL', async () => {
    fx = await kitFixture({ notifier: true, wrap: mockSyncWrap(() => fx) })
    const progress: string[] = []
    const report = await runConformance(
      fx.options({
        adminKey: ADMIN_KEY,
        webhookSecret: fx.webhookSecret,
        webhookTimeoutMs: 15_000,
        onProgress: (m) => progress.push(m),
      }),
    )
    const failures = report.checks.filter((c) => !c.ok).map((c) => `${c.name} — ${c.detail}`)
    expect(failures).toEqual([])
    expect(report.checks.map((c) => c.name)).toEqual(expect.arrayContaining(WEBHOOK_CHECKS))
    expect(detailOf(report, 'webhooks: events delivered')).toMatch(/^1 event\(s\) \(sleep\)/)
    expect(detailOf(report, 'webhooks: signatures')).toBe('1 signature(s) verify (terra-signature)')
    expect(detailOf(report, 'webhooks: event bodies')).toBe('1 event(s), 1 record(s) valid')
    expect(await webhookUrl(fx)).toBeNull()
  })

  it('verifies Standard Webhooks signatures for a client on the standard scheme', async () => {
    fx = await kitFixture({ notifier: true, wrap: mockSyncWrap(() => fx) })
    const switched = await fx.gw.admin(`/clients/${fx.clientId}`, {
      method: 'PATCH',
      json: { signature_scheme: 'standard', webhook_url: 'https://terra.example/hook' },
    })
    const { webhook_secret } = (await switched.json()) as { webhook_secret: string }
    expect(webhook_secret).toMatch(/^whsec_/)
    const report = await runConformance(
      fx.options({ adminKey: ADMIN_KEY, webhookSecret: webhook_secret, webhookTimeoutMs: 15_000 }),
    )
    expect(failedNames(report)).toEqual([])
    expect(detailOf(report, 'webhooks: signatures')).toMatch(/verify \(Standard Webhooks, /)
    expect(detailOf(report, 'webhooks: receiver registered')).toMatch(
      /\(was https:\/\/terra\.example\/hook\), standard signatures/,
    )
    expect(await webhookUrl(fx)).toBe('https://terra.example/hook')
  })

  it('a wrong webhook secret fails exactly the signature check', async () => {
    fx = await kitFixture({ notifier: true, wrap: mockSyncWrap(() => fx) })
    const report = await runConformance(
      fx.options({
        adminKey: ADMIN_KEY,
        webhookSecret: 'pgw_not_the_secret',
        webhookTimeoutMs: 15_000,
      }),
    )
    expect(failedNames(report)).toEqual(['webhooks: signatures'])
    expect(detailOf(report, 'webhooks: signatures')).toMatch(
      /^1 signature\(s\) do not verify: request 1 \(webhook-id .+\): no v1 signature matches the webhook secret$/,
    )
  })

  it('without a mock sync endpoint, the sync check says so and the event checks are skipped', async () => {
    fx = await kitFixture()
    const report = await runConformance(
      fx.options({ adminKey: ADMIN_KEY, webhookSecret: fx.webhookSecret }),
    )
    expect(failedNames(report)).toEqual([
      'webhooks: mock sync',
      'webhooks: events delivered',
      'webhooks: signatures',
      'webhooks: event bodies',
    ])
    expect(detailOf(report, 'webhooks: mock sync')).toMatch(
      /^the deployment has no \/admin\/v1\/mock\/sync \(not in mock mode\?\) — 404: /,
    )
    expect(detailOf(report, 'webhooks: events delivered')).toBe(
      'skipped: depends on webhooks: mock sync',
    )
    // The receiver was registered and the previous (absent) webhook URL put back.
    expect(detailOf(report, 'webhooks: webhook_url restored')).toBe('webhook_url back to none')
    expect(await webhookUrl(fx)).toBeNull()
  })

  it('a wrong admin key fails the webhook checks with a clear reason', async () => {
    fx = await kitFixture()
    const report = await runConformance(fx.options({ adminKey: 'not-the-admin-key-0123456789' }))
    expect(failedNames(report)).toEqual(WEBHOOK_CHECKS)
    expect(detailOf(report, 'webhooks: receiver registered')).toBe(
      `GET /admin/v1/clients/${fx.clientId}: the admin key was refused (401)`,
    )
  })
})
