import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  addDays,
  formatTerraTimestamp,
  localDay,
  localMidnight,
  timestampToMs,
} from '../../src/data/date-range.ts'
import {
  ACTIVITY_TYPE,
  type ActivityRecord,
  ActivityRecord as ActivitySchema,
  type DailyRecord,
  DailyRecord as DailySchema,
  SLEEP_LEVEL,
  SLEEP_UPLOAD_TYPE,
  type SleepRecord,
  SleepRecord as SleepSchema,
  TIMESTAMP_LOCALIZATION,
  UPLOAD_TYPE,
} from '../../src/data/models/index.ts'
import { DEMO_USERS } from '../../src/mock/demo.ts'
import {
  daysBetween,
  type GeneratedRange,
  type GeneratorUser,
  generateDay,
  generateDayAsOf,
  generateRange,
  generateUntil,
} from '../../src/mock/generator/index.ts'
import { loadTerraSchemas, terraSchemasMissingMessage } from '../helpers/terra-schemas.ts'

const schemas = loadTerraSchemas()
if (!schemas) console.warn(terraSchemasMissingMessage())

const SEED = 42
const HOUR = 3_600_000
const MINUTE = 60_000

/** The demo cast (alice New York, kenji Tokyo, tia Kiritimati, lena Berlin) with fixed ids. */
const DEMO: GeneratorUser[] = DEMO_USERS.map((u, i) => ({
  id: `7f3c9a10-0000-8000-8000-00000000000${i + 1}`,
  email: u.email,
  timezone: u.timezone,
}))
const [ALICE, KENJI, TIA, LENA] = DEMO as [
  GeneratorUser,
  GeneratorUser,
  GeneratorUser,
  GeneratorUser,
]

/** More zones for the big corpus: half-hour DST, negative half-hour and +05:45 offsets, UTC. */
const MORE: GeneratorUser[] = [
  'Australia/Lord_Howe',
  'America/St_Johns',
  'Asia/Kathmandu',
  'UTC',
].map((timezone, i) => ({ id: `extra-user-${i}`, email: `extra${i}@mockwear.test`, timezone }))

interface Tagged<T> {
  user: GeneratorUser
  day: string
  record: T
}

interface Corpus {
  sleep: Tagged<SleepRecord>[]
  activity: Tagged<ActivityRecord>[]
  daily: Tagged<DailyRecord>[]
  size: number
}

function collect(users: readonly GeneratorUser[], from: string, to: string, seed = SEED): Corpus {
  const corpus: Corpus = { sleep: [], activity: [], daily: [], size: 0 }
  for (const user of users) {
    for (const day of daysBetween(from, to)) {
      const { sleep, activity, daily } = generateDay(seed, user, day)
      for (const record of sleep) corpus.sleep.push({ user, day, record })
      for (const record of activity) corpus.activity.push({ user, day, record })
      corpus.daily.push({ user, day, record: daily })
    }
  }
  corpus.size = corpus.sleep.length + corpus.activity.length + corpus.daily.length
  return corpus
}

// 8 users × 441 days (two DST changes a year in four zones) ≈ 10,000 records; generated once.
let big: Corpus | undefined
function bigCorpus(): Corpus {
  big ??= collect([...DEMO, ...MORE], '2025-09-01', '2026-11-15')
  return big
}

// The demo cast over the 90 days the mock provider seeds.
let ninety: Corpus | undefined
function ninetyDays(): Corpus {
  ninety ??= collect(DEMO, '2026-01-01', '2026-03-31')
  return ninety
}

/** Seconds between two Terra timestamps. */
function seconds(from: string, to: string): number {
  return (timestampToMs(to) - timestampToMs(from)) / 1000
}

const total = (values: readonly (number | null | undefined)[]) =>
  values.reduce<number>((sum, v) => sum + (v ?? 0), 0)

/** Every timestamp-valued string in a record (keys naming a time, timestamp or date). */
function timestamps(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const v of value) timestamps(v, out)
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (typeof child === 'string' && TIME_KEY.test(key)) out.push(child)
      else timestamps(child, out)
    }
  }
  return out
}
const TIME_KEY = /time|timestamp|date/

/** Hypnogram seconds per level: each sample lasts until the next one, the last until end_time. */
function hypnogramSeconds(sleep: SleepRecord): Map<number, number> {
  const samples = sleep.sleep_durations_data?.hypnogram_samples ?? []
  const out = new Map<number, number>()
  samples.forEach((s, i) => {
    const next = samples[i + 1]?.timestamp ?? sleep.metadata.end_time
    const level = s.level ?? -1
    out.set(level, (out.get(level) ?? 0) + seconds(s.timestamp ?? '', next))
  })
  return out
}

