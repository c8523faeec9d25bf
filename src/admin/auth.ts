import { createMiddleware } from 'hono/factory'
import { timingSafeEqualStrings } from '../crypto.ts'
import type { AppEnv } from '../http/env.ts'
import { Problem } from '../http/errors.ts'

const REALM = 'partner-gateway-admin'

/**
 * `Authorization: Bearer <ADMIN_API_KEY>` on every admin and ingest route (RFC 6750 §3: no error
 * code when no credentials were sent, `invalid_token` when the wrong ones were). The key is read
 * from `deps.config` on every request because mock mode sets it at start-up, after the app is
 * built. Register this before the routes it guards: Hono middleware added after a route does not
 * run for it.
 */
export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.var.deps.config.adminApiKey
  if (!expected) {
    throw new Problem(
      503,
      'Service Unavailable',
      'The admin API is disabled because no admin key is configured (ADMIN_API_KEY).',
    )
  }
  const presented = bearerToken(c.req.header('authorization'))
  if (presented === null) {
    throw new Problem(401, 'Unauthorized', 'Send the admin key as Authorization: Bearer <key>.', {
      headers: { 'www-authenticate': `Bearer realm="${REALM}"` },
    })
  }
  // Compares SHA-256 digests in constant time, so neither the length nor a common prefix of the
  // presented key tells anything about the real one.
  if (!(await timingSafeEqualStrings(presented, expected))) {
    throw new Problem(401, 'Unauthorized', 'The admin key is not valid.', {
      headers: { 'www-authenticate': `Bearer realm="${REALM}", error="invalid_token"` },
    })
  }
  await next()
  // Admin answers may carry secrets (client and webhook secrets are shown once); never cache them.
  if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store')
})

/**
 * The token of a `Bearer` Authorization header; `null` when there is none, or the header uses
 * another scheme (both mean "no credentials" for this realm). An empty token is returned as `''`
 * and fails the comparison.
 */
function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null
  const match = /^Bearer(?:\s+(.*))?$/i.exec(header.trim())
  if (!match) return null
  return (match[1] ?? '').trim()
}
