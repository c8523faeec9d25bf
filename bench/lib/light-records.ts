import { IANAZone } from 'luxon'
import { localMidnight } from '../../src/data/date-range.ts'
import {
  ACTIVITY_TYPE,
  type ActivityRecord,
  type ActivityType,
  type DailyRecord,
  type DeviceData,
  HEART_RATE_CONTEXT,
  SLEEP_LEVEL,
  SLEEP_UPLOAD_TYPE,
  type SleepLevel,
  type SleepRecord,
  TIMESTAMP_LOCALIZATION,
  UPLOAD_TYPE,
} from '../../src/data/models/index.ts'

/*
 * Deterministic, valid, lighter-than-the-fixtures Terra records for the data-plane benchmarks:
 * the blocks a real device sends (metadata, stage durations and hypnogram, heart-rate summary and
 * samples, distance, calories, device), with sample intervals chosen by the caller so that a
 * million of them can be generated and stored within a benchmark's time budget. Every timestamp
 * carries the zone's offset at that instant (DST-correct); daily records run from local midnight
 * to the next one.
 *
 * Keys are written in the order of the zod models' shapes (src/data/models), which is the order
 * the ingest path's parsed output has, so `JSON.stringify` of a generated record is byte-equal to
 * the body ingest would store (bench/lib/records-seed.ts checks that on a sample).
 */

const MINUTE = 60_000
const HOUR = 3_600_000
const DAY = 86_400_000

/** Sample intervals in minutes; smaller means heavier records. */
export interface Density {
  /** Sleep heart rate (the hypnogram always has every stage change). */
  sleepHrMinutes: number
  /** Activity heart rate. */
  activityHrMinutes: number
  /** Daily heart rate. */
  dailyHrMinutes: number
}

/** ~1–2.5 KB records (with samples): the 1,000-user × 365-day pull set. */
export const LIGHT: Density = { sleepHrMinutes: 30, activityHrMinutes: 5, dailyHrMinutes: 60 }

/** Per-minute heart rate during a workout, as a sports watch records it: the ingest batches. */
export const WORKOUT: Density = { sleepHrMinutes: 5, activityHrMinutes: 1, dailyHrMinutes: 60 }

/** mulberry32: small, fast and seedable, so every run generates the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'))
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))
/** `YYYY-MM-DD` by days since the epoch. */
const dayStrings = new Map<number, string>()

/** `YYYY-MM-DD` of a day number (days since 1970-01-01). */
export function dayString(dayNumber: number): string {
  let s = dayStrings.get(dayNumber)
  if (s === undefined) {
    s = new Date(dayNumber * DAY).toISOString().slice(0, 10)
    dayStrings.set(dayNumber, s)
  }
  return s
}

/** Days since 1970-01-01 of `YYYY-MM-DD`. */
export function dayNumber(day: string): number {
  return Math.round(Date.parse(`${day}T00:00:00Z`) / DAY)
}

/**
 * A user's clock: Terra timestamps in the zone's offset at each instant, and local midnights.
 * Offsets are cached per UTC hour (an `Intl` lookup costs microseconds), but only for hours whose
 * first and last millisecond share an offset, so an instant in an hour with a transition is exact.
 */
export class ZoneClock {
  private readonly zone: IANAZone
  private readonly hourOffsets = new Map<number, number>()
  private readonly midnights = new Map<number, number>()
  private readonly suffixes = new Map<number, string>()

  private static readonly clocks = new Map<string, ZoneClock>()

  /** One clock per zone and thread, so its caches are shared by every user in the zone. */
  static of(name: string): ZoneClock {
    let clock = ZoneClock.clocks.get(name)
    if (!clock) {
      clock = new ZoneClock(name)
      ZoneClock.clocks.set(name, clock)
    }
    return clock
  }

  constructor(readonly name: string) {
    this.zone = IANAZone.create(name)
    if (!this.zone.isValid) throw new Error(`invalid IANA zone ${name}`)
  }

