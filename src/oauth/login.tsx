import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { dummyPasswordHash, verifyPassword } from '../crypto.ts'
import { users } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { PageError } from '../http/errors.ts'
import { readForm } from '../http/form.ts'
import { DEMO_PASSWORD, DEMO_USERS } from '../mock/demo.ts'
import { renderPage } from '../views/layout.tsx'
import { renderLogin } from '../views/login.tsx'
import { loadRequest } from './authorize.ts'
import { findClient } from './clients.ts'
import { currentSession, ensureSession, requireCsrf, signIn, signOut } from './session.ts'
import { lockedForSeconds, recordFailure, throttleKeys } from './throttle.ts'

export const loginRoutes = new Hono<AppEnv>()

/** Mock mode only: the demo accounts, offered for one-click sign-in. Never in production. */
function demoAccounts(mock: boolean) {
  if (!mock) return {}
  return {
    demoUsers: DEMO_USERS.map((u) => ({
      email: u.email,
      displayName: u.displayName,
      password: DEMO_PASSWORD,
    })),
  }
}

/** Where to go after signing in: the pending authorization, or the account page. */
function afterSignIn(tx: string | null): string {
  return tx ? `/oauth/consent?tx=${encodeURIComponent(tx)}` : '/account'
}

loginRoutes.get('/login', async (c) => {
  const session = await ensureSession(c)
  const txId = c.req.query('tx') ?? null
  const tx = txId ? await loadRequest(c, txId, session) : null
  if (session.userId) return c.redirect(afterSignIn(tx?.id ?? null), 302)
  const client = tx ? await findClient(c, tx.clientId) : undefined
  return renderLogin(c, {
    csrf: session.csrfToken,
    tx: tx?.id ?? null,
    email: tx?.loginHint ?? '',
    ...(client ? { clientName: client.name } : {}),
    ...demoAccounts(c.var.deps.config.mock),
  })
})

loginRoutes.post('/login', async (c) => {
  const { db, now, remoteAddress, passwordIterations } = c.var.deps
  const parsed = await readForm(c)
  if (!parsed.ok) {
    throw new PageError(
      400,
      'Invalid form',
      `The sign-in form could not be read: ${parsed.failure.message}.`,
    )
  }
  const { form } = parsed
  const session = await requireCsrf(await currentSession(c), form.get('csrf'))
  const txId = form.get('tx')
  const tx = txId ? await loadRequest(c, txId, session) : null
  const email = (form.get('email') ?? '').trim().toLowerCase()
  const password = form.get('password') ?? ''
  const client = tx ? await findClient(c, tx.clientId) : undefined
  const view = {
    csrf: session.csrfToken,
    tx: tx?.id ?? null,
    email,
    ...(client ? { clientName: client.name } : {}),
  }
  if (email === '' || password === '') {
    return renderLogin(c, { ...view, error: 'Enter your email and password.', status: 400 })
  }

  const keys = throttleKeys(email, remoteAddress(c))
  const wait = await lockedForSeconds(db, keys, now())
  if (wait > 0) {
    return renderPage(
      c,
      'Too many attempts',
      <>
        <h1>Too many sign-in attempts</h1>
        <p>For your security, sign-in is paused. Try again in {Math.ceil(wait / 60)} minute(s).</p>
      </>,
      { status: 429, headers: { 'retry-after': String(wait) } },
    )
  }

  const user = await db.select().from(users).where(eq(users.email, email)).get()
  // Unknown accounts cost one KDF run too, and get the same answer as a wrong password.
  const ok = await verifyPassword(
    password,
    user?.passwordHash ?? (await dummyPasswordHash(passwordIterations)),
  )
  if (!user?.passwordHash || !ok) {
    await recordFailure(db, keys, now())
    return renderLogin(c, { ...view, error: 'Incorrect email or password.', status: 401 })
  }
  await signIn(c, session, user.id)
  return c.redirect(afterSignIn(tx?.id ?? null), 303)
})

loginRoutes.post('/logout', async (c) => {
  const parsed = await readForm(c)
  const session = await requireCsrf(
    await currentSession(c),
    parsed.ok ? parsed.form.get('csrf') : null,
  )
  await signOut(c, session)
  return c.redirect('/login', 303)
})
