import { timestampToMs } from '../data/date-range.ts'
import { MAX_EVENT_BYTES } from './policy.ts'

/*
 * Event bodies, rendered when a delivery is sent (never stored), from the records' current
 * versions: a retry sent after the record changed carries the new version, so a late retry can
 * never overwrite newer data at the receiver. Record bodies are stored as JSON text ready to send
 * and are concatenated, not re-serialised.
 *
 * Envelopes follow Terra's (`SleepEvent`, `ActivityEvent`, `DailyEvent`, `AccessRevokedEvent`,
 * `PermissionChangeEvent` in Terra's schemas); ping and deletion are the contract's own.
 */

/** The `version` of Terra's data and permission_change events. */
export const EVENT_VERSION = '2022-03-16'

/** What Terra's `TerraUser` says about the connection of one user to one client. */
export interface ConnectionFacts {
  userId: string
  provider: string
  /** The provider's own id for the user (`reference` at user creation); Terra's `reference_id`. */
  reference: string | null
  /** The grant's scopes, space-separated as stored; `null` if unknown. */
  scope: string | null
  /** When the grant was made: the connection's `created_at`. */
  grantedAt: number | null
  /** The last successful delivery to this client about this user. */
  lastWebhookUpdate: number | null
  /** Whether the grant is live (false in `access_revoked`). */
  active: boolean
}

/** An instant as Terra writes it, in UTC: `2026-03-01T12:00:00.000000+00:00`. */
function instant(ms: number | null): string | null {
  return ms === null ? null : `${new Date(ms).toISOString().slice(0, 23)}000+00:00`
}

/** Terra's `TerraUser`: scopes comma-separated, as in Terra's examples (`activity:read,sleep:read`). */
export function terraUser(facts: ConnectionFacts) {
  return {
    user_id: facts.userId,
    provider: facts.provider,
    created_at: instant(facts.grantedAt),
    last_webhook_update: instant(facts.lastWebhookUpdate),
    scopes: facts.scope === null ? null : facts.scope.split(' ').filter(Boolean).join(','),
    reference_id: facts.reference,
    active: facts.active,
  }
}

/** One record's current state, as the renderer needs it. */
export interface RecordVersion {
  key: string
  startMs: number
  /** `null` for a tombstone (deleted) record. */
  bodyFull: string | null
  /** The same without samples: the fallback for a record too large to send whole. */
  bodyLite: string | null
  deleted: boolean
  /** `metadata.start_time` and `end_time` as written (ping mode only). */
  startTime?: string | null
  endTime?: string | null
}

export type Rendered =
  | {
      kind: 'send'
      body: string
      /** Records to move to a new delivery: they did not fit in this event (10 MB). */
      spill: string[]
      /** Remarks for the log (a record sent without samples, a record too large to send). */
      notes: string[]
    }
  | { kind: 'skip'; reason: string }

