import { inspectRoutes } from 'hono/dev'
import { afterAll, describe, expect, it } from 'vitest'
import { SCOPES } from '../../src/config.ts'
import { createTestGateway, type TestGateway } from '../helpers/app.ts'
import { documentedOperations, spec } from '../helpers/openapi.ts'

/**
 * Documented in openapi.yaml but not served yet. Each entry must name the work it waits for;
 * the test below fails as soon as one of them is served, so the list cannot go stale.
 */
const DOCUMENTED_NOT_BUILT: readonly string[] = []

/**
 * Served but deliberately not documented yet. Keep this empty except for work in progress whose
 * documentation is scheduled; the test fails as soon as one of these is documented, so the list
 * cannot go stale either.
 */
const SERVED_NOT_DOCUMENTED: readonly string[] = []

/** `/admin/v1/clients/:id` and `/admin/v1/clients/{client_id}` both become `/admin/v1/clients/{}`. */
function normalize(operation: string): string {
  return operation
    .replace(/:[A-Za-z_][A-Za-z0-9_]*(\{[^}]*\})?\??/g, '{}')
    .replace(/\{[^}]*\}/g, '{}')
}

function servedOperations(gw: TestGateway): string[] {
  return (
    inspectRoutes(gw.app)
      // Middleware serves nothing itself, whether it is registered on a wildcard (`/v1/*`) or on
      // one path (mock mode's fault injection on `/oauth/token`): Hono tells it by its `next`.
      .filter((r) => !r.isMiddleware)
      .map((r) => `${r.method} ${r.path}`)
  )
}

describe('openapi.yaml documents exactly the routes the app serves', () => {
  // Mock mode adds routes (the demo client's callback page), so both configurations count.
  const gateways = [createTestGateway(), createTestGateway({ env: { MOCK: '1' } })]
  afterAll(() => {
    for (const gw of gateways) gw.close()
  })
  const served = [...new Set(gateways.flatMap(servedOperations))]
  const servedKeys = new Set(served.map(normalize))
  const documented = documentedOperations()
  const documentedKeys = new Set(documented.map(normalize))

  it('finds the routes (the filter keeps real routes)', () => {
    expect(served).toContain('GET /.well-known/oauth-authorization-server')
    expect(served).toContain('POST /oauth/token')
    expect(served.length).toBeGreaterThan(15)
  })

  it('counts as middleware only what wraps routes served by a handler', () => {
    // A handler declared with a `next` parameter would pass for middleware and escape this
    // check; middleware is registered for every method, or wraps a route a handler serves.
    const hidden = gateways
      .flatMap((gw) => inspectRoutes(gw.app))
      .filter((r) => r.isMiddleware && r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path}`)
      .filter((op) => !served.includes(op))
    expect(hidden).toStrictEqual([])
  })

  it('documents every served route with its method', () => {
    const undocumented = served.filter(
      (op) => !documentedKeys.has(normalize(op)) && !SERVED_NOT_DOCUMENTED.includes(op),
    )
    expect(undocumented).toStrictEqual([])
  })

  it('serves every documented operation', () => {
    const unserved = documented.filter(
      (op) => !servedKeys.has(normalize(op)) && !DOCUMENTED_NOT_BUILT.includes(op),
    )
    expect(unserved).toStrictEqual([])
  })

  it('keeps its exception lists current', () => {
    expect(DOCUMENTED_NOT_BUILT.filter((op) => servedKeys.has(normalize(op)))).toStrictEqual([])
    expect(DOCUMENTED_NOT_BUILT.filter((op) => !documentedKeys.has(normalize(op)))).toStrictEqual(
      [],
    )
    expect(SERVED_NOT_DOCUMENTED.filter((op) => documentedKeys.has(normalize(op)))).toStrictEqual(
      [],
    )
    expect(SERVED_NOT_DOCUMENTED.filter((op) => !servedKeys.has(normalize(op)))).toStrictEqual([])
  })
})

describe('openapi.yaml agrees with the code', () => {
  it('lists the scopes the gateway knows, in the same order', () => {
    const components = spec.components as {
      schemas: { Scope: { enum: string[] } }
      securitySchemes: {
        terraOAuth: { flows: { authorizationCode: { scopes: Record<string, string> } } }
      }
    }
    expect(components.schemas.Scope.enum).toStrictEqual([...SCOPES])
    expect(
      Object.keys(components.securitySchemes.terraOAuth.flows.authorizationCode.scopes),
    ).toStrictEqual([...SCOPES])
  })

  it('shows the metadata the server really publishes', async () => {
    const gw = createTestGateway()
    const response = await gw.fetch('/.well-known/oauth-authorization-server')
    const example = (spec.components.examples as Record<string, { value: unknown }>).Metadata?.value
    expect(await response.json()).toStrictEqual(example)
    gw.close()
  })

  it('asks each data endpoint for its own scope, and /v1/user for none', () => {
    const security = (path: string) =>
      (spec.paths[path]?.get as { security?: Record<string, string[]>[] } | undefined)?.security
    for (const type of ['sleep', 'activity', 'daily']) {
      expect(security(`/v1/${type}`), type).toStrictEqual([{ terraOAuth: [`${type}:read`] }])
    }
    expect(security('/v1/user')).toStrictEqual([{ terraOAuth: [] }])
  })

  it('gives every operation and webhook an id, a summary and a tag', () => {
    const items = [...Object.entries(spec.paths), ...Object.entries(spec.webhooks ?? {})]
    const incomplete = items.flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => method !== 'parameters')
        .filter(([, op]) => {
          const o = op as { operationId?: string; summary?: string; tags?: string[] }
          return !o.operationId || !o.summary || !o.tags?.length
        })
        .map(([method]) => `${method} ${path}`),
    )
    expect(incomplete).toStrictEqual([])
  })
})
