import { and, eq, isNull } from 'drizzle-orm'
import type { Context } from 'hono'
import { Hono } from 'hono'
import { hashSecret, pkceChallenge } from '../crypto.ts'
import { atomic } from '../db/index.ts'
import { authorizationCodes, grants, tokens } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { OAuthError } from '../http/errors.ts'
import { grantTypeLabel } from '../observe/metrics.ts'
import { authenticateClient, type Client } from './clients.ts'
import { readOAuthForm, requireParam } from './oauth-form.ts'
import { formatScope, intersectScope, parseScope } from './scopes.ts'
import {
  buildTokenPair,
  findToken,
  type IssuedTokens,
  revokeFamilyStatements,
  revokeGrant,
} from './tokens.ts'

/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/

export const tokenRoutes = new Hono<AppEnv>()

function tokenResponse(c: Context<AppEnv>, issued: IssuedTokens, scope: string, userId: string) {
  return c.json(
    {
      access_token: issued.accessToken,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      refresh_token: issued.refreshToken,
      scope,
      user_id: userId,
    },
    200,
    { 'cache-control': 'no-store', pragma: 'no-cache' },
  )
}

/** RFC 6749 §4.1.3 with RFC 7636 §4.6. */
async function authorizationCodeGrant(c: Context<AppEnv>, client: Client, form: URLSearchParams) {
  const deps = c.var.deps
  const { db } = deps
  const code = requireParam(form, 'code')
  const redirectUri = requireParam(form, 'redirect_uri')
  const verifier = form.get('code_verifier')
  const row = await db
    .select()
    .from(authorizationCodes)
    .where(eq(authorizationCodes.codeHash, await hashSecret(code)))
    .get()
  if (!row || row.clientId !== client.id) {
    throw new OAuthError(
      'invalid_grant',
      'The authorization code is unknown or was issued to another client.',
    )
  }
  if (row.usedAt !== null) {
    // RFC 6749 §4.1.2: a code used twice means it leaked; revoke what it produced.
    await atomic(db, revokeFamilyStatements(db, row.id, deps.now()))
    throw new OAuthError(
      'invalid_grant',
      'The authorization code was already used; tokens issued from it are revoked.',
    )
  }
  if (row.expiresAt <= deps.now())
    throw new OAuthError('invalid_grant', 'The authorization code has expired.')
  if (row.redirectUri !== redirectUri) {
    throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request.')
  }
  if (verifier === null || verifier === '') {
    throw new OAuthError('invalid_grant', 'code_verifier is required (PKCE).')
  }
  if (!VERIFIER.test(verifier) || (await pkceChallenge(verifier)) !== row.codeChallenge) {
    throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge.')
  }
  // Compare-and-set: of two concurrent exchanges exactly one consumes the code.
  const consumed = await db
    .update(authorizationCodes)
    .set({ usedAt: deps.now() })
    .where(and(eq(authorizationCodes.id, row.id), isNull(authorizationCodes.usedAt)))
    .returning({ id: authorizationCodes.id })
    .all()
  if (consumed.length === 0) {
    await atomic(db, revokeFamilyStatements(db, row.id, deps.now()))
    throw new OAuthError(
      'invalid_grant',
      'The authorization code was already used; tokens issued from it are revoked.',
    )
  }
  const grant = await db.select().from(grants).where(eq(grants.id, row.grantId)).get()
  if (!grant || grant.revokedAt !== null) {
    throw new OAuthError('invalid_grant', 'The user has revoked this authorization.')
  }
  const scope = formatScope(intersectScope(row.scope, grant.scope))
  const issued = await buildTokenPair(deps, {
    clientId: client.id,
    userId: row.userId,
    grantId: row.grantId,
    familyId: row.id,
    parentId: null,
    scope,
  })
  await atomic(db, issued.statements)
  return tokenResponse(c, issued, scope, row.userId)
}