  /** The zone's UTC offset at `ms`, in minutes. */
  offsetMinutes(ms: number): number {
    const hour = Math.floor(ms / HOUR)
    const cached = this.hourOffsets.get(hour)
    if (cached !== undefined) return cached
    const first = this.zone.offset(hour * HOUR)
    if (first === this.zone.offset(hour * HOUR + HOUR - 1)) {
      this.hourOffsets.set(hour, first)
      return first
    }
    return this.zone.offset(ms)
  }

  /** Terra's format with the local offset, e.g. `2025-03-07T23:12:00.000000-05:00`. */
  format(ms: number): string {
    const offset = this.offsetMinutes(ms)
    const wall = ms + offset * MINUTE
    const day = Math.floor(wall / DAY)
    let rest = wall - day * DAY
    const h = Math.floor(rest / HOUR)
    rest -= h * HOUR
    const m = Math.floor(rest / MINUTE)
    rest -= m * MINUTE
    const s = Math.floor(rest / 1000)
    return `${dayString(day)}T${PAD2[h]}:${PAD2[m]}:${PAD2[s]}.${PAD3[rest - s * 1000]}000${this.suffix(offset)}`
  }

  /** The local calendar date (`YYYY-MM-DD`) at `ms`. */
  localDay(ms: number): string {
    return dayString(Math.floor((ms + this.offsetMinutes(ms) * MINUTE) / DAY))
  }

  /** The local wall-clock hour (0–23) at `ms`. */
  localHour(ms: number): number {
    const wall = ms + this.offsetMinutes(ms) * MINUTE
    return Math.floor((wall - Math.floor(wall / DAY) * DAY) / HOUR)
  }

  /** The first instant of local day `day` (days since the epoch), as the gateway computes it. */
  midnight(day: number): number {
    let ms = this.midnights.get(day)
    if (ms === undefined) {
      ms = localMidnight(dayString(day), this.name)
      this.midnights.set(day, ms)
    }
    return ms
  }

  private suffix(offset: number): string {
    let s = this.suffixes.get(offset)
    if (s === undefined) {
      const abs = Math.abs(offset)
      s = `${offset < 0 ? '-' : '+'}${PAD2[Math.floor(abs / 60)]}:${PAD2[abs % 60]}`
      this.suffixes.set(offset, s)
    }
    return s
  }
}

function device(clock: ZoneClock, uploadMs: number): DeviceData {
  return {
    last_upload_date: clock.format(uploadMs),
    manufacturer: 'Acme Wearables',
    name: 'Pulse 3',
  }
}

/** Instants every `stepMinutes` from `start` (inclusive) to `end` (exclusive). */
function times(start: number, end: number, stepMinutes: number): number[] {
  const out: number[] = []
  for (let ms = start; ms < end; ms += stepMinutes * MINUTE) out.push(ms)
  return out
}

function stats(values: number[]) {
  let sum = 0
  let max = Number.NEGATIVE_INFINITY
  let min = Number.POSITIVE_INFINITY
  for (const v of values) {
    sum += v
    if (v > max) max = v
    if (v < min) min = v
  }
  return { avg: round1(sum / values.length), max, min }
}

/** The compact local date, for summary ids: `20250307`. */
const compact = (day: number) => dayString(day).replaceAll('-', '')

/**
 * The night that starts in the evening of local day `day` (days since the epoch) between 22:30
 * and midnight, 4–5 sleep cycles of light, deep and REM sleep, heart rate every
 * `density.sleepHrMinutes`.
 */
