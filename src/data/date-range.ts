import { IANAZone } from 'luxon'
import { Problem, type ProblemFieldError } from '../http/errors.ts'

/** A half-open interval of instants [startMs, endMs) in epoch milliseconds. */
export interface InstantRange {
  startMs: number
  endMs: number
}

/** The maximum span, 1,826 days (five years incl. a leap day). */
export const MAX_SPAN_DAYS = 1826

const MINUTE_MS = 60_000
const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/** 9999-12-31T23:59:59Z: beyond it a timestamp would need a five-digit year, which RFC 3339 has not. */
const MAX_UNIX_SECONDS = 253_402_300_799

const ACCEPTED =
  'must be YYYY-MM-DD, unix seconds or an RFC 3339 date-time with an offset, ' +
  'e.g. 2026-03-08, 1772946000 or 2026-03-08T05:00:00Z'

/**
 * Parses `start_date`/`end_date` query values for a user in IANA zone `zone`:
 * - `YYYY-MM-DD`: a whole calendar day in the user's zone. As a start it means local midnight of D;
 *   as an end it means the end of D, i.e. local midnight of D+1 (exclusive), so start=end=D is one
 *   whole local day (23 or 25 hours on DST days).
 * - unix seconds (a non-negative integer string, e.g. `1767225600`): that instant.
 * - RFC 3339 date-time with an offset or `Z` (`2026-03-08T01:30:00-05:00`, `2026-03-08T06:30:00Z`,
 *   fractional seconds allowed, truncated to the millisecond): that instant. A date-time without
 *   an offset is a 400. A space where the offset's `+` belongs is read as `+`, because an
 *   unencoded `+` in a query string arrives decoded as a space.
 * - `end_date` absent ⇒ now (`nowMs`). `start_date` absent ⇒ 400 (the caller handles `updated_since`).
 *
 * Errors are thrown as `Problem(400, ...)` whose `errors` name `start_date` and/or `end_date`.
 * `start > end` is a 400 naming both, and so is a date-only `start_date` later than a date-only
 * `end_date` (whose instants would merely make an empty range). A span longer than
 * {@link MAX_SPAN_DAYS} days (plus one hour for a daylight-saving change), measured on the instants, is a 400. `start == end` is an empty range.
 *
 * @throws Error (not a Problem) when `zone` is not a valid IANA zone: that is our data, not the
 * client's request.
 */
export function parseDateRange(
  input: { start_date?: string | undefined; end_date?: string | undefined },
  zone: string,
  nowMs: number,
): InstantRange {
  const tz = zoneOf(zone)
  const errors: ProblemFieldError[] = []

  let start: Bound | undefined
  if (input.start_date === undefined) {
    errors.push({
      path: 'start_date',
      message: `is required unless updated_since is given; it ${ACCEPTED}`,
    })
  } else {
    const parsed = parseBound(input.start_date)
    if (typeof parsed === 'string') errors.push({ path: 'start_date', message: parsed })
    else start = parsed
  }

  let end: Bound | undefined
  if (input.end_date !== undefined) {
    const parsed = parseBound(input.end_date)
    if (typeof parsed === 'string') errors.push({ path: 'end_date', message: parsed })
    else end = parsed
  }

  if (errors.length > 0 || start === undefined) {
    throw new Problem(400, 'Invalid request', 'The date range is not valid.', { errors })
  }

  const startMs = start.kind === 'day' ? midnightOfDayNumber(start.day, tz) : start.ms
  // An end date includes its whole day, so the exclusive end is the next local midnight.
  const endMs =
    end === undefined ? nowMs : end.kind === 'day' ? midnightOfDayNumber(end.day + 1, tz) : end.ms

  // Two dates in the wrong order would give equal instants (an empty range); the client has
  // still reversed them, so say so rather than silently return nothing.
  const reversedDays = start.kind === 'day' && end?.kind === 'day' && start.day > end.day
  if (reversedDays || startMs > endMs) {
    const startDesc = `start_date ${input.start_date} (${formatUtc(startMs)})`
    const endDesc =
      end === undefined
        ? `now (${formatUtc(endMs)}), the default end_date`
        : `end_date ${input.end_date} (${formatUtc(endMs)})`
    throw new Problem(400, 'Invalid request', `${startDesc} is after ${endDesc}.`, {
      errors: [
        { path: 'start_date', message: `must not be after ${endDesc}` },
        { path: 'end_date', message: `must not be before ${startDesc}` },
      ],
    })
  }

  // One hour of slack: a range of exactly 1,826 local days that starts in summer time and ends in
  // winter time is 1,826 days and an hour of instants, and a 5-year backfill must not trip on it.
  if (endMs - startMs > MAX_SPAN_DAYS * DAY_MS + 3_600_000) {
    const span = formatDays(endMs - startMs)
    const message = `the range spans ${span}; it may span at most ${MAX_SPAN_DAYS} days`
    throw new Problem(
      400,
      'Invalid request',
      `The range from start_date to end_date spans ${span}, more than the maximum of ${MAX_SPAN_DAYS} days; split it into several requests.`,
      {
        errors: [
          { path: 'start_date', message },
          { path: 'end_date', message },
        ],
      },
    )
  }

  return { startMs, endMs }
}

