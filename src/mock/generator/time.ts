import { IANAZone } from 'luxon'
import { addDays, localMidnight } from '../../data/date-range.ts'

export const MINUTE_MS = 60_000
const DAY_MS = 86_400_000

/** One UTC day of a zone: its offset, or the two offsets and the instant the clocks changed. */
interface UtcDay {
  before: number
  after: number
  /** The first instant with the `after` offset (the end of the day when nothing changes). */
  change: number
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'))
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))

/**
 * Local time in one IANA zone, made fast for the generator.
 *
 * Seeding formats hundreds of thousands of timestamps, and asking `Intl` (through luxon) for the
 * offset of each costs 5–15 µs, which would dominate. Real zones change their offset at most once
 * in a UTC day, so the offsets at both ends of each UTC day, and on the rare day they differ a
 * binary search for the instant of the change, give the offset anywhere exactly; they are cached
 * per day. `format` writes exactly what `formatTerraTimestamp` writes
 * (`2026-03-08T03:00:00.000000-04:00`), which the tests check.
 */
export class ZoneClock {
  readonly name: string
  private readonly tz: IANAZone
  private readonly days = new Map<number, UtcDay>()
  private readonly dates = new Map<number, string>()
  private readonly suffixes = new Map<number, string>()

  constructor(zone: string) {
    const tz = zone === '' ? undefined : IANAZone.create(zone)
    if (tz === undefined || !tz.isValid) throw new Error(`invalid IANA time zone: ${zone}`)
    this.tz = tz
    this.name = zone
  }

  private exact(ms: number): number {
    const offset = Math.round(this.tz.offset(ms))
    if (Number.isNaN(offset)) throw new Error(`no UTC offset for ${this.name} at ${ms}`)
    return offset
  }

  /** The UTC offset at `ms`, in minutes. */
  offsetAt(ms: number): number {
    const dayNumber = Math.floor(ms / DAY_MS)
    let day = this.days.get(dayNumber)
    if (day === undefined) {
      const from = dayNumber * DAY_MS
      const to = from + DAY_MS
      const before = this.exact(from)
      const after = this.exact(to)
      let lo = from
      let hi = to
      if (before !== after) {
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2)
          if (this.exact(mid) === before) lo = mid
          else hi = mid
        }
      }
      day = { before, after, change: hi }
      if (this.days.size > 50_000) this.days.clear()
      this.days.set(dayNumber, day)
    }
    return ms < day.change ? day.before : day.after
  }

  /** `ms` (whole milliseconds) as Terra writes it: local wall time, microseconds, the offset. */
  format(ms: number): string {
    const offset = this.offsetAt(ms)
    const wall = ms + offset * MINUTE_MS
    const dayNumber = Math.floor(wall / DAY_MS)
    const msOfDay = wall - dayNumber * DAY_MS
    const hh = Math.floor(msOfDay / 3_600_000)
    const mm = Math.floor(msOfDay / MINUTE_MS) % 60
    const ss = Math.floor(msOfDay / 1000) % 60
    return `${this.date(dayNumber)}T${TWO_DIGITS[hh]}:${TWO_DIGITS[mm]}:${TWO_DIGITS[ss]}.${THREE_DIGITS[msOfDay % 1000]}000${this.suffix(offset)}`
  }

  /** Minutes since local midnight of the wall clock at `ms` (0–1439). */
  wallMinutes(ms: number): number {
    const wall = ms + this.offsetAt(ms) * MINUTE_MS
    return Math.floor((((wall % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS)
  }

  /**
   * The instant at which the wall clock reads `minutes` after midnight of `day` (negative or above
   * 1440 reaches into the neighbouring days). A wall time that a forward DST jump skips lands an
   * hour early; one that a backward jump repeats is its first occurrence.
   */
  wallTime(day: string, minutes: number): number {
    const whole = Math.floor(minutes / 1440)
    const midnight = localMidnight(addDays(day, whole), this.name)
    const guess = midnight + (minutes - whole * 1440) * MINUTE_MS
    return guess - (this.offsetAt(guess) - this.offsetAt(midnight)) * MINUTE_MS
  }

  private date(dayNumber: number): string {
    let date = this.dates.get(dayNumber)
    if (date === undefined) {
      date = new Date(dayNumber * DAY_MS).toISOString().slice(0, 10)
      if (this.dates.size > 50_000) this.dates.clear()
      this.dates.set(dayNumber, date)
    }
    return date
  }

  private suffix(minutes: number): string {
    let suffix = this.suffixes.get(minutes)
    if (suffix === undefined) {
      const abs = Math.abs(minutes)
      suffix = `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${TWO_DIGITS[abs % 60]}`
      this.suffixes.set(minutes, suffix)
    }
    return suffix
  }
}

const clocks = new Map<string, ZoneClock>()

/** The (shared, cached) clock of an IANA zone; throws for an invalid zone. */
export function clockOf(zone: string): ZoneClock {
  let clock = clocks.get(zone)
  if (clock === undefined) {
    clock = new ZoneClock(zone)
    if (clocks.size > 1000) clocks.clear()
    clocks.set(zone, clock)
  }
  return clock
}

/** The day of the week of a `YYYY-MM-DD` date: 0 Sunday … 6 Saturday. */
export function weekdayOf(day: string): number {
  return new Date(`${day}T12:00:00Z`).getUTCDay()
}

/** Saturday or Sunday. */
export function isWeekend(day: string): boolean {
  const weekday = weekdayOf(day)
  return weekday === 0 || weekday === 6
}
