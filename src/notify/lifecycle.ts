import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Db, Statement } from '../db/index.ts'
import { grants, outbox, users } from '../db/schema.ts'
import { splitScope } from '../oauth/scopes.ts'

/*
 * Lifecycle events are outbox rows for one client, written in the same atomic() as the change
 * they announce. Each insert selects from the grant it is about and is conditional on the grant
 * still being in the state the caller saw, so two racing requests (a double-clicked Disconnect)
 * announce one change once. Put the statement BEFORE the statements that change the grant: they
 * run in order, and the condition must see the grant as it was.
 *
 * Record deletions need nothing here: `deleteRecord` (src/data/store.ts) writes their outbox row.
 */

/** Why a grant ended, as the `access_revoked` event's message says it. */
export const ACCESS_REVOKED_MESSAGES = {
  disconnect: 'User revoked access',
  user_deleted: 'User revoked access: the provider deleted the account',
} as const

export const PERMISSION_CHANGE_MESSAGE = 'User changed the permissions granted'

/** The outbox row of a lifecycle event, selected from the grant (and its user) it is about. */
function lifecycleInsert(
  db: Db,
  type: 'access_revoked' | 'permission_change',
  payload: ReturnType<typeof sql>,
  where: ReturnType<typeof and>,
  now: number,
): Statement {
  return db.insert(outbox).select(
    db
      .select({
        id: sql<number>`null`.as('id'),
        userId: grants.userId,
        type: sql<string>`${type}`.as('type'),
        recordKey: sql<null>`null`.as('record_key'),
        change: sql<'event'>`'event'`.as('change'),
        seq: sql<null>`null`.as('seq'),
        clientId: grants.clientId,
        payload: sql<string>`${payload}`.as('payload'),
        claimToken: sql<null>`null`.as('claim_token'),
        claimUntil: sql<null>`null`.as('claim_until'),
        createdAt: sql<number>`${now}`.as('created_at'),
      })
      .from(grants)
      .innerJoin(users, eq(users.id, grants.userId))
      .where(where),
  )
}

/**
 * `access_revoked` for the client of a grant that is being revoked (Disconnect on /account, or
 * the provider deleting the user). Nothing is written if the grant is already revoked.
 */
export function accessRevokedStatement(
  db: Db,
  grantId: string,
  reason: keyof typeof ACCESS_REVOKED_MESSAGES,
  now: number,
): Statement {
  const payload = sql`json_object('scope', ${grants.scope}, 'reference', ${users.reference}, 'granted_at', ${grants.createdAt}, 'message', ${ACCESS_REVOKED_MESSAGES[reason]})`
  return lifecycleInsert(
    db,
    'access_revoked',
    payload,
    and(eq(grants.id, grantId), isNull(grants.revokedAt)),
    now,
  )
}

/** The scopes added and removed between two scope strings (space-separated, canonical order). */
export function scopeChange(before: string, after: string) {
  const was = new Set(splitScope(before))
  const now = new Set(splitScope(after))
  return {
    added: splitScope(after).filter((s) => !was.has(s)),
    removed: splitScope(before).filter((s) => !now.has(s)),
  }
}

/**
 * `permission_change` when a re-consent changes a live grant's scopes from `before` to `after`;
 * `null` when they are the same. Nothing is written if the grant no longer has `before`.
 */
export function permissionChangeStatement(
  db: Db,
  grantId: string,
  before: string,
  after: string,
  now: number,
): Statement | null {
  const { added, removed } = scopeChange(before, after)
  if (added.length === 0 && removed.length === 0) return null
  const payload = sql`json_object('scope', ${after}, 'reference', ${users.reference}, 'granted_at', ${grants.createdAt}, 'message', ${PERMISSION_CHANGE_MESSAGE}, 'scopes_added', ${added.join(' ')}, 'scopes_removed', ${removed.join(' ')})`
  return lifecycleInsert(
    db,
    'permission_change',
    payload,
    and(eq(grants.id, grantId), eq(grants.scope, before), isNull(grants.revokedAt)),
    now,
  )
}
