import { and, eq, isNull } from 'drizzle-orm'
import { Hono } from 'hono'
import { z } from 'zod'
import { isValidZone } from '../data/date-range.ts'
import { atomic, type Statement } from '../db/index.ts'
import { grants, users } from '../db/schema.ts'
import type { AppEnv, Deps } from '../http/env.ts'
import { Problem } from '../http/errors.ts'
import { kickNotifier } from '../notify/kick.ts'
import { accessRevokedStatement } from '../notify/lifecycle.ts'
import { revokeGrantStatements } from '../oauth/tokens.ts'
import { readJsonBody } from './json-body.ts'
import { createUserRecord, findUserByEmail, findUserById, type UserRow } from './records.ts'

/** `/admin/v1/users`: the provider's users, as the gateway knows them. */
export const userRoutes = new Hono<AppEnv>()

/**
 * The IANA name of a time zone, or `null` if the runtime does not know it. Only a difference in
 * case is canonicalised: ICU maps some current names to older aliases (Asia/Kolkata ⇒
 * Asia/Calcutta), which would surprise whoever sent the newer one.
 */
export function ianaTimeZone(value: string): string | null {
  // Offsets such as +05:00 are accepted by newer V8 but are not zones: no DST rules, no history.
  if (!/^[A-Za-z]/.test(value) || !isValidZone(value)) return null
  const resolved = new Intl.DateTimeFormat(undefined, { timeZone: value }).resolvedOptions()
    .timeZone
  return resolved.toLowerCase() === value.toLowerCase() ? resolved : value
}

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'Must not be empty.')
    .max(max, `Must be at most ${max} characters.`)
    .nullable()
    .optional()

/** The body of `POST /admin/v1/users`; the CLI's `user create` validates its flags with it too. */
export const CreateUserBody = z.strictObject({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(254, 'Must be at most 254 characters.')
    .pipe(z.email('Must be an email address.')),
  // The upper bound keeps the key-derivation cost of one request bounded.
  password: z
    .string()
    .min(8, 'Must be at least 8 characters.')
    .max(1024, 'Must be at most 1024 characters.')
    .nullable()
    .optional(),
  timezone: z.string().transform((value, ctx) => {
    const zone = ianaTimeZone(value)
    if (zone === null) {
      ctx.addIssue({ code: 'custom', message: 'Must be an IANA time zone such as Europe/Berlin.' })
      return z.NEVER
    }
    return zone
  }),
  reference: optionalText(200),
  display_name: optionalText(200),
})

/** The user as the admin API shows it (never the password hash). */
export function userView(row: UserRow) {
  return {
    user_id: row.id,
    email: row.email,
    timezone: row.timezone,
    reference: row.reference,
    display_name: row.displayName,
    created_at: new Date(row.createdAt).toISOString(),
  }
}

function noSuchUser(id: string): Problem {
  return new Problem(404, 'Not Found', `There is no user with id ${JSON.stringify(id)}.`)
}

function emailTaken(email: string): Problem {
  return new Problem(409, 'Conflict', `A user with the email ${email} already exists.`)
}

/** SQLite's unique-constraint failure, through better-sqlite3 or D1, possibly wrapped by drizzle. */
function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.message.includes('UNIQUE constraint failed')) return true
  }
  return false
}

/**
 * Creates a user from a validated {@link CreateUserBody}; a taken email is a 409 {@link Problem}.
 */
export async function registerUser(
  deps: Deps,
  body: z.infer<typeof CreateUserBody>,
): Promise<UserRow> {
  if (await findUserByEmail(deps, body.email)) throw emailTaken(body.email)
  try {
    return await createUserRecord(deps, {
      email: body.email,
      password: body.password ?? null,
      timezone: body.timezone,
      reference: body.reference ?? null,
      displayName: body.display_name ?? null,
    })
  } catch (err) {
    // Two requests for the same email at once: the unique index decides.
    if (isUniqueViolation(err)) throw emailTaken(body.email)
    throw err
  }
}

userRoutes.post('/', async (c) => {
  const body = await readJsonBody(c, CreateUserBody, { what: 'user' })
  const user = await registerUser(c.var.deps, body)
  c.header('location', `${c.req.path}/${encodeURIComponent(user.id)}`)
  return c.json(userView(user), 201)
})

userRoutes.get('/:id', async (c) => {
  const id = c.req.param('id')
  const user = await findUserById(c.var.deps, id)
  if (!user) throw noSuchUser(id)
  return c.json(userView(user))
})

userRoutes.delete('/:id', async (c) => {
  const id = c.req.param('id')
  if (!(await deleteUser(c.var.deps, id))) throw noSuchUser(id)
  return c.body(null, 204)
})

/**
 * Deletes a user: first revokes every live grant (with its codes and tokens), then deletes the
 * user, whose rows go with it (ON DELETE CASCADE), all in one {@link atomic} write. Returns
 * `false` if there is no such user.
 *
 * Each revoked grant owes its client an `access_revoked` event: its outbox row commits in the
 * same write, before the grant is revoked (the insert is conditional on the grant being live).
 * The outbox has no foreign key to `users`, so the delete does not take the event along.
 */
export async function deleteUser(deps: Deps, userId: string): Promise<boolean> {
  const { db } = deps
  const user = await findUserById(deps, userId)
  if (!user) return false
  const now = deps.now()
  const liveGrants = await db
    .select({ id: grants.id, clientId: grants.clientId, scope: grants.scope })
    .from(grants)
    .where(and(eq(grants.userId, userId), isNull(grants.revokedAt)))
    .all()
  const statements: Statement[] = []
  for (const grant of liveGrants) {
    statements.push(
      accessRevokedStatement(db, grant.id, 'user_deleted', now),
      ...revokeGrantStatements(db, grant.id, now),
    )
  }
  statements.push(db.delete(users).where(eq(users.id, userId)))
  await atomic(db, statements)
  if (liveGrants.length > 0) kickNotifier(deps)
  return true
}