/** Parses an RFC 3339 date-time with offset (for `updated_since`), or throws Problem 400 naming `param`. */
export function parseInstant(value: string, param: string): number {
  const parsed = parseQueryDateTime(value)
  if (typeof parsed === 'number') return parsed
  const message =
    parsed === NOT_A_DATE_TIME
      ? 'must be an RFC 3339 date-time with an offset, e.g. 2026-03-08T05:00:00Z or 2026-03-08T00:00:00-05:00'
      : parsed
  throw new Problem(400, 'Invalid request', `The ${param} parameter is not valid.`, {
    errors: [{ path: param, message }],
  })
}

/**
 * The local calendar date `YYYY-MM-DD` of an instant in `zone`.
 *
 * @throws Error when `zone` is not a valid IANA zone or `ms` is outside years 0000–9999.
 */
export function localDay(ms: number, zone: string): string {
  const tz = zoneOf(zone)
  const wall = ms + offsetMs(tz, ms)
  return formatDayNumber(Math.floor(wall / DAY_MS))
}

/**
 * Local midnight of `day` (YYYY-MM-DD) in `zone`, as epoch ms. Where midnight does not exist
 * because the clocks jump forward at 00:00 (America/Santiago, America/Havana, Asia/Beirut), this is
 * the first instant of that day, the moment of the jump; where midnight happens twice because the
 * clocks fall back from 01:00 (America/Havana), it is the first of the two. A day the zone skipped
 * entirely (Pacific/Apia, 2011-12-30) begins, and ends, where the next day begins.
 *
 * @throws Error when `day` is not a real date or `zone` is not a valid IANA zone.
 */
export function localMidnight(day: string, zone: string): number {
  const dayNumber = parseDay(day)
  if (typeof dayNumber === 'string') throw new Error(`localMidnight: ${day} ${dayNumber}`)
  return midnightOfDayNumber(dayNumber, zoneOf(zone))
}

/**
 * Adds whole calendar days (negative to go back) to a YYYY-MM-DD date.
 *
 * @throws Error when `day` is not a real date, `days` is not an integer or the result leaves
 * years 0000–9999.
 */
export function addDays(day: string, days: number): string {
  const dayNumber = parseDay(day)
  if (typeof dayNumber === 'string') throw new Error(`addDays: ${day} ${dayNumber}`)
  if (!Number.isInteger(days)) throw new Error(`addDays: ${days} is not a whole number of days`)
  return formatDayNumber(dayNumber + days)
}

/**
 * Whether `zone` is a valid IANA time zone name (as the runtime's Intl knows them; like Intl,
 * this ignores case, so `europe/berlin` is accepted).
 */
export function isValidZone(zone: string): boolean {
  // Not `IANAZone.create(zone).isValid`: that would cache every string a client ever sent.
  return typeof zone === 'string' && zone !== '' && IANAZone.isValidZone(zone)
}

// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, the shape the record schema (`Timestamp`) accepts.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/

/**
 * Parses an ISO 8601 timestamp with offset (as stored in Terra records' `metadata.start_time`,
 * e.g. `2026-03-07T23:12:00.000000-05:00` with microseconds) to epoch ms, rounded down, so
 * comparing it with whole-millisecond range bounds gives the same answer as comparing the exact
 * instant would.
 *
 * This runs for every ingested record, so it is a regex and integer arithmetic rather than a
 * luxon or `Date` object.
 *
 * @throws Error (plain, not a Problem) when the timestamp has no offset or is not a valid date-time.
 */
export function timestampToMs(ts: string): number {
  const m = TIMESTAMP.exec(ts)
  if (m === null) throw new Error(`not an ISO 8601 date-time with an offset: ${JSON.stringify(ts)}`)
  if (m[8] === undefined && m[9] === undefined) {
    throw new Error(`timestamp has no UTC offset: ${JSON.stringify(ts)}`)
  }
  const ms = fieldsToMs(m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[9], m[10], m[11])
  if (typeof ms === 'string') throw new Error(`invalid timestamp ${JSON.stringify(ts)}: ${ms}`)
  return ms
}

/**
 * Formats epoch ms as Terra likes: `2026-03-07T23:12:00.000000-05:00` (microseconds, the offset
 * of `zone` at that instant; UTC is `+00:00`, never `Z`). A fraction of a millisecond in `ms` is
 * kept to the microsecond.
 *
 * @throws Error when `zone` is not a valid IANA zone or `ms` is outside years 0000–9999.
 */
export function formatTerraTimestamp(ms: number, zone: string): string {
  const tz = zoneOf(zone)
  if (!Number.isFinite(ms)) throw new Error(`formatTerraTimestamp: ${ms} is not an instant`)
  const totalMicros = Math.round(ms * 1000)
  const wholeMs = Math.floor(totalMicros / 1000)
  const micros = totalMicros - wholeMs * 1000
  // RFC 3339 offsets have no seconds, but before ~1900 zones ran on local mean time such as
  // +00:19:32; round the offset to the minute and show the wall time for that rounded offset, so
  // the string still names exactly this instant.
  const offsetMinutes = Math.round(offsetMs(tz, wholeMs) / MINUTE_MS)
  const wall = wholeMs + offsetMinutes * MINUTE_MS
  const dayNumber = Math.floor(wall / DAY_MS)
  const msOfDay = wall - dayNumber * DAY_MS
  const hh = Math.floor(msOfDay / HOUR_MS)
  const mm = Math.floor((msOfDay % HOUR_MS) / MINUTE_MS)
  const ss = Math.floor((msOfDay % MINUTE_MS) / 1000)
  const fraction = pad(msOfDay % 1000, 3) + pad(micros, 3)
  const sign = offsetMinutes < 0 ? '-' : '+'
  const absOffset = Math.abs(offsetMinutes)
  return (
    `${formatDayNumber(dayNumber)}T${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}.${fraction}` +
    `${sign}${pad(Math.floor(absOffset / 60), 2)}:${pad(absOffset % 60, 2)}`
  )
}

// ---------------------------------------------------------------------------------------------

/** A parsed range bound: a calendar day (days since 1970-01-01) or an instant. */
type Bound = { kind: 'day'; day: number } | { kind: 'instant'; ms: number }

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/
const UNIX_SECONDS = /^\d+$/
// Lenient where RFC 3339 (§5.6 NOTE) allows it: `t`/`z` in lower case and a space for `T`. A space
// before the offset stands for a `+` that the query-string decoding turned into a space.
const QUERY_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+\- ])(\d{2}):(\d{2}))?$/
const NOT_A_DATE_TIME = 'not a date-time'