describe('generated records follow the models', () => {
  it('10,000 records from 8 users in 8 zones over 14 months all pass our zod models', () => {
    const corpus = bigCorpus()
    expect(corpus.size).toBeGreaterThanOrEqual(10_000)
    const failures: string[] = []
    const check =
      (kind: string, schema: { safeParse(v: unknown): { success: boolean } }) =>
      (t: Tagged<unknown>) => {
        const result = schema.safeParse(t.record)
        if (!result.success) failures.push(`${kind} ${t.user.timezone} ${t.day}`)
      }
    corpus.sleep.forEach(check('sleep', SleepSchema))
    corpus.activity.forEach(check('activity', ActivitySchema))
    corpus.daily.forEach(check('daily', DailySchema))
    expect(failures).toStrictEqual([])
  }, 180_000)

  it.skipIf(!schemas)(
    "the same 10,000 records all pass Terra's JSON Schemas",
    () => {
      const terra = schemas
      if (!terra) throw new Error(terraSchemasMissingMessage())
      const corpus = bigCorpus()
      const failures: string[] = []
      const check = (name: string) => (t: Tagged<unknown>) => {
        const result = terra.validate(name, t.record)
        if (!result.valid) failures.push(`${name} ${t.user.timezone} ${t.day}: ${result.errors[0]}`)
      }
      corpus.sleep.forEach(check('Sleep'))
      corpus.activity.forEach(check('Activity'))
      corpus.daily.forEach(check('Daily'))
      expect(failures).toStrictEqual([])
      expect(corpus.size).toBeGreaterThanOrEqual(10_000)
    },
    180_000,
  )

  it('every timestamp carries the offset of the user’s zone at that instant', () => {
    // Offsets from date-range's formatTerraTimestamp (luxon), cached per zone and hour when the
    // offset is the same at both ends of the hour, else asked for each timestamp. With the offset
    // right and the string naming the instant in Terra's exact shape, the wall-clock part is right
    // too; every 50th timestamp is also compared whole.
    const offsets = new Map<string, Map<number, string | null>>()
    const offsetOf = (zone: string, ms: number) => {
      const hour = Math.floor(ms / HOUR)
      let byHour = offsets.get(zone)
      if (!byHour) {
        byHour = new Map()
        offsets.set(zone, byHour)
      }
      let offset = byHour.get(hour)
      if (offset === undefined) {
        const first = formatTerraTimestamp(hour * HOUR, zone).slice(-6)
        const last = formatTerraTimestamp((hour + 1) * HOUR - 1, zone).slice(-6)
        offset = first === last ? first : null
        byHour.set(hour, offset)
      }
      return offset ?? formatTerraTimestamp(ms, zone).slice(-6)
    }
    const shape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{2}:\d{2}$/
    const corpus = bigCorpus()
    const wrong: string[] = []
    let checked = 0
    for (const list of [corpus.sleep, corpus.activity, corpus.daily] as Tagged<unknown>[][]) {
      for (const { user, day, record } of list) {
        for (const ts of timestamps(record)) {
          const ms = timestampToMs(ts)
          const expected = checked++ % 50 === 0 ? formatTerraTimestamp(ms, user.timezone) : ts
          if (!shape.test(ts) || ts.slice(-6) !== offsetOf(user.timezone, ms) || ts !== expected) {
            wrong.push(`${user.timezone} ${day}: ${ts}`)
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(1_000_000)
    expect(wrong.slice(0, 5)).toStrictEqual([])
  }, 120_000)

  it('uses the right enums: sleep upload_type 2 (SleepUploadType), activity/daily 1 (UploadType), local timestamps', () => {
    const { sleep, activity, daily } = ninetyDays()
    expect(new Set(sleep.map((s) => s.record.metadata.upload_type))).toStrictEqual(
      new Set([SLEEP_UPLOAD_TYPE.AUTOMATIC]),
    )
    const others = [...activity, ...daily].map((t) => t.record.metadata.upload_type)
    expect(new Set(others)).toStrictEqual(new Set([UPLOAD_TYPE.AUTOMATIC]))
    const localization = [...sleep, ...activity, ...daily].map(
      (t) => t.record.metadata.timestamp_localization,
    )
    expect(new Set(localization)).toStrictEqual(new Set([TIMESTAMP_LOCALIZATION.LOCAL]))
    expect(daily[0]?.record.device_data?.name).toBe('MockWear Band 2')
  })

  it('keeps bodies to a few tens of KB', () => {
    const { sleep, activity, daily } = ninetyDays()
    for (const list of [sleep, activity, daily] as Tagged<unknown>[][]) {
      const sizes = list.map((t) => JSON.stringify(t.record).length)
      expect(Math.max(...sizes)).toBeLessThan(100_000)
    }
  })
})

describe('sums add up', () => {
  it('sleep: light + deep + REM = asleep, asleep + awake = in bed = end − start, hypnogram = stages, efficiency', () => {
    const { sleep } = bigCorpus()
    expect(sleep.length).toBeGreaterThan(2000)
    for (const { record } of sleep) {
      const d = record.sleep_durations_data
      const asleep = d?.asleep
      const awake = d?.awake
      const inBed = d?.other?.duration_in_bed_seconds ?? Number.NaN
      const light = asleep?.duration_light_sleep_state_seconds ?? Number.NaN
      const deep = asleep?.duration_deep_sleep_state_seconds ?? Number.NaN
      const rem = asleep?.duration_REM_sleep_state_seconds ?? Number.NaN
      const asleepTotal = asleep?.duration_asleep_state_seconds ?? Number.NaN
      const awakeTotal = awake?.duration_awake_state_seconds ?? Number.NaN
      expect(light + deep + rem).toBe(asleepTotal)
      expect(asleepTotal + awakeTotal).toBe(inBed)
      expect(inBed).toBe(seconds(record.metadata.start_time, record.metadata.end_time))
      expect(
        total([
          awake?.sleep_latency_seconds,
          awake?.duration_short_interruption_seconds,
          awake?.duration_long_interruption_seconds,
          awake?.wake_up_latency_seconds,
        ]),
      ).toBe(awakeTotal)
      expect(
        Math.abs((d?.sleep_efficiency ?? 0) - (asleepTotal / inBed) * 100),
      ).toBeLessThanOrEqual(0.05)

      const hypnogram = hypnogramSeconds(record)
      expect(d?.hypnogram_samples?.[0]?.timestamp).toBe(record.metadata.start_time)
      expect(hypnogram.get(SLEEP_LEVEL.LIGHT) ?? 0).toBe(light)
      expect(hypnogram.get(SLEEP_LEVEL.DEEP) ?? 0).toBe(deep)
      expect(hypnogram.get(SLEEP_LEVEL.REM) ?? 0).toBe(rem)
      expect(hypnogram.get(SLEEP_LEVEL.AWAKE) ?? 0).toBe(awakeTotal)
      expect(total([...hypnogram.values()])).toBe(inBed)
      const remSegments = (d?.hypnogram_samples ?? []).filter((s) => s.level === SLEEP_LEVEL.REM)
      expect(asleep?.num_REM_events).toBe(remSegments.length)
    }
  })

  it('sleep: cycles put more deep sleep early in the night and more REM late', () => {
    const nights = bigCorpus().sleep.filter((s) => !s.record.metadata.is_nap)
    let deepEarlier = 0
    let remLater = 0
    for (const { record } of nights) {
      const start = timestampToMs(record.metadata.start_time)
      const mid = (start + timestampToMs(record.metadata.end_time)) / 2
      const halves = { deep: [0, 0], rem: [0, 0] }
      const samples = record.sleep_durations_data?.hypnogram_samples ?? []
      samples.forEach((s, i) => {
        const from = timestampToMs(s.timestamp ?? '')
        const to = timestampToMs(samples[i + 1]?.timestamp ?? record.metadata.end_time)
        const key =
          s.level === SLEEP_LEVEL.DEEP ? 'deep' : s.level === SLEEP_LEVEL.REM ? 'rem' : null
        if (key === null) return
        const early = Math.max(0, Math.min(to, mid) - from)
        halves[key][0] = (halves[key][0] ?? 0) + early
        halves[key][1] = (halves[key][1] ?? 0) + (to - from - early)
      })
      if ((halves.deep[0] ?? 0) > (halves.deep[1] ?? 0)) deepEarlier++
      if ((halves.rem[1] ?? 0) > (halves.rem[0] ?? 0)) remLater++
    }
    expect(deepEarlier / nights.length).toBeGreaterThan(0.95)
    expect(remLater / nights.length).toBeGreaterThan(0.95)
  })

  it('activities: zones, laps and cumulative samples add up to the totals', () => {
    const { activity } = bigCorpus()
    for (const { record } of activity) {
      const duration = seconds(record.metadata.start_time, record.metadata.end_time)
      const zones = record.heart_rate_data?.summary?.hr_zone_data ?? []
      expect(total(zones.map((z) => z.duration_seconds))).toBe(duration)
      const active = record.active_durations_data
      expect(active?.activity_seconds).toBe(duration)
      expect(
        total([
          active?.low_intensity_seconds,
          active?.moderate_intensity_seconds,
          active?.vigorous_intensity_seconds,
        ]),
      ).toBe(duration)
      const calories = record.calories_data
      expect(total([calories?.BMR_calories, calories?.net_activity_calories])).toBeCloseTo(
        calories?.total_burned_calories ?? Number.NaN,
        0,
      )

      const summary = record.distance_data?.summary
      const detailed = record.distance_data?.detailed
      const distances = (detailed?.distance_samples ?? []).map((s) => s.distance_meters ?? 0)
      const steps = (detailed?.step_samples ?? []).map((s) => s.steps ?? 0)
      const nonDecreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x >= (xs[i - 1] ?? 0))
      expect(nonDecreasing(distances) && nonDecreasing(steps)).toBe(true)
      if (summary?.distance_meters != null) expect(distances.at(-1)).toBe(summary.distance_meters)
      if (summary?.steps != null) expect(steps.at(-1)).toBe(summary.steps)

      const laps = record.lap_data?.laps
      if (laps) {
        expect(Math.round(total(laps.map((l) => l.distance_meters)) * 10) / 10).toBe(
          summary?.distance_meters,
        )
        expect(total(laps.map((l) => l.active_duration_seconds))).toBe(duration)
        expect(laps[0]?.start_time).toBe(record.metadata.start_time)
        expect(laps.at(-1)?.end_time).toBe(record.metadata.end_time)
      }
      const swimming = summary?.swimming
      if (swimming?.pool_length_meters) {
        expect((swimming.num_laps ?? 0) * swimming.pool_length_meters).toBe(
          summary?.distance_meters,
        )
        expect(total((laps ?? []).map((l) => l.total_strokes))).toBe(swimming.num_strokes)
      }
    }
  })

  it("dailies cover their day's workouts: steps, distance, calories and active time", () => {
    const corpus = bigCorpus()
    const byDay = new Map<string, ActivityRecord[]>()
    for (const { user, day, record } of corpus.activity) {
      const key = `${user.id} ${day}`
      byDay.set(key, [...(byDay.get(key) ?? []), record])
    }
    let daysWithWorkouts = 0
    for (const { user, day, record: daily } of corpus.daily) {
      const workouts = byDay.get(`${user.id} ${day}`) ?? []
      if (workouts.length > 0) daysWithWorkouts++
      const sumOf = (f: (a: ActivityRecord) => number | null | undefined) => total(workouts.map(f))
      const steps = sumOf((a) => a.distance_data?.summary?.steps)
      expect(daily.distance_data?.steps ?? 0).toBeGreaterThanOrEqual(steps)
      expect(daily.distance_data?.distance_meters ?? 0).toBeGreaterThanOrEqual(
        sumOf((a) => a.distance_data?.summary?.distance_meters),
      )
      const cal = daily.calories_data
      expect(cal?.total_burned_calories ?? 0).toBeGreaterThanOrEqual(
        sumOf((a) => a.calories_data?.total_burned_calories),
      )
      expect(cal?.net_activity_calories ?? 0).toBeGreaterThanOrEqual(
        sumOf((a) => a.calories_data?.net_activity_calories),
      )
      expect(
        Math.abs(
          total([cal?.BMR_calories, cal?.net_activity_calories]) -
            (cal?.total_burned_calories ?? 0),
        ),
      ).toBeLessThanOrEqual(0.11)
      const active = daily.active_durations_data
      for (const key of [
        'activity_seconds',
        'low_intensity_seconds',
        'moderate_intensity_seconds',
        'vigorous_intensity_seconds',
      ] as const) {
        expect(active?.[key] ?? 0).toBeGreaterThanOrEqual(
          sumOf((a) => a.active_durations_data?.[key]),
        )
      }
      const dayLength = seconds(daily.metadata.start_time, daily.metadata.end_time)
      expect(
        total([active?.activity_seconds, active?.inactivity_seconds, active?.rest_seconds]),
      ).toBeLessThanOrEqual(dayLength)
      // Walking around adds steps beyond the workouts.
      expect(daily.distance_data?.steps ?? 0).toBeGreaterThan(steps)
      const stepSamples = daily.distance_data?.detailed?.step_samples ?? []
      expect(stepSamples.at(-1)?.steps).toBe(daily.distance_data?.steps)
    }
    expect(daysWithWorkouts).toBeGreaterThan(corpus.daily.length / 2)
  })
})

describe('determinism', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('the same seed gives byte-identical JSON; a day alone equals the same day inside a month', () => {
    const month = generateRange(SEED, ALICE, '2026-02-01', '2026-02-28')
    expect(JSON.stringify(generateRange(SEED, ALICE, '2026-02-01', '2026-02-28'))).toBe(
      JSON.stringify(month),
    )
    const overlapping = generateRange(SEED, ALICE, '2026-02-20', '2026-03-10')
    const byDay = (range: GeneratedRange, day: string) =>
      JSON.stringify({
        sleep: range.sleep.filter((s) => s.metadata.summary_id.includes(day)),
        activity: range.activity.filter((a) => a.metadata.summary_id.includes(day)),
        daily: range.daily.filter((d) => d.metadata.start_time.startsWith(day)),
      })
    for (const day of ['2026-02-01', '2026-02-14', '2026-02-20', '2026-02-28']) {
      const alone = generateDay(SEED, ALICE, day)
      expect(JSON.stringify({ ...alone, daily: [alone.daily] })).toBe(byDay(month, day))
    }
    for (const day of daysBetween('2026-02-20', '2026-02-28')) {
      expect(byDay(overlapping, day)).toBe(byDay(month, day))
    }
  })

  it('different seeds give different data, and different users differ too', () => {
    const days = daysBetween('2026-02-01', '2026-02-14')
    const a = days.map((d) => JSON.stringify(generateDay(1, KENJI, d)))
    const b = days.map((d) => JSON.stringify(generateDay(2, KENJI, d)))
    expect(a.filter((json, i) => json === b[i])).toStrictEqual([])
    const stepsOf = (user: GeneratorUser) =>
      days.map((d) => generateDay(1, user, d).daily.distance_data?.steps)
    const kenji = stepsOf(KENJI)
    const other = stepsOf({ ...KENJI, id: 'someone-else' })
    expect(other.filter((steps, i) => steps === kenji[i])).toStrictEqual([])
  })

  it('never reads Math.random or the clock', () => {
    const random = vi.spyOn(Math, 'random')
    const now = vi.spyOn(Date, 'now')
    generateRange(SEED, LENA, '2026-03-25', '2026-04-02')
    generateDayAsOf(
      SEED,
      LENA,
      '2026-03-29',
      localMidnight('2026-03-29', LENA.timezone) + 12 * HOUR,
    )
    expect(random).not.toHaveBeenCalled()
    expect(now).not.toHaveBeenCalled()
  })
})

describe('local days', () => {
  it('America/New_York: the spring-forward day is 23 hours, the fall-back day 25, from local midnight to local midnight', () => {
    const spring = generateDay(SEED, ALICE, '2026-03-08').daily
    expect(spring.metadata.start_time).toBe('2026-03-08T00:00:00.000000-05:00')
    expect(spring.metadata.end_time).toBe('2026-03-09T00:00:00.000000-04:00')
    expect(seconds(spring.metadata.start_time, spring.metadata.end_time)).toBe(23 * 3600)
    expect(spring.distance_data?.detailed?.step_samples).toHaveLength(23)
    expect(
      spring.calories_data?.calorie_samples?.map((s) => s.timestamp?.slice(11, 13)),
    ).toStrictEqual([
      '00',
      '01',
      ...Array.from({ length: 21 }, (_, i) => String(i + 3).padStart(2, '0')),
    ])

    const fall = generateDay(SEED, ALICE, '2026-11-01').daily
    expect(fall.metadata.start_time).toBe('2026-11-01T00:00:00.000000-04:00')
    expect(fall.metadata.end_time).toBe('2026-11-02T00:00:00.000000-05:00')
    expect(seconds(fall.metadata.start_time, fall.metadata.end_time)).toBe(25 * 3600)
    expect(fall.distance_data?.detailed?.step_samples).toHaveLength(25)
    expect(fall.calories_data?.calorie_samples?.slice(0, 3).map((s) => s.timestamp)).toStrictEqual([
      '2026-11-01T00:00:00.000000-04:00',
      '2026-11-01T01:00:00.000000-04:00',
      '2026-11-01T01:00:00.000000-05:00',
    ])
    // Energy at rest follows the real length of the day.
    expect(fall.calories_data?.BMR_calories ?? 0).toBeGreaterThan(
      spring.calories_data?.BMR_calories ?? 0,
    )
  })

  it('a night across the spring-forward change lasts its real length and switches offset inside', () => {
    const seed = [SEED, 1, 2, 3, 4, 5, 6, 7, 8].find(
      (s) => generateDay(s, ALICE, '2026-03-08').sleep.length > 0,
    )
    const night = generateDay(seed ?? SEED, ALICE, '2026-03-08').sleep[0]
    if (!night) throw new Error('no worn night in 9 seeds')
    expect(night.metadata.start_time).toMatch(/-05:00$/)
    expect(night.metadata.end_time).toMatch(/^2026-03-08T.*-04:00$/)
    const start = timestampToMs(night.metadata.start_time)
    const end = timestampToMs(night.metadata.end_time)
    expect(night.sleep_durations_data?.other?.duration_in_bed_seconds).toBe((end - start) / 1000)
    const offsets = new Set(
      night.heart_rate_data?.detailed?.hr_samples?.map((s) => s.timestamp?.slice(-6)),
    )
    expect(offsets).toStrictEqual(new Set(['-05:00', '-04:00']))
  })

  it('Europe/Berlin, Asia/Tokyo and Pacific/Kiritimati days start at their own midnights', () => {
    expect(generateDay(SEED, LENA, '2026-03-29').daily.metadata).toMatchObject({
      start_time: '2026-03-29T00:00:00.000000+01:00',
      end_time: '2026-03-30T00:00:00.000000+02:00',
    })
    expect(generateDay(SEED, LENA, '2026-10-25').daily.metadata).toMatchObject({
      start_time: '2026-10-25T00:00:00.000000+02:00',
      end_time: '2026-10-26T00:00:00.000000+01:00',
    })
    expect(generateDay(SEED, KENJI, '2026-03-08').daily.metadata).toMatchObject({
      start_time: '2026-03-08T00:00:00.000000+09:00',
      end_time: '2026-03-09T00:00:00.000000+09:00',
    })
    const tia = generateDay(SEED, TIA, '2026-03-08').daily
    expect(tia.metadata).toMatchObject({
      start_time: '2026-03-08T00:00:00.000000+14:00',
      end_time: '2026-03-09T00:00:00.000000+14:00',
    })
    // UTC+14: the local day 8 March begins at 10:00 UTC on 7 March.
    expect(new Date(timestampToMs(tia.metadata.start_time)).toISOString()).toBe(
      '2026-03-07T10:00:00.000Z',
    )
  })

  it('assigns every record to its local day: nights end that morning, naps and workouts happen that day', () => {
    const corpus = bigCorpus()
    for (const { user, day, record } of corpus.sleep) {
      const start = timestampToMs(record.metadata.start_time)
      const end = timestampToMs(record.metadata.end_time)
      expect(localDay(end, user.timezone)).toBe(day)
      if (record.metadata.is_nap) {
        expect(localDay(start, user.timezone)).toBe(day)
        expect(record.metadata.summary_id.endsWith(`${day}_nap`)).toBe(true)
      } else {
        expect([addDays(day, -1), day]).toContain(localDay(start, user.timezone))
        expect(record.metadata.summary_id.endsWith(day)).toBe(true)
      }
    }
    for (const { user, day, record } of corpus.activity) {
      expect(localDay(timestampToMs(record.metadata.start_time), user.timezone)).toBe(day)
      expect(localDay(timestampToMs(record.metadata.end_time), user.timezone)).toBe(day)
    }
    for (const { user, day, record } of corpus.daily) {
      expect(record.metadata.start_time.slice(0, 10)).toBe(day)
      expect(timestampToMs(record.metadata.start_time)).toBe(localMidnight(day, user.timezone))
      expect(timestampToMs(record.metadata.end_time)).toBe(
        localMidnight(addDays(day, 1), user.timezone),
      )
    }
  })

  it("no two of a user's sessions overlap, and summary ids are unique per user", () => {
    const corpus = bigCorpus()
    const byUser = new Map<string, { id: string; start: number; end: number }[]>()
    for (const { user, record } of [...corpus.sleep, ...corpus.activity]) {
      const list = byUser.get(user.id) ?? []
      list.push({
        id: record.metadata.summary_id,
        start: timestampToMs(record.metadata.start_time),
        end: timestampToMs(record.metadata.end_time),
      })
      byUser.set(user.id, list)
    }
    for (const sessions of byUser.values()) {
      expect(new Set(sessions.map((s) => s.id)).size).toBe(sessions.length)
      sessions.sort((a, b) => a.start - b.start)
      for (let i = 1; i < sessions.length; i++) {
        expect(sessions[i]?.start ?? 0).toBeGreaterThanOrEqual(sessions[i - 1]?.end ?? 0)
      }
    }
  })
})

describe('generateDayAsOf', () => {
  const day = '2026-03-10'

  /** A seed under which alice's night ending on `day` was worn and the day has a workout. */
  const seed = [SEED, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].find((s) => {
    const d = generateDay(s, ALICE, day)
    return d.sleep.some((x) => !x.metadata.is_nap) && d.activity.length > 0
  })

  it('shows no sleep before the night ends, and the night once uploaded', () => {
    if (seed === undefined) throw new Error('no suitable seed')
    const full = generateDay(seed, ALICE, day)
    const night = full.sleep.find((s) => !s.metadata.is_nap) as SleepRecord
    const end = timestampToMs(night.metadata.end_time)
    const uploaded = timestampToMs(night.device_data?.last_upload_date ?? '')
    expect(uploaded).toBeGreaterThan(end)
    for (const now of [timestampToMs(night.metadata.start_time), end - MINUTE, end, uploaded - 1]) {
      expect(generateDayAsOf(seed, ALICE, day, now).sleep).toStrictEqual([])
    }
    expect(generateDayAsOf(seed, ALICE, day, uploaded).sleep[0]).toStrictEqual(night)
  })

  it('grows the daily through the day as a cumulative superset and ends equal to generateDay', () => {
    if (seed === undefined) throw new Error('no suitable seed')
    const full = generateDay(seed, ALICE, day)
    const midnight = localMidnight(day, ALICE.timezone)
    expect(generateDayAsOf(seed, ALICE, day, midnight).daily).toBeNull()
    expect(generateDayAsOf(seed, ALICE, day, midnight - HOUR)).toStrictEqual({
      sleep: [],
      activity: [],
      daily: null,
    })

    const instants = Array.from(
      { length: 24 * 4 },
      (_, i) => midnight + i * 15 * MINUTE + 7 * MINUTE,
    )
    let previous: DailyRecord | null = null
    for (const now of instants) {
      const { daily, activity, sleep } = generateDayAsOf(seed, ALICE, day, now)
      if (!daily) throw new Error('no daily after midnight')
      expect(daily.metadata).toStrictEqual(full.daily.metadata)
      expect(DailySchema.safeParse(daily).success).toBe(true)
      if (schemas) expect(schemas.validate('Daily', daily).errors).toStrictEqual([])
      // Only what has happened: the samples end by now, the upload time is now at the latest.
      expect(timestampToMs(daily.device_data?.last_upload_date ?? '')).toBeLessThanOrEqual(now)
      for (const ts of timestamps(daily.distance_data?.detailed)) {
        expect(timestampToMs(ts)).toBeLessThanOrEqual(now)
      }
      for (const record of [...activity, ...sleep]) {
        expect(timestampToMs(record.metadata.end_time)).toBeLessThanOrEqual(now)
      }
      const steps = daily.distance_data?.steps ?? 0
      expect(steps).toBeGreaterThanOrEqual(
        total(activity.map((a) => a.distance_data?.summary?.steps)),
      )
      if (previous) {
        expect(steps).toBeGreaterThanOrEqual(previous.distance_data?.steps ?? 0)
        expect(daily.distance_data?.distance_meters ?? 0).toBeGreaterThanOrEqual(
          previous.distance_data?.distance_meters ?? 0,
        )
        expect(daily.calories_data?.total_burned_calories ?? 0).toBeGreaterThanOrEqual(
          previous.calories_data?.total_burned_calories ?? 0,
        )
        expect(daily.active_durations_data?.activity_seconds ?? 0).toBeGreaterThanOrEqual(
          previous.active_durations_data?.activity_seconds ?? 0,
        )
        // Earlier samples are a prefix of later ones: a later version only adds.
        const prefix = <T>(
          a: readonly T[] | null | undefined,
          b: readonly T[] | null | undefined,
        ) => expect((b ?? []).slice(0, (a ?? []).length)).toStrictEqual(a ?? [])
        prefix(
          previous.distance_data?.detailed?.step_samples,
          daily.distance_data?.detailed?.step_samples,
        )
        prefix(
          previous.heart_rate_data?.detailed?.hr_samples,
          daily.heart_rate_data?.detailed?.hr_samples,
        )
        prefix(previous.calories_data?.calorie_samples, daily.calories_data?.calorie_samples)
        prefix(
          previous.active_durations_data?.activity_levels_samples,
          daily.active_durations_data?.activity_levels_samples,
        )
      }
      previous = daily
    }
    expect(previous?.distance_data?.steps ?? 0).toBeLessThanOrEqual(
      full.daily.distance_data?.steps ?? 0,
    )

    const atTen = generateDayAsOf(seed, ALICE, day, midnight + 10 * HOUR).daily
    expect(atTen?.distance_data?.detailed?.step_samples).toHaveLength(10)
    expect(atTen?.distance_data?.steps ?? 0).toBeLessThan(full.daily.distance_data?.steps ?? 0)

    const end = localMidnight(addDays(day, 1), ALICE.timezone)
    expect(generateDayAsOf(seed, ALICE, day, end)).toStrictEqual(full)
    expect(generateDayAsOf(seed, ALICE, day, end + 3 * 86_400_000)).toStrictEqual(full)
  })
})

describe('generateUntil', () => {
  it('gives complete past days and today so far; a later call only updates and adds', () => {
    const midnight = localMidnight('2026-03-10', KENJI.timezone)
    const noon = midnight + 13 * HOUR
    const early = generateUntil(SEED, KENJI, '2026-03-01', noon)
    const past = generateRange(SEED, KENJI, '2026-03-01', '2026-03-09')
    const today = generateDayAsOf(SEED, KENJI, '2026-03-10', noon)
    expect(early).toStrictEqual({
      sleep: [...past.sleep, ...today.sleep],
      activity: [...past.activity, ...today.activity],
      daily: [...past.daily, today.daily],
    })
    expect(generateUntil(SEED, KENJI, '2026-03-11', noon)).toStrictEqual({
      sleep: [],
      activity: [],
      daily: [],
    })

    const later = generateUntil(SEED, KENJI, '2026-03-01', noon + 20 * HOUR)
    const keys = (range: GeneratedRange) => [
      ...range.sleep.map((r) => r.metadata.summary_id),
      ...range.activity.map((r) => r.metadata.summary_id),
      ...range.daily.map((r) => r.metadata.start_time.slice(0, 10)),
    ]
    expect(keys(later)).toEqual(expect.arrayContaining(keys(early)))
    expect(later.daily.at(-1)?.metadata.start_time.slice(0, 10)).toBe('2026-03-11')
    for (const record of [...later.sleep, ...later.activity]) {
      expect(timestampToMs(record.metadata.end_time)).toBeLessThanOrEqual(noon + 20 * HOUR)
    }
  })
})

describe('rhythms over 90 days (deterministic for the seed)', () => {
  /** Minutes from the local midnight of the wake-up day (negative: the evening before). */
  function clockMinutes(user: GeneratorUser, day: string, ts: string): number {
    return (timestampToMs(ts) - localMidnight(day, user.timezone)) / MINUTE
  }

  it('sleeps in at weekends: later bedtimes on Friday/Saturday nights, later wake-ups on Saturday/Sunday', () => {
    const { sleep } = ninetyDays()
    const weekend = (day: string) => [0, 6].includes(new Date(`${day}T12:00:00Z`).getUTCDay())
    const stats = {
      bed: { weekday: [] as number[], weekend: [] as number[] },
      wake: { weekday: [] as number[], weekend: [] as number[] },
    }
    for (const { user, day, record } of sleep) {
      if (record.metadata.is_nap) continue
      const which = weekend(day) ? 'weekend' : 'weekday'
      stats.bed[which].push(clockMinutes(user, day, record.metadata.start_time))
      stats.wake[which].push(clockMinutes(user, day, record.metadata.end_time))
    }
    const avg = (xs: number[]) => total(xs) / xs.length
    expect(avg(stats.bed.weekend) - avg(stats.bed.weekday)).toBeGreaterThan(45)
    expect(avg(stats.wake.weekend) - avg(stats.wake.weekday)).toBeGreaterThan(60)
  })

  it('has missing nights, naps, rest days and busy days, and every kind of workout', () => {
    const { sleep, activity, daily } = ninetyDays()
    for (const user of DEMO) {
      const nights = sleep.filter((s) => s.user === user && !s.record.metadata.is_nap).length
      const missing = 90 - nights
      expect(missing).toBeGreaterThanOrEqual(1)
      expect(missing).toBeLessThanOrEqual(18)
    }
    expect(sleep.filter((s) => s.record.metadata.is_nap).length).toBeGreaterThanOrEqual(5)
    const perDay = daily.map(
      (d) => activity.filter((a) => a.user === d.user && a.day === d.day).length,
    )
    expect(perDay.filter((n) => n === 0).length).toBeGreaterThan(30)
    expect(perDay.filter((n) => n >= 2).length).toBeGreaterThan(10)
    expect(Math.max(...perDay)).toBeLessThanOrEqual(3)
    const types = new Set(activity.map((a) => a.record.metadata.type))
    for (const type of [
      ACTIVITY_TYPE.RUNNING,
      ACTIVITY_TYPE.WALKING,
      ACTIVITY_TYPE.BIKING,
      ACTIVITY_TYPE.STRENGTH_TRAINING,
      ACTIVITY_TYPE.SWIMMING_IN_POOL,
    ]) {
      expect(types).toContain(type)
    }
  })
})
