import { describe, expect, it } from 'vitest'
import {
  addDays,
  formatTerraTimestamp,
  isValidZone,
  localDay,
  localMidnight,
  MAX_SPAN_DAYS,
  parseDateRange,
  parseInstant,
  timestampToMs,
} from '../../src/data/date-range.ts'
import { Problem } from '../../src/http/errors.ts'

const HOUR = 3_600_000
const DAY = 86_400_000
const NY = 'America/New_York'
/** An arbitrary "now" (2026-06-15T12:00:00Z) so that no test depends on the clock. */
const NOW = Date.UTC(2026, 5, 15, 12)

/** Epoch ms of an ISO string with `Z`, as an independent oracle (`Date.parse`). */
const utc = (iso: string): number => {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) throw new Error(`bad test fixture ${iso}`)
  return ms
}

/** The Problem thrown by `fn`; fails the test if it throws anything else or nothing. */
function problemOf(fn: () => unknown): Problem {
  try {
    fn()
  } catch (error) {
    if (error instanceof Problem) return error
    throw error
  }
  throw new Error('expected a Problem to be thrown')
}

const range = (start_date: string | undefined, end_date: string | undefined, zone = NY) =>
  parseDateRange({ start_date, end_date }, zone, NOW)

describe('parseDateRange: date-only values are whole local days', () => {
  it('spring-forward day in New York is 23 h: [05:00Z, next day 04:00Z)', () => {
    const r = range('2026-03-08', '2026-03-08')
    expect(r).toEqual({ startMs: 1_772_946_000_000, endMs: utc('2026-03-09T04:00:00Z') })
    expect(r.startMs).toBe(utc('2026-03-08T05:00:00Z'))
    expect(r.endMs - r.startMs).toBe(23 * HOUR)
  })

  it('fall-back day in New York is 25 h: [04:00Z, next day 05:00Z)', () => {
    const r = range('2026-11-01', '2026-11-01')
    expect(r).toEqual({ startMs: utc('2026-11-01T04:00:00Z'), endMs: utc('2026-11-02T05:00:00Z') })
    expect(r.endMs - r.startMs).toBe(25 * HOUR)
  })

  it('an ordinary New York week spans the DST change: 7 days minus an hour', () => {
    const r = range('2026-03-05', '2026-03-11')
    expect(r).toEqual({ startMs: utc('2026-03-05T05:00:00Z'), endMs: utc('2026-03-12T04:00:00Z') })
    expect(r.endMs - r.startMs).toBe(7 * DAY - HOUR)
  })

  it('Asia/Tokyo (UTC+9): a day starts at 15:00Z the day before', () => {
    expect(range('2026-03-08', '2026-03-08', 'Asia/Tokyo')).toEqual({
      startMs: utc('2026-03-07T15:00:00Z'),
      endMs: utc('2026-03-08T15:00:00Z'),
    })
  })

  it('Pacific/Kiritimati (UTC+14): 2026-01-01 starts at 2025-12-31T10:00Z', () => {
    expect(range('2026-01-01', '2026-01-01', 'Pacific/Kiritimati')).toEqual({
      startMs: utc('2025-12-31T10:00:00Z'),
      endMs: utc('2026-01-01T10:00:00Z'),
    })
  })

  it('Asia/Kathmandu (UTC+05:45): a day starts at 18:15Z the day before', () => {
    expect(range('2026-03-08', '2026-03-09', 'Asia/Kathmandu')).toEqual({
      startMs: utc('2026-03-07T18:15:00Z'),
      endMs: utc('2026-03-09T18:15:00Z'),
    })
  })

  it('UTC days are plain UTC midnights', () => {
    expect(range('2026-02-28', '2026-02-28', 'UTC')).toEqual({
      startMs: utc('2026-02-28T00:00:00Z'),
      endMs: utc('2026-03-01T00:00:00Z'),
    })
  })

  it('a date-only end includes its whole day and no more', () => {
    const r = range('2026-03-08', '2026-03-08')
    const lastInstant = timestampToMs('2026-03-08T23:59:59.999000-04:00')
    const nextMidnight = timestampToMs('2026-03-09T00:00:00.000000-04:00')
    expect(lastInstant).toBe(r.endMs - 1)
    expect(nextMidnight).toBe(r.endMs)
  })
})

