import { and, eq, gt } from 'drizzle-orm'
import type { Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { hashSecret, randomSecret, timingSafeEqualStrings } from '../crypto.ts'
import { atomic } from '../db/index.ts'
import { authorizationRequests, sessions, users } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { PageError } from '../http/errors.ts'

export const SESSION_COOKIE = 'pg_session'
const SESSION_TTL_MS = 12 * 3600 * 1000

export interface BrowserSession {
  idHash: string
  userId: string | null
  csrfToken: string
}

export type User = typeof users.$inferSelect

function writeCookie(c: Context<AppEnv>, value: string, maxAgeSeconds: number) {
  setCookie(c, SESSION_COOKIE, value, {
    path: '/',
    httpOnly: true,
    // Lax: the cookie must ride along on the top-level GET from Terra to /oauth/authorize, and
    // never on cross-site POSTs.
    sameSite: 'Lax',
    secure: c.var.deps.config.issuer.startsWith('https:'),
    maxAge: maxAgeSeconds,
  })
}

/** The browser's session from its cookie, if it has a live one. */
export async function currentSession(c: Context<AppEnv>): Promise<BrowserSession | undefined> {
  const raw = getCookie(c, SESSION_COOKIE)
  if (!raw) return undefined
  const { db, now } = c.var.deps
  return db
    .select({ idHash: sessions.idHash, userId: sessions.userId, csrfToken: sessions.csrfToken })
    .from(sessions)
    .where(and(eq(sessions.idHash, await hashSecret(raw)), gt(sessions.expiresAt, now())))
    .get()
}

async function createSession(c: Context<AppEnv>, userId: string | null) {
  const raw = randomSecret()
  const { now } = c.var.deps
  const row = {
    idHash: await hashSecret(raw),
    userId,
    csrfToken: randomSecret('', 24),
    createdAt: now(),
    expiresAt: now() + SESSION_TTL_MS,
  }
  writeCookie(c, raw, SESSION_TTL_MS / 1000)
  return { raw, row }
}

/** The current session, or a new anonymous one (so forms can carry a CSRF token bound to it). */
export async function ensureSession(c: Context<AppEnv>): Promise<BrowserSession> {
  const existing = await currentSession(c)
  if (existing) return existing
  const { row } = await createSession(c, null)
  await c.var.deps.db.insert(sessions).values(row)
  return { idHash: row.idHash, userId: null, csrfToken: row.csrfToken }
}

/**
 * Signs the browser in under a fresh session id (no session fixation) and moves its pending
 * authorization requests to the new session.
 */
export async function signIn(c: Context<AppEnv>, previous: BrowserSession, userId: string) {
  const { row } = await createSession(c, userId)
  const { db } = c.var.deps
  await atomic(db, [
    db.insert(sessions).values(row),
    db
      .update(authorizationRequests)
      .set({ sessionHash: row.idHash })
      .where(eq(authorizationRequests.sessionHash, previous.idHash)),
    db.delete(sessions).where(eq(sessions.idHash, previous.idHash)),
  ])
  return { idHash: row.idHash, userId, csrfToken: row.csrfToken }
}

export async function signOut(c: Context<AppEnv>, session: BrowserSession) {
  await c.var.deps.db.delete(sessions).where(eq(sessions.idHash, session.idHash))
  writeCookie(c, '', 0)
}

/**
 * Double-checks a form's CSRF token against the one stored with this browser's session: a token
 * from another session, or a post without a session, is refused.
 */
export async function requireCsrf(
  session: BrowserSession | undefined,
  presented: string | null,
): Promise<BrowserSession> {
  if (
    !session ||
    presented === null ||
    !(await timingSafeEqualStrings(presented, session.csrfToken))
  ) {
    throw new PageError(
      403,
      'This form has expired',
      'The form was not sent from this browser session (or the session expired). Go back, reload the page and try again.',
    )
  }
  return session
}

export async function sessionUser(
  c: Context<AppEnv>,
  session: BrowserSession,
): Promise<User | undefined> {
  if (!session.userId) return undefined
  return c.var.deps.db.select().from(users).where(eq(users.id, session.userId)).get()
}
