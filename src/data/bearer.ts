import type { Context, MiddlewareHandler } from 'hono'
import type { Scope } from '../config.ts'
import type { AppEnv } from '../http/env.ts'
import { Problem } from '../http/errors.ts'
import { intersectScope } from '../oauth/scopes.ts'
import { findToken, isTokenLive } from '../oauth/tokens.ts'

/** Who is calling a data endpoint: the token's user and client, and what it may read now. */
export interface Principal {
  userId: string
  clientId: string
  /** The token's scope narrowed by the grant's current scope (consent can shrink later). */
  scopes: Scope[]
}

export type DataEnv = AppEnv & { Variables: AppEnv['Variables'] & { principal: Principal } }

const REALM = 'realm="partner-gateway"'

function invalidToken(detail: string): Problem {
  return new Problem(401, 'Unauthorized', detail, {
    headers: {
      'www-authenticate': `Bearer ${REALM}, error="invalid_token", error_description="${detail}"`,
    },
  })
}

/**
 * RFC 6750 bearer authentication. No credentials ⇒ 401 with a bare `Bearer` challenge (§3.1: no
 * error code when the request carried no token); a malformed, unknown, expired or revoked token ⇒
 * `invalid_token`.
 */
export const requireBearer: MiddlewareHandler<DataEnv> = async (c, next) => {
  const header = c.req.header('authorization')
  if (header === undefined || !/^Bearer(\s|$)/i.test(header)) {
    throw new Problem(
      401,
      'Unauthorized',
      'Send the user\'s access token as "Authorization: Bearer <token>".',
      {
        headers: { 'www-authenticate': `Bearer ${REALM}` },
      },
    )
  }
  const token = header.replace(/^Bearer\s*/i, '').trim()
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) throw invalidToken('The access token is malformed.')
  const deps = c.var.deps
  const found = await findToken(deps, token)
  if (found?.token.kind !== 'access') throw invalidToken('The access token is unknown.')
  if (!isTokenLive(found, deps)) throw invalidToken('The access token has expired or was revoked.')
  c.set('principal', {
    userId: found.token.userId,
    clientId: found.token.clientId,
    scopes: intersectScope(found.token.scope, found.grantScope),
  })
  await next()
}

/** 403 `insufficient_scope` naming the scope needed (RFC 6750 §3.1). */
export function requireScope(c: Context<DataEnv>, scope: Scope): void {
  if (c.var.principal.scopes.includes(scope)) return
  throw new Problem(403, 'Forbidden', `This token was not granted ${scope}.`, {
    headers: {
      'www-authenticate': `Bearer ${REALM}, error="insufficient_scope", scope="${scope}"`,
    },
  })
}
