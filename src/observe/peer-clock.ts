import { eq } from 'drizzle-orm'
import type { Db } from '../db/index.ts'
import { settings } from '../db/schema.ts'

/*
 * Clock skew, measured against the receivers of our webhooks: every HTTP answer carries a `Date`
 * header (RFC 9110 §6.6.1), the receiver's clock at the time it answered. A signature carries our
 * clock (`t=` in terra-signature, `webhook-timestamp`) and receivers refuse one more than five
 * minutes off theirs, so this is exactly the skew that matters, measured on the real traffic.
 *
 * The last sample is kept in `settings` (at most one write a minute per database), so that the
 * diagnostics of any instance, and `doctor` run on the database file, can see it.
 */

const SETTING = 'observe_webhook_peer_clock'
const PERSIST_EVERY_MS = 60_000

export interface PeerClockSample {
  /** Our clock when the answer arrived (ms). */
  at: number
  /** The receiver's clock minus ours (ms): positive when we are behind. */
  skewMs: number
  /** How far off the estimate may be: half a second of `Date` rounding plus half the round trip. */
  uncertaintyMs: number
  /** The receiver's origin (scheme, host, port), to say whose clock it was. */
  origin: string
}

const lastWrite = new WeakMap<Db, number>()

/**
 * Estimates the skew from one answer: `Date` has whole seconds, so the receiver's instant lies in
 * [date, date + 1 s), and it answered somewhere between our send and our receipt.
 */
export function estimateSkew(
  dateHeader: string,
  sentAt: number,
  receivedAt: number,
): { skewMs: number; uncertaintyMs: number } | null {
  const peer = Date.parse(dateHeader)
  if (Number.isNaN(peer)) return null
  return {
    skewMs: Math.round(peer + 500 - (sentAt + receivedAt) / 2),
    uncertaintyMs: Math.round(500 + (receivedAt - sentAt) / 2),
  }
}

/**
 * Records the skew seen in one webhook answer, at most once a minute per database; a failure to
 * record it is reported and otherwise ignored (it must never affect a delivery).
 */
export async function notePeerClock(
  db: Db,
  answer: { url: string; dateHeader: string | null; sentAt: number; receivedAt: number },
): Promise<void> {
  if (answer.dateHeader === null) return
  const previous = lastWrite.get(db)
  // Absolute: a clock stepped backwards (the very thing to catch) must not silence the samples.
  if (previous !== undefined && Math.abs(answer.receivedAt - previous) < PERSIST_EVERY_MS) return
  const estimate = estimateSkew(answer.dateHeader, answer.sentAt, answer.receivedAt)
  if (!estimate) return
  lastWrite.set(db, answer.receivedAt)
  const sample: PeerClockSample = {
    at: answer.receivedAt,
    ...estimate,
    origin: new URL(answer.url).origin,
  }
  const value = JSON.stringify(sample)
  await db
    .insert(settings)
    .values({ key: SETTING, value })
    .onConflictDoUpdate({ target: settings.key, set: { value } })
}

/** The last recorded sample, if any. */
export async function lastPeerClock(db: Db): Promise<PeerClockSample | null> {
  const row = await db.select().from(settings).where(eq(settings.key, SETTING)).get()
  if (!row) return null
  try {
    return JSON.parse(row.value) as PeerClockSample
  } catch {
    return null
  }
}
