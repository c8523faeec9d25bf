import { afterEach, describe, expect, it } from 'vitest'
import { runConformance } from '../../src/kit/conformance/index.ts'
import { failedNames, type KitFixture, kitFixture, type Wrap } from './harness.ts'

/*
 * The kit must be able to fail: faults injected into a real gateway, and exactly the checks that
 * cover them fail (with their dependants, reported as skipped).
 */

let fx: KitFixture | undefined
afterEach(async () => {
  await fx?.close()
  fx = undefined
})

const ALL_BUT_DISCOVERY = [
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

function detailOf(report: Awaited<ReturnType<typeof runConformance>>, name: string) {
  return report.checks.find((c) => c.name === name)?.detail ?? ''
}

/** Rewrites the JSON body of the gateway's answers to `path`. */
function rewrite(path: string, edit: (body: { data: Record<string, unknown>[] }) => void): Wrap {
  return async (request, next) => {
    const response = await next(request)
    if (new URL(request.url).pathname !== path || response.status !== 200) return response
    const body = (await response.json()) as { data: Record<string, unknown>[] }
    edit(body)
    const headers = new Headers(response.headers)
    headers.delete('content-length')
    return new Response(JSON.stringify(body), { status: 200, headers })
  }
}

describe('the conformance kit reports exactly the broken checks', () => {
  it('a redirect URI the client has not registered fails the authorization and what needs it', async () => {
    fx = await kitFixture()
    const report = await runConformance(
      fx.options({ redirectUri: 'http://127.0.0.1:9/not-registered' }),
    )
    expect(failedNames(report)).toEqual(ALL_BUT_DISCOVERY)
    expect(detailOf(report, 'oauth: authorization (login + consent)')).toMatch(
      /answered 400: Invalid redirect address/,
    )
    expect(detailOf(report, 'oauth: token exchange')).toBe(
      'skipped: depends on oauth: authorization (login + consent)',
    )
    expect(report.failed).toBe(ALL_BUT_DISCOVERY.length)
    expect(report.passed).toBe(2)
  })

  it('a wrong client secret fails the token exchange and what needs tokens', async () => {
    fx = await kitFixture()
    const report = await runConformance(fx.options({ clientSecret: 'not-the-secret' }))
    expect(failedNames(report)).toEqual(
      ALL_BUT_DISCOVERY.filter(
        (n) => n !== 'oauth: authorization (login + consent)' && n !== 'oauth: PKCE required',
      ),
    )
    expect(detailOf(report, 'oauth: token exchange')).toMatch(/401/)
    expect(detailOf(report, 'oauth: token exchange')).toMatch(/invalid_client/)
  })

  it('a sleep endpoint answering 500 fails exactly the sleep checks', async () => {
    fx = await kitFixture({
      wrap: (request, next) =>
        new URL(request.url).pathname === '/v1/sleep'
          ? Promise.resolve(
              Response.json(
                {
                  type: 'about:blank',
                  title: 'Internal Server Error',
                  status: 500,
                  detail: 'boom',
                },
                { status: 500, headers: { 'content-type': 'application/problem+json' } },
              ),
            )
          : next(request),
    })
    const report = await runConformance(fx.options())
    expect(failedNames(report)).toEqual([
      'data: sleep pagination',
      'data: sleep with_samples',
      'data: sleep schema',
    ])
    expect(detailOf(report, 'data: sleep pagination')).toBe(
      'GET /v1/sleep (page 1, limit 5, with_samples=false) answered 500: Internal Server Error: boom',
    )
    expect(detailOf(report, 'data: sleep schema')).toBe(
      'skipped: depends on data: sleep pagination',
    )
  })

  it('a record that breaks the model fails the schema check, naming the record', async () => {
    fx = await kitFixture({
      wrap: rewrite('/v1/sleep', (body) => {
        for (const record of body.data) {
          const metadata = record.metadata as Record<string, unknown>
          if (metadata.summary_id === 'sleep-3') metadata.upload_type = 42
        }
      }),
    })
    const report = await runConformance(fx.options())
    expect(failedNames(report)).toEqual(['data: sleep schema'])
    expect(detailOf(report, 'data: sleep schema')).toMatch(
      /^1 record\(s\) break the sleep model: sleep sleep-3: metadata\.upload_type: /,
    )
  })

  it('a page that repeats a record fails the pagination check', async () => {
    let first: Record<string, unknown> | undefined
    fx = await kitFixture({
      wrap: rewrite('/v1/activity', (body) => {
        // Every page starts with the first record ever served: a cursor that does not advance.
        first ??= body.data[0]
        if (first && body.data[0] !== first) body.data[0] = first
      }),
    })
    const report = await runConformance(fx.options())
    expect(failedNames(report)).toEqual([
      'data: activity pagination',
      'data: activity with_samples',
      'data: activity schema',
    ])
    expect(detailOf(report, 'data: activity pagination')).toMatch(
      /^records repeated across pages: activity activity-\d ×2/,
    )
  })

  it('sample arrays sent without with_samples fail the samples check only', async () => {
    fx = await kitFixture({
      wrap: async (request, next) => {
        const url = new URL(request.url)
        if (url.pathname === '/v1/daily' && url.searchParams.get('with_samples') === 'false') {
          url.searchParams.set('with_samples', 'true')
          return next(new Request(url, request))
        }
        return next(request)
      },
    })
    const report = await runConformance(fx.options())
    expect(failedNames(report)).toEqual(['data: daily with_samples'])
    expect(detailOf(report, 'data: daily with_samples')).toMatch(
      /^sample arrays without with_samples=true: daily \d{4}-\d{2}-\d{2}: /,
    )
  })
})
