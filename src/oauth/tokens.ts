import { and, eq, isNull, sql } from 'drizzle-orm'
import { hashSecret, randomSecret } from '../crypto.ts'
import { atomic, type Db, prepared, type Statement } from '../db/index.ts'
import { authorizationCodes, grants, tokens } from '../db/schema.ts'
import type { Deps } from '../http/env.ts'

/*
 * Opaque bearer tokens. The prefixes make a leaked token recognisable to secret scanners; only a
 * SHA-256 of each token is stored.
 */
export const ACCESS_PREFIX = 'pga_'
export const REFRESH_PREFIX = 'pgr_'
export const CODE_PREFIX = 'pgc_'

export type TokenRow = typeof tokens.$inferSelect

export interface IssuedTokens {
  accessToken: string
  refreshToken: string
  expiresIn: number
  statements: Statement[]
}

/** Builds (without running) the inserts for a new access + refresh token pair. */
export async function buildTokenPair(
  deps: Deps,
  input: {
    clientId: string
    userId: string
    grantId: string
    familyId: string
    parentId: string | null
    scope: string
  },
): Promise<IssuedTokens> {
  const now = deps.now()
  const accessToken = randomSecret(ACCESS_PREFIX)
  const refreshToken = randomSecret(REFRESH_PREFIX)
  const common = {
    clientId: input.clientId,
    userId: input.userId,
    grantId: input.grantId,
    familyId: input.familyId,
    scope: input.scope,
    createdAt: now,
  }
  const expiresIn = deps.config.accessTokenTtlSeconds
  return {
    accessToken,
    refreshToken,
    expiresIn,
    statements: [
      deps.db.insert(tokens).values({
        ...common,
        id: crypto.randomUUID(),
        kind: 'access',
        tokenHash: await hashSecret(accessToken),
        parentId: input.parentId,
        expiresAt: now + expiresIn * 1000,
      }),
      deps.db.insert(tokens).values({
        ...common,
        id: crypto.randomUUID(),
        kind: 'refresh',
        tokenHash: await hashSecret(refreshToken),
        parentId: input.parentId,
        expiresAt: now + deps.config.refreshTokenTtlSeconds * 1000,
      }),
    ],
  }
}

/** Revokes every token descended from one authorization code (a replayed code, a revoked refresh). */
export function revokeFamilyStatements(db: Db, familyId: string, now: number): Statement[] {
  return [
    db
      .update(tokens)
      .set({ revokedAt: now })
      .where(and(eq(tokens.familyId, familyId), isNull(tokens.revokedAt))),
  ]
}

/** Revokes a grant (the user's consent), its unused codes and all its tokens. */
export function revokeGrantStatements(db: Db, grantId: string, now: number): Statement[] {
  return [
    db
      .update(grants)
      .set({ revokedAt: now, updatedAt: now })
      .where(and(eq(grants.id, grantId), isNull(grants.revokedAt))),
    db
      .update(tokens)
      .set({ revokedAt: now })
      .where(and(eq(tokens.grantId, grantId), isNull(tokens.revokedAt))),
    db
      .update(authorizationCodes)
      .set({ usedAt: now })
      .where(and(eq(authorizationCodes.grantId, grantId), isNull(authorizationCodes.usedAt))),
  ]
}

/**
 * Revokes a grant in one write. `before` adds statements that run first, in the same write
 * (the notifier's `access_revoked` event, which must see the grant still live).
 */
export async function revokeGrant(
  deps: Deps,
  grantId: string,
  before?: (db: Db, now: number) => Statement[],
): Promise<void> {
  const now = deps.now()
  await atomic(deps.db, [
    ...(before?.(deps.db, now) ?? []),
    ...revokeGrantStatements(deps.db, grantId, now),
  ])
}

export interface TokenWithGrant {
  token: TokenRow
  grantScope: string
  grantRevokedAt: number | null
}

/** Finds a token by its raw value, with its grant; `undefined` if no such token exists. */
export async function findToken(deps: Deps, raw: string): Promise<TokenWithGrant | undefined> {
  const query = prepared(deps.db, 'findToken', () =>
    deps.db
      .select({ token: tokens, grantScope: grants.scope, grantRevokedAt: grants.revokedAt })
      .from(tokens)
      .innerJoin(grants, eq(grants.id, tokens.grantId))
      .where(eq(tokens.tokenHash, sql.placeholder('hash')))
      .prepare(),
  )
  return query.get({ hash: await hashSecret(raw) })
}

/**
 * Whether a token can be used right now. A refresh token that has been rotated stays usable for
 * the grace window only (for concurrent refreshers).
 */
export function isTokenLive(found: TokenWithGrant, deps: Deps): boolean {
  const now = deps.now()
  const { token } = found
  if (token.revokedAt !== null || found.grantRevokedAt !== null) return false
  if (token.expiresAt <= now) return false
  if (token.kind === 'refresh' && token.rotatedAt !== null) {
    return now - token.rotatedAt <= deps.config.refreshGraceSeconds * 1000
  }
  return true
}