export function lightSleep(
  clock: ZoneClock,
  day: number,
  seed: number,
  density: Density = LIGHT,
): SleepRecord {
  const rand = prng(seed)
  const start = clock.midnight(day + 1) - Math.round(1 + rand() * 89) * MINUTE
  const segments: [SleepLevel, number][] = [[SLEEP_LEVEL.AWAKE, 5 + Math.floor(rand() * 15)]]
  const cycles = 4 + Math.floor(rand() * 2)
  for (let c = 0; c < cycles; c++) {
    segments.push([SLEEP_LEVEL.LIGHT, 20 + Math.floor(rand() * 25)])
    segments.push([SLEEP_LEVEL.DEEP, Math.max(5, 40 - c * 8 + Math.floor(rand() * 10))])
    segments.push([SLEEP_LEVEL.REM, 10 + c * 5 + Math.floor(rand() * 10)])
  }
  segments.push([SLEEP_LEVEL.AWAKE, 2 + Math.floor(rand() * 8)])
  const minutes = {
    [SLEEP_LEVEL.AWAKE]: 0,
    [SLEEP_LEVEL.LIGHT]: 0,
    [SLEEP_LEVEL.DEEP]: 0,
    [SLEEP_LEVEL.REM]: 0,
  }
  let at = start
  const hypnogram = segments.map(([level, m]) => {
    minutes[level as keyof typeof minutes] += m
    const sample = { timestamp: clock.format(at), level }
    at += m * MINUTE
    return sample
  })
  const end = at
  const total = (end - start) / MINUTE
  const resting = 48 + Math.floor(rand() * 12)
  const instants = times(start, end, density.sleepHrMinutes)
  const hr = instants.map((ms, i) => ({
    timestamp: clock.format(ms),
    bpm: Math.round(resting + 8 - 8 * Math.sin((i / instants.length) * Math.PI) + rand() * 4),
  }))
  const bpm = stats(hr.map((s) => s.bpm))
  const asleep =
    (minutes[SLEEP_LEVEL.LIGHT] + minutes[SLEEP_LEVEL.DEEP] + minutes[SLEEP_LEVEL.REM]) * 60
  return {
    metadata: {
      start_time: clock.format(start),
      end_time: clock.format(end),
      upload_type: SLEEP_UPLOAD_TYPE.AUTOMATIC,
      summary_id: `slp_${compact(day)}`,
      is_nap: false,
      timestamp_localization: TIMESTAMP_LOCALIZATION.LOCAL,
    },
    device_data: device(clock, end + 9 * MINUTE),
    heart_rate_data: {
      detailed: { hr_samples: hr },
      summary: {
        avg_hr_bpm: bpm.avg,
        avg_hrv_rmssd: round1(35 + rand() * 25),
        max_hr_bpm: bpm.max,
        min_hr_bpm: bpm.min,
        resting_hr_bpm: resting,
      },
    },
    scores: { sleep: 60 + Math.floor(rand() * 35) },
    sleep_durations_data: {
      asleep: {
        duration_asleep_state_seconds: asleep,
        duration_deep_sleep_state_seconds: minutes[SLEEP_LEVEL.DEEP] * 60,
        duration_light_sleep_state_seconds: minutes[SLEEP_LEVEL.LIGHT] * 60,
        duration_REM_sleep_state_seconds: minutes[SLEEP_LEVEL.REM] * 60,
        num_REM_events: cycles,
      },
      awake: {
        duration_awake_state_seconds: minutes[SLEEP_LEVEL.AWAKE] * 60,
        num_wakeup_events: 1,
        sleep_latency_seconds: (segments[0]?.[1] ?? 0) * 60,
      },
      hypnogram_samples: hypnogram,
      other: { duration_in_bed_seconds: total * 60 },
      sleep_efficiency: round1((asleep / (total * 60)) * 100),
    },
  }
}

const WORKOUTS: readonly { type: ActivityType; name: string; speed: number }[] = [
  { type: ACTIVITY_TYPE.RUNNING, name: 'Morning Run', speed: 2.9 },
  { type: ACTIVITY_TYPE.WALKING, name: 'Walk', speed: 1.4 },
  { type: ACTIVITY_TYPE.BIKING, name: 'Ride', speed: 6.2 },
  { type: ACTIVITY_TYPE.IN_VEHICLE, name: 'Commute', speed: 9.5 },
]

/**
 * A 30–60 minute workout starting between 07:00 and 19:00 on local day `day`, heart rate every
 * `density.activityHrMinutes`. The summary id defaults to one per day.
 */
