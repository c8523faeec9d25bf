import { and, eq, isNull } from 'drizzle-orm'
import { Hono } from 'hono'
import { atomic } from '../db/index.ts'
import { tokens } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { authenticateClient } from './clients.ts'
import { readOAuthForm, requireParam } from './oauth-form.ts'
import { findToken, revokeFamilyStatements } from './tokens.ts'

export const revokeRoutes = new Hono<AppEnv>()

/**
 * RFC 7009. Revoking a refresh token also revokes every token issued from the same
 * authorization (§2.1 "SHOULD"); revoking an access token revokes only it. The answer is 200
 * whether or not the token existed or belonged to the caller, so the endpoint tells nothing.
 * `token_type_hint` is only a hint (§2.1): the search covers both kinds anyway.
 */
revokeRoutes.post('/oauth/revoke', async (c) => {
  const deps = c.var.deps
  const form = await readOAuthForm(c)
  const client = await authenticateClient(c, form)
  const raw = requireParam(form, 'token')
  const found = await findToken(deps, raw)
  if (found && found.token.clientId === client.id) {
    const now = deps.now()
    if (found.token.kind === 'refresh') {
      await atomic(deps.db, revokeFamilyStatements(deps.db, found.token.familyId, now))
    } else {
      await deps.db
        .update(tokens)
        .set({ revokedAt: now })
        .where(and(eq(tokens.id, found.token.id), isNull(tokens.revokedAt)))
    }
  }
  return c.body(null, 200, { 'cache-control': 'no-store' })
})