/**
 * RFC 6749 §6 with rotation (OAuth 2.1 §4.3.1): each refresh token is exchanged once; the same
 * token again within the grace window (concurrent refreshers) still works; after it, reuse means
 * the token leaked and the whole grant is revoked.
 */
async function refreshTokenGrant(c: Context<AppEnv>, client: Client, form: URLSearchParams) {
  const deps = c.var.deps
  const { db } = deps
  const raw = requireParam(form, 'refresh_token')
  const found = await findToken(deps, raw)
  if (found?.token.kind !== 'refresh' || found.token.clientId !== client.id) {
    throw new OAuthError(
      'invalid_grant',
      'The refresh token is unknown or was issued to another client.',
    )
  }
  const { token } = found
  const now = deps.now()
  if (token.revokedAt !== null || found.grantRevokedAt !== null) {
    throw new OAuthError('invalid_grant', 'The refresh token has been revoked.')
  }
  if (token.expiresAt <= now)
    throw new OAuthError('invalid_grant', 'The refresh token has expired.')

  // Scope may narrow, never widen (RFC 6749 §6); the grant may have narrowed since.
  const allowed = intersectScope(token.scope, found.grantScope)
  let scope = formatScope(allowed)
  const requested = form.get('scope')
  if (requested !== null) {
    const parsed = parseScope(requested)
    const widened = [...parsed.unknown, ...parsed.scopes.filter((s) => !allowed.includes(s))]
    if (widened.length > 0 || parsed.scopes.length === 0) {
      throw new OAuthError(
        'invalid_scope',
        widened.length > 0
          ? `The requested scope exceeds the original grant: ${widened.join(' ')}.`
          : 'Request at least one scope.',
      )
    }
    scope = formatScope(parsed.scopes)
  }
  if (scope === '') throw new OAuthError('invalid_grant', 'The grant no longer covers any scope.')

  // A first refresh marks the token rotated in the same transaction as the new pair below (two
  // concurrent first refreshes both succeed: both are inside the grace window it starts). A
  // repeat inside the window is allowed; after it, it is a replay.
  if (token.rotatedAt !== null && now - token.rotatedAt > deps.config.refreshGraceSeconds * 1000) {
    await revokeGrant(deps, token.grantId)
    throw new OAuthError(
      'invalid_grant',
      'The refresh token was already used; the grant has been revoked. The user must authorize again.',
    )
  }
  const issued = await buildTokenPair(deps, {
    clientId: client.id,
    userId: token.userId,
    grantId: token.grantId,
    familyId: token.familyId,
    parentId: token.id,
    scope,
  })
  await atomic(db, [
    db
      .update(tokens)
      .set({ rotatedAt: now })
      .where(and(eq(tokens.id, token.id), isNull(tokens.rotatedAt))),
    ...issued.statements,
  ])
  return tokenResponse(c, issued, scope, token.userId)
}

tokenRoutes.post('/oauth/token', async (c) => {
  const { metrics } = c.var.deps
  // Known before anything can fail, so that every outcome is counted against its grant type.
  let grantType: string | null = null
  try {
    const form = await readOAuthForm(c)
    grantType = form.get('grant_type')
    const response = await grant(c, form)
    metrics?.tokenGrant(grantTypeLabel(grantType), 'issued')
    return response
  } catch (err) {
    metrics?.tokenGrant(
      grantTypeLabel(grantType),
      err instanceof OAuthError ? err.error : 'server_error',
    )
    throw err
  }
})

async function grant(c: Context<AppEnv>, form: URLSearchParams) {
  const client = await authenticateClient(c, form)
  const grantType = requireParam(form, 'grant_type')
  if (grantType === 'authorization_code') return authorizationCodeGrant(c, client, form)
  if (grantType === 'refresh_token') return refreshTokenGrant(c, client, form)
  throw new OAuthError(
    'unsupported_grant_type',
    'Only authorization_code and refresh_token are supported.',
  )
}