/** One `start_date`/`end_date` value, or the message saying why it is not one. */
function parseBound(value: string): Bound | string {
  if (DATE_ONLY.test(value)) {
    const day = parseDay(value)
    return typeof day === 'string' ? day : { kind: 'day', day }
  }
  if (UNIX_SECONDS.test(value)) {
    const seconds = Number(value)
    if (seconds > MAX_UNIX_SECONDS) {
      // A 13-digit value is almost always milliseconds sent where seconds were expected.
      const hint = seconds / 1000 <= MAX_UNIX_SECONDS ? ' (is this milliseconds?)' : ''
      return `is too large: unix seconds must be at most ${MAX_UNIX_SECONDS}${hint}`
    }
    return { kind: 'instant', ms: seconds * 1000 }
  }
  const ms = parseQueryDateTime(value)
  if (typeof ms === 'number') return { kind: 'instant', ms }
  return ms === NOT_A_DATE_TIME ? ACCEPTED : ms
}

/** An RFC 3339 date-time with offset as epoch ms, or the message saying why it is not one. */
function parseQueryDateTime(value: string): number | string {
  const m = QUERY_DATE_TIME.exec(value)
  if (m === null) return NOT_A_DATE_TIME
  if (m[8] === undefined && m[9] === undefined) {
    // Without an offset the instant depends on a zone we would have to guess.
    return 'has no UTC offset; add Z or ±HH:MM, e.g. 2026-03-08T05:00:00Z or 2026-03-08T00:00:00-05:00'
  }
  const sign = m[9] === ' ' ? '+' : m[9]
  return fieldsToMs(m[1], m[2], m[3], m[4], m[5], m[6], m[7], sign, m[10], m[11])
}

/**
 * Epoch ms from the captured fields of a date-time (the fraction truncated to the millisecond),
 * or the message saying which field is out of range. No offset sign means `Z`.
 */
