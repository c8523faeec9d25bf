import { Hono } from 'hono'
import type { AppEnv } from '../http/env.ts'
import { authenticateClient } from './clients.ts'
import { readOAuthForm, requireParam } from './oauth-form.ts'
import { formatScope, intersectScope } from './scopes.ts'
import { findToken, isTokenLive } from './tokens.ts'

export const introspectRoutes = new Hono<AppEnv>()

/**
 * RFC 7662. A token that is unknown, expired, revoked or issued to another client is exactly
 * `{"active":false}` (§2.2: nothing else may leak).
 */
introspectRoutes.post('/oauth/introspect', async (c) => {
  const deps = c.var.deps
  const form = await readOAuthForm(c)
  const client = await authenticateClient(c, form)
  const raw = requireParam(form, 'token')
  const found = await findToken(deps, raw)
  const headers = { 'cache-control': 'no-store' }
  if (!found || found.token.clientId !== client.id || !isTokenLive(found, deps)) {
    return c.json({ active: false }, 200, headers)
  }
  const { token } = found
  return c.json(
    {
      active: true,
      scope: formatScope(intersectScope(token.scope, found.grantScope)),
      client_id: token.clientId,
      ...(token.kind === 'access' ? { token_type: 'Bearer' } : {}),
      exp: Math.floor(token.expiresAt / 1000),
      iat: Math.floor(token.createdAt / 1000),
      sub: token.userId,
      user_id: token.userId,
      iss: deps.config.issuer,
    },
    200,
    headers,
  )
})