export function lightActivity(
  clock: ZoneClock,
  day: number,
  seed: number,
  density: Density = LIGHT,
  summaryId = `act_${compact(day)}`,
): ActivityRecord {
  const rand = prng(seed)
  const workout = WORKOUTS[Math.floor(rand() * WORKOUTS.length)] ?? { type: 4, name: '', speed: 1 }
  const start = clock.midnight(day) + (7 * 60 + Math.floor(rand() * 720)) * MINUTE
  const seconds = (30 + Math.floor(rand() * 31)) * 60
  const end = start + seconds * 1000
  const instants = times(start, end, density.activityHrMinutes)
  const hr = instants.map((ms, i) => ({
    timestamp: clock.format(ms),
    bpm: Math.round(100 + 60 * Math.min(1, (i / instants.length) * 3) + rand() * 6),
    context: HEART_RATE_CONTEXT.ACTIVE,
  }))
  const bpm = stats(hr.map((s) => s.bpm))
  const meters = round1(seconds * workout.speed * (0.9 + rand() * 0.2))
  const calories = round1(seconds * (0.12 + workout.speed * 0.03))
  const onFoot = workout.type === ACTIVITY_TYPE.RUNNING || workout.type === ACTIVITY_TYPE.WALKING
  return {
    metadata: {
      summary_id: summaryId,
      start_time: clock.format(start),
      end_time: clock.format(end),
      type: workout.type,
      upload_type: UPLOAD_TYPE.AUTOMATIC,
      name: workout.name,
      timestamp_localization: TIMESTAMP_LOCALIZATION.LOCAL,
    },
    active_durations_data: {
      activity_seconds: seconds,
      moderate_intensity_seconds: Math.round(seconds * 0.3),
      vigorous_intensity_seconds: Math.round(seconds * 0.6),
    },
    calories_data: {
      BMR_calories: round1(calories * 0.15),
      net_activity_calories: round1(calories * 0.85),
      total_burned_calories: calories,
    },
    device_data: device(clock, end + 4 * MINUTE),
    distance_data: {
      summary: { distance_meters: meters, steps: onFoot ? Math.round(meters * 1.3) : 0 },
    },
    heart_rate_data: {
      detailed: { hr_samples: hr },
      summary: { avg_hr_bpm: bpm.avg, max_hr_bpm: bpm.max, min_hr_bpm: bpm.min },
    },
    movement_data: { avg_speed_meters_per_second: round1(meters / seconds) },
  }
}

/** Local day `day`, midnight to midnight (23 or 25 hours on DST days), heart rate every hour. */
export function lightDaily(
  clock: ZoneClock,
  day: number,
  seed: number,
  density: Density = LIGHT,
): DailyRecord {
  const rand = prng(seed)
  const start = clock.midnight(day)
  const end = clock.midnight(day + 1)
  const hr = times(start, end, density.dailyHrMinutes).map((ms) => ({
    timestamp: clock.format(ms),
    bpm: Math.round((clock.localHour(ms) < 7 ? 55 : 72) + rand() * 12),
  }))
  const bpm = stats(hr.map((s) => s.bpm))
  const steps = 3000 + Math.floor(rand() * 12_000)
  return {
    metadata: {
      start_time: clock.format(start),
      end_time: clock.format(end),
      upload_type: UPLOAD_TYPE.AUTOMATIC,
      timestamp_localization: TIMESTAMP_LOCALIZATION.LOCAL,
    },
    active_durations_data: {
      activity_seconds: Math.round(steps * 0.5),
      low_intensity_seconds: Math.round(steps * 0.3),
      vigorous_intensity_seconds: Math.round(steps * 0.1),
    },
    calories_data: {
      BMR_calories: 1650,
      net_activity_calories: round1(50 + steps * 0.05),
      total_burned_calories: round1(1700 + steps * 0.05),
    },
    distance_data: {
      distance_meters: round1(steps * 0.78),
      floors_climbed: Math.floor(rand() * 15),
      steps,
    },
    heart_rate_data: {
      detailed: { hr_samples: hr },
      summary: {
        avg_hr_bpm: bpm.avg,
        max_hr_bpm: bpm.max,
        min_hr_bpm: bpm.min,
        resting_hr_bpm: bpm.min,
      },
    },
    scores: { activity: Math.floor(rand() * 100), sleep: Math.floor(rand() * 100) },
  }
}
