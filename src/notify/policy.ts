/*
 * The notifier's delivery policy: what counts as delivered, how failures are classified, and when
 * the next attempt happens. Pure functions of their inputs (the clock and the random source are
 * passed in), so tests assert the schedule exactly.
 */

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

/**
 * The contract's schedule, read as the delay before each automatic attempt: the first attempt
 * goes immediately, and attempt n + 1 follows the failure of attempt n by the n-th delay below
 * (10 s, 1 min, 5 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h). So ten attempts in all, the last one
 * 84,970 s (23 h 36 min) after the first failure, nominally, and up to 20 % more or less with
 * jitter; with the time the attempts themselves take, that is the contract's "a little over 24
 * hours" give or take the jitter. After the tenth failure the delivery is `failed`.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  0,
  10 * SECOND,
  1 * MINUTE,
  5 * MINUTE,
  30 * MINUTE,
  1 * HOUR,
  2 * HOUR,
  4 * HOUR,
  8 * HOUR,
  8 * HOUR,
]

/** Each delay is multiplied by a factor drawn uniformly from [1 − JITTER, 1 + JITTER). */
export const JITTER = 0.2

/**
 * A receiver's `Retry-After` is honoured up to this long: a longer one would let one answer use
 * up most of the retry window (or, with a far-off date, stall the delivery for ever).
 */
export const MAX_RETRY_AFTER_MS = 8 * HOUR

/** The contract's request timeout. */
export const REQUEST_TIMEOUT_MS = 10 * SECOND

/**
 * How long a claim on a delivery lasts. Longer than the request timeout plus rendering and
 * recording, so that a live worker never loses its claim; after it, the sweeper hands the
 * delivery to another worker (the holder is presumed dead).
 */
export const LEASE_MS = 20 * SECOND

/** Full-mode events carry at most 10 records and at most 10 MB, as Terra's own chunks do. */
export const MAX_EVENT_RECORDS = 10
/**
 * 10 MB read as 10,000,000 bytes (not 10 MiB), so that a receiver with either reading accepts
 * every event.
 */
export const MAX_EVENT_BYTES = 10_000_000

/** How much of a receiver's answer the attempt log keeps. */
export const RESPONSE_EXCERPT_BYTES = 1024

/** Why an attempt did not succeed, as the attempt log names it. */
export type FailureClass =
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns'
  | 'tls'
  | 'network'
  | 'redirect'
  | 'gone'
  | 'http_4xx'
  | 'http_5xx'
  | 'http_other'
  /** Our side failed to render or sign the event (a bug); retried like any failure. */
  | 'internal'
  /** The worker holding the delivery stopped (crash, kill) before recording an outcome. */
  | 'interrupted'
  /** Nothing was left to send (records deleted, consent withdrawn): not sent, and done. */
  | 'skipped'

/** The class of an HTTP status: `null` for 2xx (the only success), otherwise the failure. */
export function classifyStatus(status: number): FailureClass | null {
  if (status >= 200 && status < 300) return null
  if (status >= 300 && status < 400) return 'redirect'
  if (status === 410) return 'gone'
  if (status >= 400 && status < 500) return 'http_4xx'
  if (status >= 500 && status < 600) return 'http_5xx'
  return 'http_other'
}

const CONNECTION_RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME'])

/**
 * The class of an error thrown by `fetch`. Node's fetch (undici) throws `TypeError: fetch failed`
 * with the system error as `cause`; an abort by our timeout signal is a `TimeoutError`. Workers'
 * fetch throws plain errors, which end up as `network`.
 */
export function classifyError(err: unknown): FailureClass {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { name, code } = e as { name?: unknown; code?: unknown }
    if (name === 'TimeoutError' || name === 'AbortError') return 'timeout'
    if (typeof code === 'string') {
      if (code === 'ECONNREFUSED') return 'connection_refused'
      if (CONNECTION_RESET.has(code)) return 'connection_reset'
      if (TIMEOUT_CODES.has(code)) return 'timeout'
      if (DNS_CODES.has(code)) return 'dns'
      if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/.test(code)) return 'tls'
    }
    e = (e as { cause?: unknown }).cause
  }
  return 'network'
}

/** `delayMs` stretched or shrunk by up to ±{@link JITTER}, from a uniform `random` in [0, 1). */
export function jittered(delayMs: number, random: () => number): number {
  return Math.round(delayMs * (1 - JITTER + 2 * JITTER * random()))
}

/**
 * A `Retry-After` value (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) as a delay in ms from
 * `now`, capped at {@link MAX_RETRY_AFTER_MS}; `null` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null
  const text = value.trim()
  let delay: number
  if (/^\d+$/.test(text)) delay = Number(text) * SECOND
  else {
    const at = Date.parse(text)
    if (Number.isNaN(at)) return null
    delay = at - now
  }
  return Math.min(Math.max(delay, 0), MAX_RETRY_AFTER_MS)
}

export interface AttemptOutcome {
  /** `null`: delivered. */
  failure: FailureClass | null
  /** The receiver's `Retry-After`, as a delay in ms, when it sent one. */
  retryAfterMs: number | null
}

export type NextStep =
  | { status: 'succeeded'; retryIndex: number }
  | { status: 'pending'; retryIndex: number; nextAttemptAt: number }
  | { status: 'failed'; retryIndex: number }
  | { status: 'held'; retryIndex: number }

/**
 * What follows an attempt. Automatic attempts move along the schedule (`retryIndex` counts them);
 * manual ones (redeliver, recover) are extra and do not, so a manual attempt on a `failed`
 * delivery that fails again leaves it `failed`. `410 Gone` holds the delivery (and the caller
 * disables the client's webhook); it goes out again when the webhook is re-enabled. A retry
 * waits for the scheduled delay with jitter, or for the receiver's `Retry-After` if that is
 * longer.
 */
export function nextStep(input: {
  outcome: AttemptOutcome
  trigger: 'auto' | 'manual'
  retryIndex: number
  now: number
  random: () => number
  schedule?: readonly number[]
}): NextStep {
  const schedule = input.schedule ?? RETRY_SCHEDULE_MS
  const retryIndex = input.retryIndex + (input.trigger === 'auto' ? 1 : 0)
  const { failure, retryAfterMs } = input.outcome
  if (failure === null || failure === 'skipped') return { status: 'succeeded', retryIndex }
  if (failure === 'gone') return { status: 'held', retryIndex }
  const delay = schedule[retryIndex]
  if (delay === undefined) return { status: 'failed', retryIndex }
  const wait = Math.max(jittered(delay, input.random), retryAfterMs ?? 0)
  return { status: 'pending', retryIndex, nextAttemptAt: input.now + wait }
}
