import { z } from 'zod'

/**
 * An ISO 8601 / RFC 3339 date-time that carries its UTC offset (or `Z`), such as
 * `2022-11-23T09:00:00.000000+02:00`. Fractional seconds are optional and may have any precision.
 *
 * Terra types every timestamp as a plain `string` and says a timestamp without an offset "corresponds
 * to the user's local time". We refuse those on purpose: an instant without an offset cannot be placed
 * on a timeline, so date-range queries and day keys would depend on a guess about the user's zone.
 */
export const Timestamp = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with an offset or Z, e.g. 2022-11-23T09:00:00.000000+02:00',
})
export type Timestamp = z.infer<typeof Timestamp>

const FRACTION = /\.(\d+)/

/**
 * Microseconds since the Unix epoch for a {@link Timestamp}, or `NaN` when it cannot be parsed.
 *
 * `Date.parse` keeps milliseconds only; Terra's timestamps carry microseconds, so the sub-millisecond
 * digits are added back (the result stays below 2^53 for any year before 2255, so it is exact).
 */
export function epochMicros(timestamp: string): number {
  const millis = Date.parse(timestamp)
  if (Number.isNaN(millis)) return Number.NaN
  const digits = FRACTION.exec(timestamp)?.[1] ?? ''
  const subMillis = Number(digits.slice(3, 6).padEnd(3, '0'))
  return millis * 1000 + subMillis
}

const MIDNIGHT = /T00:00:00(?:\.0+)?(?:Z|[+-]\d{2}:\d{2})$/

/** True when the wall-clock time of a {@link Timestamp} is exactly 00:00:00 in its own offset. */
export function isLocalMidnight(timestamp: string): boolean {
  return MIDNIGHT.test(timestamp)
}
