import { and, desc, eq, isNull } from 'drizzle-orm'
import { Hono } from 'hono'
import { clients, grants } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { PageError } from '../http/errors.ts'
import { readForm } from '../http/form.ts'
import { kickNotifier } from '../notify/kick.ts'
import { accessRevokedStatement } from '../notify/lifecycle.ts'
import { renderAccount } from '../views/account.tsx'
import { splitScope } from './scopes.ts'
import { currentSession, ensureSession, requireCsrf, sessionUser } from './session.ts'
import { revokeGrant } from './tokens.ts'

export const accountRoutes = new Hono<AppEnv>()

accountRoutes.get('/account', async (c) => {
  const session = await ensureSession(c)
  const user = await sessionUser(c, session)
  if (!user) return c.redirect('/login', 302)
  const rows = await c.var.deps.db
    .select({ grant: grants, clientName: clients.name })
    .from(grants)
    .innerJoin(clients, eq(clients.id, grants.clientId))
    .where(and(eq(grants.userId, user.id), isNull(grants.revokedAt)))
    .orderBy(desc(grants.createdAt))
    .all()
  return renderAccount(c, {
    csrf: session.csrfToken,
    email: user.email,
    apps: rows.map((r) => ({
      grantId: r.grant.id,
      clientName: r.clientName,
      scopes: splitScope(r.grant.scope),
      connectedAt: new Date(r.grant.createdAt).toISOString().slice(0, 10),
    })),
  })
})

/** Disconnect: revokes the grant and every token issued under it, and tells the client. */
accountRoutes.post('/account/disconnect', async (c) => {
  const parsed = await readForm(c)
  if (!parsed.ok) throw new PageError(400, 'Invalid form', parsed.failure.message)
  const session = await requireCsrf(await currentSession(c), parsed.form.get('csrf'))
  const user = await sessionUser(c, session)
  if (!user) return c.redirect('/login', 303)
  const grantId = parsed.form.get('grant_id') ?? ''
  const grant = await c.var.deps.db
    .select()
    .from(grants)
    .where(and(eq(grants.id, grantId), eq(grants.userId, user.id), isNull(grants.revokedAt)))
    .get()
  if (!grant)
    throw new PageError(404, 'Not connected', 'That app is not connected to your account.')
  // The client hears of it (access_revoked), in the same write as the revocation.
  await revokeGrant(c.var.deps, grant.id, (db, now) => [
    accessRevokedStatement(db, grant.id, 'disconnect', now),
  ])
  kickNotifier(c.var.deps)
  return c.redirect('/account', 303)
})