/** UTF-8 length of a JS string, exactly, without encoding it. */
export function utf8Length(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

/** At most `limit`: skips the exact count when the string cannot reach it. */
export function fits(text: string, limit: number): boolean {
  if (text.length * 3 <= limit) return true
  if (text.length > limit) return false
  return utf8Length(text) <= limit
}

function byStart(a: RecordVersion, b: RecordVersion): number {
  return a.startMs - b.startMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
}

/**
 * A full-mode data event: `{type, user, data:[…], version}` with the live records (deleted ones
 * are left to the `deletion` event), at most `maxBytes` in all. Records that do not fit are
 * returned in `spill` for an event of their own. A record that is too large even alone is sent
 * without its samples (its stored `bodyLite`, still a valid Terra record: Terra can pull the
 * samples with `with_samples=true`); one too large even so is not sent, and said so in `notes`.
 */
export function renderFullEvent(
  type: string,
  user: ReturnType<typeof terraUser>,
  records: readonly RecordVersion[],
  maxBytes = MAX_EVENT_BYTES,
): Rendered {
  const live = records.filter((r) => !r.deleted && r.bodyFull !== null).sort(byStart)
  if (live.length === 0)
    return { kind: 'skip', reason: 'every record of the event has been deleted' }
  const head = `{"type":${JSON.stringify(type)},"user":${JSON.stringify(user)},"data":[`
  const tail = `],"version":"${EVENT_VERSION}"}`
  let budget = maxBytes - utf8Length(head) - utf8Length(tail)
  const parts: string[] = []
  const spill: string[] = []
  const notes: string[] = []
  for (const record of live) {
    const separator = parts.length > 0 ? 1 : 0
    const full = record.bodyFull as string
    if (spill.length === 0 && fits(full, budget - separator)) {
      parts.push(full)
      budget -= utf8Length(full) + separator
    } else if (parts.length > 0) {
      spill.push(record.key)
    } else if (record.bodyLite !== null && fits(record.bodyLite, budget)) {
      parts.push(record.bodyLite)
      budget -= utf8Length(record.bodyLite)
      notes.push(
        `record ${record.key} is larger than the ${maxBytes}-byte event limit with its samples; sent without them`,
      )
    } else {
      notes.push(
        `record ${record.key} is larger than the ${maxBytes}-byte event limit even without samples; not sent`,
      )
    }
  }
  if (parts.length === 0) return { kind: 'skip', reason: notes.join('; ') }
  return { kind: 'send', body: `${head}${parts.join(',')}${tail}`, spill, notes }
}

/**
 * A ping-mode event: `{type, user, ping:{ids, start_time, end_time}}`; the receiver pulls the
 * records. The range runs from the earliest `start_time` to the latest `end_time` of the records,
 * so a pull of `[start_time, end_time)` returns every one of them. Daily ids are local dates.
 */
export function renderPingEvent(
  type: string,
  user: ReturnType<typeof terraUser>,
  records: readonly RecordVersion[],
): Rendered {
  const live = records.filter((r) => !r.deleted && r.bodyFull !== null).sort(byStart)
  const first = live[0]
  if (!first) return { kind: 'skip', reason: 'every record of the event has been deleted' }
  let end: { ms: number; text: string } | null = null
  for (const r of live) {
    if (!r.endTime) continue
    const ms = timestampToMs(r.endTime)
    if (end === null || ms > end.ms) end = { ms, text: r.endTime }
  }
  const ping = {
    ids: live.map((r) => r.key),
    start_time: first.startTime ?? (instant(first.startMs) as string),
    end_time: end?.text ?? (instant((live.at(-1) as RecordVersion).startMs + 1) as string),
  }
  return { kind: 'send', body: JSON.stringify({ type, user, ping }), spill: [], notes: [] }
}

/**
 * `{type:"deletion", user, data_type, ids}` with the records that are deleted now: one deleted
 * and then ingested again is live, and its data event says so instead.
 */
export function renderDeletionEvent(
  dataType: string,
  user: ReturnType<typeof terraUser>,
  records: readonly RecordVersion[],
): Rendered {
  const ids = records
    .filter((r) => r.deleted)
    .sort(byStart)
    .map((r) => r.key)
  if (ids.length === 0) return { kind: 'skip', reason: 'the records were ingested again since' }
  return {
    kind: 'send',
    body: JSON.stringify({ type: 'deletion', user, data_type: dataType, ids }),
    spill: [],
    notes: [],
  }
}

/** The snapshot a lifecycle event keeps in the outbox and its delivery (see lifecycle.ts). */
export interface LifecyclePayload {
  /** The grant's scopes at the time (space-separated); after the change for permission_change. */
  scope: string | null
  reference: string | null
  granted_at: number | null
  message: string
  /** permission_change only: space-separated, as stored. */
  scopes_added?: string
  scopes_removed?: string
}

const commaSeparated = (scope: string | undefined) =>
  (scope ?? '').split(' ').filter(Boolean).join(',')

/** `access_revoked` and `permission_change`, from their snapshot. */
export function renderLifecycleEvent(
  type: 'access_revoked' | 'permission_change',
  payload: LifecyclePayload,
  facts: Pick<ConnectionFacts, 'userId' | 'provider' | 'lastWebhookUpdate'>,
): Rendered {
  const user = terraUser({
    ...facts,
    reference: payload.reference,
    scope: payload.scope,
    grantedAt: payload.granted_at,
    active: type !== 'access_revoked',
  })
  const body =
    type === 'access_revoked'
      ? { type, user, status: 'warning', message: payload.message }
      : {
          type,
          user,
          status: 'warning',
          message: payload.message,
          version: EVENT_VERSION,
          scopes_added: commaSeparated(payload.scopes_added),
          scopes_removed: commaSeparated(payload.scopes_removed),
        }
  return { kind: 'send', body: JSON.stringify(body), spill: [], notes: [] }
}