function fieldsToMs(
  year: string | undefined,
  month: string | undefined,
  day: string | undefined,
  hour: string | undefined,
  minute: string | undefined,
  second: string | undefined,
  fraction: string | undefined,
  offsetSign: string | undefined,
  offsetHour: string | undefined,
  offsetMinute: string | undefined,
): number | string {
  const dayNumber = dayNumberOf(Number(year), Number(month), Number(day))
  if (typeof dayNumber === 'string') return dayNumber
  const h = Number(hour)
  const min = Number(minute)
  // Leap seconds (:60) are refused: epoch time cannot represent them.
  const s = Number(second)
  if (h > 23 || min > 59 || s > 59) {
    return `is not a valid time of day: ${hour}:${minute}:${second}`
  }
  let offsetMinutes = 0
  if (offsetSign !== undefined) {
    const oh = Number(offsetHour)
    const om = Number(offsetMinute)
    if (oh > 23 || om > 59)
      return `has an invalid UTC offset: ${offsetSign}${offsetHour}:${offsetMinute}`
    offsetMinutes = (offsetSign === '-' ? -1 : 1) * (oh * 60 + om)
  }
  // Only the first three digits matter; padding makes `.5` 500 ms.
  const fractionMs = fraction === undefined ? 0 : Number(`${fraction}00`.slice(0, 3))
  return (
    dayNumber * DAY_MS +
    h * HOUR_MS +
    min * MINUTE_MS +
    s * 1000 +
    fractionMs -
    offsetMinutes * MINUTE_MS
  )
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` string, or the message saying why it is not a date. */
function parseDay(value: string): number | string {
  const m = DATE_ONLY.exec(value)
  if (m === null) return 'is not a date in the form YYYY-MM-DD'
  return dayNumberOf(Number(m[1]), Number(m[2]), Number(m[3]))
}

/** Days since 1970-01-01 of a proleptic Gregorian date, or a message if it does not exist. */
function dayNumberOf(year: number, month: number, day: number): number | string {
  if (month < 1 || month > 12) return `is not a valid date: there is no month ${month}`
  const monthDays = daysInMonth(year, month)
  if (day < 1 || day > monthDays) {
    return `is not a valid date: ${year}-${pad(month, 2)} has ${monthDays} days`
  }
  return daysFromCivil(year, month, day)
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
    return leap ? 29 : 28
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/**
 * Days since 1970-01-01 (Howard Hinnant's `days_from_civil`), in plain integer arithmetic because
 * `Date.UTC` maps years 0–99 to 1900–1999 and this runs for every ingested timestamp.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

/** `YYYY-MM-DD` of a day number; throws outside years 0000–9999, which have no such form. */
function formatDayNumber(dayNumber: number): string {
  const date = new Date(dayNumber * DAY_MS)
  const year = date.getUTCFullYear()
  if (!(year >= 0 && year <= 9999)) throw new Error(`day ${dayNumber} is outside years 0000–9999`)
  return `${pad(year, 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`
}

/** The first instant of local day `dayNumber` in `tz`, memoized. */
function midnightOfDayNumber(dayNumber: number, tz: IANAZone): number {
  const key = `${tz.name}|${dayNumber}`
  const cached = midnights.get(key)
  if (cached !== undefined) return cached
  const midnight = findMidnight(dayNumber, tz)
  if (midnights.size >= MAX_CACHED_MIDNIGHTS) midnights.clear()
  midnights.set(key, midnight)
  return midnight
}

/**
 * Each offset lookup is an `Intl` call costing microseconds and a midnight takes four, while the
 * same few days recur across requests and records; the tz data cannot change while we run.
 */
const midnights = new Map<string, number>()
const MAX_CACHED_MIDNIGHTS = 10_000

/**
 * The first instant of local day `dayNumber` in `tz`. Real offsets lie within ±18 h (the widest,
 * local mean times near the date line, were about ±16 h), so the offsets at the ends of that window
 * and at its middle include every offset that could place local midnight in it.
 */
function findMidnight(dayNumber: number, tz: IANAZone): number {
  const wallMidnight = dayNumber * DAY_MS
  const window = 18 * HOUR_MS
  const offsets = new Set([
    offsetMs(tz, wallMidnight - window),
    offsetMs(tz, wallMidnight),
    offsetMs(tz, wallMidnight + window),
  ])
  let first = Number.POSITIVE_INFINITY
  for (const offset of offsets) {
    const candidate = wallMidnight - offset
    // Midnight under `offset` is real only if that offset is in force at that instant; when the
    // clocks fall back from 01:00 to 00:00 two candidates are real and the earlier one wins.
    if (offsetMs(tz, candidate) === offset && candidate < first) first = candidate
  }
  if (first !== Number.POSITIVE_INFINITY) return first

  // Midnight fell into a forward jump: the day begins at the jump, the first instant whose wall
  // clock reads this day. Binary search between an instant whose wall clock is surely on the
  // previous day and one surely on this day (this runs only on such days).
  let before = wallMidnight - window
  let after = wallMidnight + window
  while (after - before > 1) {
    const mid = Math.floor((before + after) / 2)
    if (mid + offsetMs(tz, mid) >= wallMidnight) after = mid
    else before = mid
  }
  return after
}

/** The offset of `tz` at instant `ms`, in whole milliseconds. */
function offsetMs(tz: IANAZone, ms: number): number {
  const offset = Math.round(tz.offset(ms) * MINUTE_MS)
  if (Number.isNaN(offset)) throw new Error(`no UTC offset for ${tz.name} at ${ms}`)
  return offset
}

/**
 * The luxon zone for `zone`; an invalid zone is a bug in our data, so a plain Error. Only stored
 * zones come here: `IANAZone.create` caches every name it sees, valid or not, so client input goes
 * through {@link isValidZone} first.
 */
function zoneOf(zone: string): IANAZone {
  const tz = zone === '' ? undefined : IANAZone.create(zone)
  if (tz === undefined || !tz.isValid) {
    throw new Error(`invalid IANA time zone: ${JSON.stringify(zone)}`)
  }
  return tz
}

/** An instant for error messages, e.g. `2026-03-08T05:00:00Z`. */
function formatUtc(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}

/** `1827 days` or `1826 days 1 h` for error messages. */
function formatDays(spanMs: number): string {
  const days = Math.floor(spanMs / DAY_MS)
  const rest = spanMs - days * DAY_MS
  if (rest === 0) return `${days} days`
  const hours = Math.round((rest / HOUR_MS) * 100) / 100
  return `${days} days ${hours} h`
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}