describe('parseDateRange: instants', () => {
  it('date-times are half-open: the end instant itself is the exclusive end', () => {
    const r = range('2026-03-08T01:30:00-05:00', '2026-03-08T06:30:00Z')
    expect(r).toEqual({ startMs: utc('2026-03-08T06:30:00Z'), endMs: utc('2026-03-08T06:30:00Z') })
    const r2 = range('2026-03-08T01:30:00-05:00', '2026-03-08T07:30:00.250Z')
    expect(r2).toEqual({
      startMs: utc('2026-03-08T06:30:00Z'),
      endMs: utc('2026-03-08T07:30:00.250Z'),
    })
    // A record stamped exactly at end_date has startMs <= t but t === endMs, so it is outside.
    expect(timestampToMs('2026-03-08T02:30:00.250000-05:00')).toBe(r2.endMs)
  })

  it('start == end is an allowed, empty range', () => {
    const r = range('1772946000', '1772946000')
    expect(r).toEqual({ startMs: 1_772_946_000_000, endMs: 1_772_946_000_000 })
  })

  it('unix seconds equal the same instant written in RFC 3339', () => {
    const a = range('1772946000', '1773032400')
    const b = range('2026-03-08T05:00:00Z', '2026-03-09T01:00:00-04:00')
    expect(a).toEqual({ startMs: 1_772_946_000_000, endMs: 1_773_032_400_000 })
    expect(b).toEqual(a)
    expect(range('0', '0')).toEqual({ startMs: 0, endMs: 0 })
  })

  it('accepts lower-case t/z, a space separator and fractional seconds (truncated to ms)', () => {
    expect(range('2026-03-08t05:00:00.123456z', '2026-03-08 06:00:00.9999Z')).toEqual({
      startMs: utc('2026-03-08T05:00:00.123Z'),
      endMs: utc('2026-03-08T06:00:00.999Z'),
    })
  })

  it('reads a space before the offset as the + that query decoding turned into a space', () => {
    expect(range('2026-03-08T10:45:00 05:45', '2026-03-08T11:00:00+05:45')).toEqual({
      startMs: utc('2026-03-08T05:00:00Z'),
      endMs: utc('2026-03-08T05:15:00Z'),
    })
  })

  it('mixes a date start with a date-time end and vice versa', () => {
    expect(range('2026-03-08', '2026-03-08T12:00:00-04:00')).toEqual({
      startMs: utc('2026-03-08T05:00:00Z'),
      endMs: utc('2026-03-08T16:00:00Z'),
    })
    expect(range('2026-03-08T12:00:00-04:00', '2026-03-08')).toEqual({
      startMs: utc('2026-03-08T16:00:00Z'),
      endMs: utc('2026-03-09T04:00:00Z'),
    })
    expect(range('1772946000', '2026-03-09')).toEqual({
      startMs: 1_772_946_000_000,
      endMs: utc('2026-03-10T04:00:00Z'),
    })
  })

  it('end_date absent (or undefined) means now', () => {
    expect(parseDateRange({ start_date: '2026-06-01' }, NY, NOW)).toEqual({
      startMs: utc('2026-06-01T04:00:00Z'),
      endMs: NOW,
    })
    expect(range('2026-06-15T12:00:00Z', undefined)).toEqual({ startMs: NOW, endMs: NOW })
  })

  it('throws a plain Error, not a 400, for an invalid stored zone', () => {
    const error = (() => {
      try {
        range('2026-03-08', '2026-03-08', 'Mars/Base')
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(Error)
    expect(error).not.toBeInstanceOf(Problem)
    expect(String(error)).toContain('Mars/Base')
  })
})

describe('parseDateRange: 400 problems', () => {
  const badFormats: [string, RegExp][] = [
    ['2026/03/01', /YYYY-MM-DD, unix seconds or an RFC 3339 date-time with an offset/],
    ['yesterday', /YYYY-MM-DD, unix seconds or an RFC 3339 date-time with an offset/],
    ['2026-03-01T10:00:00', /no UTC offset; add Z or ±HH:MM/],
    ['2026-03-01T10:00:00.000', /no UTC offset/],
    ['1.5', /YYYY-MM-DD, unix seconds or an RFC 3339/],
    ['-1767225600', /YYYY-MM-DD, unix seconds or an RFC 3339/],
    ['1e9', /YYYY-MM-DD, unix seconds or an RFC 3339/],
    ['', /YYYY-MM-DD, unix seconds or an RFC 3339/],
    [' 2026-03-01', /YYYY-MM-DD, unix seconds or an RFC 3339/],
    ['2026-03-01T10:00Z', /YYYY-MM-DD, unix seconds or an RFC 3339/],
    ['2026-03-01T10:00:00+0500', /YYYY-MM-DD, unix seconds or an RFC 3339/],
    ['2026-02-30', /not a valid date: 2026-02 has 28 days/],
    ['2024-02-30', /not a valid date: 2024-02 has 29 days/],
    ['2026-04-31', /2026-04 has 30 days/],
    ['2026-01-00', /2026-01 has 31 days/],
    ['2026-13-01', /no month 13/],
    ['2026-00-10', /no month 0/],
    ['2026-02-30T10:00:00Z', /2026-02 has 28 days/],
    ['2026-03-01T25:00:00Z', /not a valid time of day: 25:00:00/],
    ['2026-03-01T23:60:00Z', /not a valid time of day/],
    ['2026-12-31T23:59:60Z', /not a valid time of day/],
    ['2026-03-01T10:00:00+24:00', /invalid UTC offset: \+24:00/],
    ['2026-03-01T10:00:00-05:60', /invalid UTC offset/],
    ['1767225600000', /too large.*milliseconds/],
  ]

  for (const [value, message] of badFormats) {
    it(`rejects start_date ${JSON.stringify(value)}`, () => {
      const p = problemOf(() => range(value, '2026-03-08'))
      expect(p.status).toBe(400)
      expect(p.extra.errors).toEqual([
        { path: 'start_date', message: expect.stringMatching(message) },
      ])
    })

    it(`rejects end_date ${JSON.stringify(value)}`, () => {
      const p = problemOf(() => range('2026-03-08', value))
      expect(p.status).toBe(400)
      expect(p.extra.errors).toEqual([
        { path: 'end_date', message: expect.stringMatching(message) },
      ])
    })
  }

  it('names both parameters when both are bad', () => {
    const p = problemOf(() => range('yesterday', '2026-02-30'))
    expect(p.status).toBe(400)
    expect(p.extra.errors?.map((e) => e.path)).toEqual(['start_date', 'end_date'])
  })

  it('requires start_date and says what it accepts', () => {
    const p = problemOf(() => parseDateRange({ end_date: '2026-03-08' }, NY, NOW))
    expect(p.status).toBe(400)
    expect(p.extra.errors).toEqual([
      {
        path: 'start_date',
        message: expect.stringMatching(/required unless updated_since.*YYYY-MM-DD/),
      },
    ])
    expect(problemOf(() => parseDateRange({}, NY, NOW)).extra.errors?.[0]?.path).toBe('start_date')
  })

  it('start after end is a 400 naming both, with the instants compared', () => {
    const p = problemOf(() => range('2026-03-08T05:00:00.001Z', '1772946000'))
    expect(p.status).toBe(400)
    expect(p.extra.errors?.map((e) => e.path)).toEqual(['start_date', 'end_date'])
    expect(p.extra.errors?.[0]?.message).toBe(
      'must not be after end_date 1772946000 (2026-03-08T05:00:00Z)',
    )
    expect(p.detail).toContain('2026-03-08T05:00:00.001Z')
  })

  it('a date-only start_date after a date-only end_date is a 400, not an empty range', () => {
    const p = problemOf(() => range('2026-03-09', '2026-03-08'))
    expect(p.status).toBe(400)
    expect(p.extra.errors?.map((e) => e.path)).toEqual(['start_date', 'end_date'])
  })

  it('a start in the future with no end_date is after now', () => {
    const p = problemOf(() => range('2026-06-16', undefined))
    expect(p.status).toBe(400)
    expect(p.extra.errors?.[0]).toEqual({
      path: 'start_date',
      message: 'must not be after now (2026-06-15T12:00:00Z), the default end_date',
    })
  })

  it(`accepts exactly ${MAX_SPAN_DAYS} days and rejects 1,827`, () => {
    expect(MAX_SPAN_DAYS).toBe(1826)
    // 2021-01-01 … 2025-12-31 inclusive is 5 × 365 + 1 (2024-02-29) = 1,826 days.
    const five = range('2021-01-01', '2025-12-31', 'UTC')
    expect(five.endMs - five.startMs).toBe(1826 * DAY)

    const p = problemOf(() => range('2021-01-01', '2026-01-01', 'UTC'))
    expect(p.status).toBe(400)
    expect(p.extra.errors?.[0]).toEqual({
      path: 'start_date',
      message: 'the range spans 1827 days; it may span at most 1826 days',
    })
    expect(p.extra.errors?.[1]?.path).toBe('end_date')
  })

  it('measures the span on the instants, allowing one hour for a daylight-saving change', () => {
    const start = 1_609_459_200 // 2021-01-01T00:00:00Z
    const end = start + 1826 * 86_400 + 3600
    expect(range(String(start), String(end))).toEqual({
      startMs: start * 1000,
      endMs: end * 1000,
    })
    const p = problemOf(() => range(String(start), '2026-01-01T01:00:00.001Z'))
    expect(p.extra.errors?.[0]?.message).toMatch(/spans 1826 days 1 h/)
  })

  it('accepts 1,826 local days from summer to winter time (1,826 days + 1 h of instants)', () => {
    // 2021-11-05 (EDT) … 2026-11-04, ending at midnight EST.
    expect(range('2021-11-05', '2026-11-04')).toEqual({
      startMs: utc('2021-11-05T04:00:00Z'),
      endMs: utc('2026-11-05T05:00:00Z'),
    })
    expect(problemOf(() => range('2021-11-04', '2026-11-04')).status).toBe(400)
  })
})

describe('parseInstant', () => {
  it('parses RFC 3339 with an offset to epoch ms', () => {
    expect(parseInstant('2026-03-08T00:00:00-05:00', 'updated_since')).toBe(1_772_946_000_000)
    expect(parseInstant('2026-03-08T05:00:00.123456Z', 'updated_since')).toBe(1_772_946_000_123)
    expect(parseInstant('2026-03-08T10:45:00 05:45', 'updated_since')).toBe(1_772_946_000_000)
  })

  it('rejects other forms with a 400 naming the parameter', () => {
    for (const value of ['2026-03-08', '1772946000', '2026-03-08T00:00:00', 'now', '']) {
      const p = problemOf(() => parseInstant(value, 'updated_since'))
      expect(p.status).toBe(400)
      expect(p.extra.errors?.[0]?.path).toBe('updated_since')
      expect(p.extra.errors?.[0]?.message).toMatch(
        /RFC 3339 date-time with an offset|no UTC offset/,
      )
    }
    expect(
      problemOf(() => parseInstant('2026-02-29T00:00:00Z', 'since')).extra.errors?.[0],
    ).toEqual({ path: 'since', message: 'is not a valid date: 2026-02 has 28 days' })
  })
})

describe('localDay', () => {
  it('switches at local midnight across the New York spring-forward', () => {
    expect(localDay(utc('2026-03-08T04:59:59.999Z'), NY)).toBe('2026-03-07')
    expect(localDay(utc('2026-03-08T05:00:00Z'), NY)).toBe('2026-03-08')
    expect(localDay(utc('2026-03-09T03:59:59.999Z'), NY)).toBe('2026-03-08')
    expect(localDay(utc('2026-03-09T04:00:00Z'), NY)).toBe('2026-03-09')
  })

  it('switches at local midnight across the New York fall-back', () => {
    expect(localDay(utc('2026-11-01T03:59:59.999Z'), NY)).toBe('2026-10-31')
    expect(localDay(utc('2026-11-01T04:00:00Z'), NY)).toBe('2026-11-01')
    expect(localDay(utc('2026-11-02T04:59:59.999Z'), NY)).toBe('2026-11-01')
    expect(localDay(utc('2026-11-02T05:00:00Z'), NY)).toBe('2026-11-02')
  })

  it('crosses year boundaries ahead of UTC', () => {
    expect(localDay(utc('2025-12-31T09:59:59.999Z'), 'Pacific/Kiritimati')).toBe('2025-12-31')
    expect(localDay(utc('2025-12-31T10:00:00Z'), 'Pacific/Kiritimati')).toBe('2026-01-01')
    expect(localDay(utc('2025-12-31T15:00:00Z'), 'Asia/Tokyo')).toBe('2026-01-01')
    expect(localDay(utc('2025-12-31T18:14:59.999Z'), 'Asia/Kathmandu')).toBe('2025-12-31')
    expect(localDay(utc('2025-12-31T18:15:00Z'), 'Asia/Kathmandu')).toBe('2026-01-01')
    expect(localDay(utc('2026-01-01T04:59:59Z'), NY)).toBe('2025-12-31')
    expect(localDay(utc('2026-01-01T00:00:00Z'), 'UTC')).toBe('2026-01-01')
  })

  it('handles instants before 1970', () => {
    expect(localDay(utc('1969-12-31T23:59:59.999Z'), 'UTC')).toBe('1969-12-31')
    expect(localDay(utc('1960-02-29T12:00:00Z'), 'Asia/Tokyo')).toBe('1960-02-29')
  })
})

describe('localMidnight', () => {
  it('is the first instant of the local day in several zones', () => {
    expect(localMidnight('2026-03-08', NY)).toBe(utc('2026-03-08T05:00:00Z'))
    expect(localMidnight('2026-03-09', NY)).toBe(utc('2026-03-09T04:00:00Z'))
    expect(localMidnight('2026-11-01', NY)).toBe(utc('2026-11-01T04:00:00Z'))
    expect(localMidnight('2026-11-02', NY)).toBe(utc('2026-11-02T05:00:00Z'))
    expect(localMidnight('2026-01-01', 'Pacific/Kiritimati')).toBe(utc('2025-12-31T10:00:00Z'))
    expect(localMidnight('2026-01-01', 'Asia/Kathmandu')).toBe(utc('2025-12-31T18:15:00Z'))
    expect(localMidnight('2026-01-01', 'Pacific/Marquesas')).toBe(utc('2026-01-01T09:30:00Z'))
    expect(localMidnight('2026-01-01', 'UTC')).toBe(utc('2026-01-01T00:00:00Z'))
  })

  it('uses the moment of the jump when midnight does not exist', () => {
    // Santiago, Havana and Beirut spring forward at 00:00, so their day starts at 01:00.
    expect(localMidnight('2026-09-06', 'America/Santiago')).toBe(utc('2026-09-06T04:00:00Z'))
    expect(localMidnight('2026-03-08', 'America/Havana')).toBe(utc('2026-03-08T05:00:00Z'))
    expect(localMidnight('2026-03-29', 'Asia/Beirut')).toBe(utc('2026-03-28T22:00:00Z'))
    expect(localDay(localMidnight('2026-09-06', 'America/Santiago') - 1, 'America/Santiago')).toBe(
      '2026-09-05',
    )
    // Such a day is 23 h long.
    expect(range('2026-09-06', '2026-09-06', 'America/Santiago')).toEqual({
      startMs: utc('2026-09-06T04:00:00Z'),
      endMs: utc('2026-09-07T03:00:00Z'),
    })
  })

  it('takes the first of two midnights when clocks fall back from 01:00 to 00:00', () => {
    // Havana falls back at 01:00 CDT to 00:00 CST: midnight is 04:00Z and again 05:00Z.
    expect(localMidnight('2026-11-01', 'America/Havana')).toBe(utc('2026-11-01T04:00:00Z'))
    // Santiago falls back at 24:00 to 23:00: the one midnight is at UTC-4.
    expect(localMidnight('2026-04-05', 'America/Santiago')).toBe(utc('2026-04-05T04:00:00Z'))
  })

  it('gives a skipped day (Pacific/Apia 2011-12-30) no length', () => {
    const start = localMidnight('2011-12-30', 'Pacific/Apia')
    expect(start).toBe(localMidnight('2011-12-31', 'Pacific/Apia'))
    expect(start).toBe(utc('2011-12-30T10:00:00Z'))
  })

  it('throws on an impossible day or zone', () => {
    expect(() => localMidnight('2026-02-29', NY)).toThrow(/2026-02 has 28 days/)
    expect(() => localMidnight('2026-3-1', NY)).toThrow(/YYYY-MM-DD/)
    expect(() => localMidnight('2026-03-01', 'Mars/Base')).toThrow(/Mars\/Base/)
  })
})

describe('addDays', () => {
  it('crosses month, year and leap-day boundaries', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
    expect(addDays('2027-01-01', -1)).toBe('2026-12-31')
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29')
    expect(addDays('2025-02-28', 1)).toBe('2025-03-01')
    expect(addDays('2000-02-28', 1)).toBe('2000-02-29')
    expect(addDays('1900-02-28', 1)).toBe('1900-03-01')
    expect(addDays('2026-03-08', 0)).toBe('2026-03-08')
    expect(addDays('2026-03-07', 1)).toBe('2026-03-08') // DST is irrelevant to calendar days
    expect(addDays('2021-01-01', 1826)).toBe('2026-01-01')
    expect(addDays('1970-01-01', -1)).toBe('1969-12-31')
    expect(addDays('0001-01-01', -1)).toBe('0000-12-31')
  })

  it('agrees with Date over 30 years either side of 2026', () => {
    for (let i = -11_000; i <= 11_000; i += 7) {
      const expected = new Date(Date.UTC(2026, 0, 1) + i * DAY).toISOString().slice(0, 10)
      expect(addDays('2026-01-01', i)).toBe(expected)
    }
  })

  it('throws on an impossible date, a fractional count or a year past 9999', () => {
    expect(() => addDays('2026-02-30', 1)).toThrow(/28 days/)
    expect(() => addDays('2026-03-01', 0.5)).toThrow(/whole number/)
    expect(() => addDays('9999-12-31', 1)).toThrow(/0000–9999/)
  })
})

describe('isValidZone', () => {
  it('accepts IANA names and rejects everything else', () => {
    expect(isValidZone('Europe/Berlin')).toBe(true)
    expect(isValidZone('America/Argentina/Buenos_Aires')).toBe(true)
    expect(isValidZone('UTC')).toBe(true)
    expect(isValidZone('Mars/Base')).toBe(false)
    expect(isValidZone('')).toBe(false)
    expect(isValidZone('+05:00')).toBe(false)
    expect(isValidZone('local')).toBe(false)
  })
})

describe('timestampToMs', () => {
  it('parses Terra timestamps with microseconds (truncated to the millisecond)', () => {
    expect(timestampToMs('2026-03-07T23:12:00.000000-05:00')).toBe(utc('2026-03-08T04:12:00Z'))
    expect(timestampToMs('2026-03-07T23:12:00.123999-05:00')).toBe(utc('2026-03-08T04:12:00.123Z'))
    expect(timestampToMs('2026-03-07T23:12:00.5Z')).toBe(utc('2026-03-07T23:12:00.500Z'))
    expect(timestampToMs('2026-03-07T23:12:00Z')).toBe(utc('2026-03-07T23:12:00Z'))
    expect(timestampToMs('2026-03-07T23:12:00-00:00')).toBe(utc('2026-03-07T23:12:00Z'))
    expect(timestampToMs('1969-12-31T23:59:59.999500Z')).toBe(-1)
  })

  it('handles odd and extreme offsets', () => {
    expect(timestampToMs('2026-03-08T05:45:00.000000+05:45')).toBe(utc('2026-03-08T00:00:00Z'))
    expect(timestampToMs('2026-01-01T00:00:00.000000+14:00')).toBe(utc('2025-12-31T10:00:00Z'))
    expect(timestampToMs('2025-12-31T14:30:00.000000-09:30')).toBe(utc('2026-01-01T00:00:00Z'))
    expect(timestampToMs('2026-03-08T10:30:00+10:30')).toBe(utc('2026-03-08T00:00:00Z'))
  })

  it('handles years 0000–0099, which Date.UTC would map to the 1900s', () => {
    expect(timestampToMs('0050-06-01T00:00:00Z')).toBe(utc('0050-06-01T00:00:00Z'))
    expect(timestampToMs('0000-03-01T00:00:00+01:00')).toBe(utc('0000-02-29T23:00:00Z'))
  })

  it('agrees with Date.parse on many generated timestamps', () => {
    let seed = 42
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed % n
    }
    const p = (n: number, w: number) => String(n).padStart(w, '0')
    for (let i = 0; i < 2000; i++) {
      const iso =
        `${p(1900 + next(200), 4)}-${p(1 + next(12), 2)}-${p(1 + next(28), 2)}` +
        `T${p(next(24), 2)}:${p(next(60), 2)}:${p(next(60), 2)}.${p(next(1_000_000), 6)}` +
        `${next(2) ? '+' : '-'}${p(next(15), 2)}:${p(next(4) * 15, 2)}`
      // Date.parse keeps milliseconds only, truncating the microseconds just as we do.
      expect(timestampToMs(iso), iso).toBe(Date.parse(iso))
    }
  })

  it('rejects a timestamp without an offset, and other garbage, with a plain Error', () => {
    expect(() => timestampToMs('2026-03-07T23:12:00.000000')).toThrow(/no UTC offset/)
    expect(() => timestampToMs('2026-03-07T23:12:00')).toThrow(/no UTC offset/)
    expect(() => timestampToMs('2026-03-07')).toThrow(/with an offset/)
    expect(() => timestampToMs('2026-03-07T23:12:00+0500')).toThrow(/with an offset/)
    expect(() => timestampToMs('2026-02-30T23:12:00Z')).toThrow(/28 days/)
    expect(() => timestampToMs('2026-03-07T24:00:00Z')).toThrow(/time of day/)
    expect(() => timestampToMs('')).toThrow(Error)
    try {
      timestampToMs('2026-03-07T23:12:00')
    } catch (error) {
      expect(error).not.toBeInstanceOf(Problem)
    }
  })
})

describe('formatTerraTimestamp', () => {
  it('formats with microseconds and the zone offset at that instant', () => {
    expect(formatTerraTimestamp(utc('2026-03-08T04:12:00Z'), NY)).toBe(
      '2026-03-07T23:12:00.000000-05:00',
    )
    expect(formatTerraTimestamp(utc('2026-03-08T07:00:00.123Z'), NY)).toBe(
      '2026-03-08T03:00:00.123000-04:00',
    )
    expect(formatTerraTimestamp(utc('2025-12-31T18:15:00Z'), 'Asia/Kathmandu')).toBe(
      '2026-01-01T00:00:00.000000+05:45',
    )
    expect(formatTerraTimestamp(utc('2025-12-31T10:00:00Z'), 'Pacific/Kiritimati')).toBe(
      '2026-01-01T00:00:00.000000+14:00',
    )
    expect(formatTerraTimestamp(utc('2026-01-01T09:30:00Z'), 'Pacific/Marquesas')).toBe(
      '2026-01-01T00:00:00.000000-09:30',
    )
    expect(formatTerraTimestamp(utc('1969-12-31T23:59:59.999Z'), 'UTC')).toBe(
      '1969-12-31T23:59:59.999000+00:00',
    )
  })

  it('writes UTC as +00:00, never Z', () => {
    expect(formatTerraTimestamp(1_772_946_000_000, 'UTC')).toBe('2026-03-08T05:00:00.000000+00:00')
    expect(formatTerraTimestamp(1_772_946_000_000, 'Europe/London')).toBe(
      '2026-03-08T05:00:00.000000+00:00',
    )
  })

  it('keeps a sub-millisecond fraction to the microsecond', () => {
    expect(formatTerraTimestamp(1_772_946_000_123.5, 'UTC')).toBe(
      '2026-03-08T05:00:00.123500+00:00',
    )
  })

  it('rounds a local-mean-time offset to the minute and still names the same instant', () => {
    // Manila's LMT was -15:56:08 before 1845; RFC 3339 offsets have no seconds.
    const ms = utc('1800-01-01T15:56:08Z')
    expect(formatTerraTimestamp(ms, 'Asia/Manila')).toBe('1800-01-01T00:00:08.000000-15:56')
    expect(timestampToMs(formatTerraTimestamp(ms, 'Asia/Manila'))).toBe(ms)
    // In 1850 it was +08:03:52: rounded up to +08:04, so the wall clock reads 8 s past midnight.
    const later = utc('1849-12-31T15:56:08Z')
    expect(formatTerraTimestamp(later, 'Asia/Manila')).toBe('1850-01-01T00:00:08.000000+08:04')
    expect(timestampToMs(formatTerraTimestamp(later, 'Asia/Manila'))).toBe(later)
  })

  it('round-trips with timestampToMs to the millisecond in several zones', () => {
    const zones = [
      'UTC',
      NY,
      'America/Santiago',
      'Asia/Tokyo',
      'Asia/Kathmandu',
      'Pacific/Kiritimati',
      'Pacific/Marquesas',
      'Australia/Lord_Howe',
      'Europe/Berlin',
    ]
    // Every 7 h 13 min 17.321 s through 2026 hits both DST changes of every zone closely enough.
    const step = 7 * HOUR + 13 * 60_000 + 17_321
    for (const zone of zones) {
      for (let ms = utc('2026-01-01T00:00:00Z'); ms < utc('2027-01-01T00:00:00Z'); ms += step) {
        expect(timestampToMs(formatTerraTimestamp(ms, zone))).toBe(ms)
      }
      for (const t of [
        '2026-03-08T06:59:59.999Z',
        '2026-03-08T07:00:00Z',
        '2026-11-01T05:30:00Z',
      ]) {
        expect(timestampToMs(formatTerraTimestamp(utc(t), zone))).toBe(utc(t))
      }
    }
  })

  it('round-trips the first instant of every 2026 New York day, at local midnight or the jump', () => {
    let day = '2026-01-01'
    while (day < '2027-01-01') {
      const midnight = localMidnight(day, NY)
      expect(formatTerraTimestamp(midnight, NY)).toMatch(
        new RegExp(`^${day}T00:00:00\\.000000-0[45]:00$`),
      )
      expect(localDay(midnight, NY)).toBe(day)
      day = addDays(day, 1)
    }
  })
})
