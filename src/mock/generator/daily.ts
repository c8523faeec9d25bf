import {
  type ActivityLevel,
  type DailyRecord,
  HEART_RATE_CONTEXT,
  OXYGEN_SATURATION_TYPE,
  STRESS_LEVEL,
  TIMESTAMP_LOCALIZATION,
  UPLOAD_TYPE,
} from '../../data/models/index.ts'
import type { GeneratedWorkout } from './activity.ts'
import { clamp, mean, round1 } from './num.ts'
import { LEVEL, levelOfMet, trimp, zoneData, zoneOf } from './physiology.ts'
import { rngFor } from './prng.ts'
import { deviceData, type GeneratorUser, type Profile } from './profile.ts'
import type { NightPlan, SleepSummary, SleepWindow } from './sleep.ts'
import { isWeekend, MINUTE_MS, type ZoneClock } from './time.ts'

/** What a minute of the day was, for stress and body battery. */
const Kind = { Unworn: 0, Asleep: 1, Workout: 2, Awake: 3 } as const
type Kind = (typeof Kind)[keyof typeof Kind]

/** Background movement in 15-minute blocks, between workouts. */
type Block = 'sedentary' | 'pottering' | 'walking'

/**
 * A whole local day minute by minute (23, 24 or 25 hours of them): whether the band was worn,
 * asleep or in a workout, steps, distance, MET, calories, heart rate, stress, floors and body
 * battery. The daily record at any instant is a sum over the minutes elapsed by then, which makes
 * every later version a cumulative superset of an earlier one.
 */
export interface DayTimeline {
  day: string
  startMs: number
  endMs: number
  minutes: number
  kind: Uint8Array
  level: Uint8Array
  met: Float64Array
  steps: Int32Array
  distanceM: Float64Array
  netKcal: Float64Array
  hr: Float64Array
  hrMax: Float64Array
  stress: Float64Array
  floors: Uint8Array
  bodyBattery: Float64Array
  spo2: number
}

export function buildTimeline(
  seed: number,
  user: GeneratorUser,
  profile: Profile,
  clock: ZoneClock,
  day: string,
  startMs: number,
  endMs: number,
  nights: readonly NightPlan[],
  nap: SleepWindow | null,
  workouts: readonly GeneratedWorkout[],
): DayTimeline {
  const rng = rngFor(seed, user.id, day, 'daily')
  const minutes = Math.round((endMs - startMs) / MINUTE_MS)
  const weekend = isWeekend(day)
  const t: DayTimeline = {
    day,
    startMs,
    endMs,
    minutes,
    kind: new Uint8Array(minutes).fill(Kind.Awake),
    level: new Uint8Array(minutes),
    met: new Float64Array(minutes),
    steps: new Int32Array(minutes),
    distanceM: new Float64Array(minutes),
    netKcal: new Float64Array(minutes),
    hr: new Float64Array(minutes),
    hrMax: new Float64Array(minutes),
    stress: new Float64Array(minutes).fill(Number.NaN),
    floors: new Uint8Array(minutes),
    bodyBattery: new Float64Array(minutes),
    spo2: profile.spo2,
  }
  const minuteOf = (ms: number) => Math.round((ms - startMs) / MINUTE_MS)
  const mark = (window: SleepWindow, kind: Kind) => {
    const from = Math.max(0, Math.ceil((window.startMs - startMs) / MINUTE_MS))
    const to = Math.min(minutes, Math.ceil((window.endMs - startMs) / MINUTE_MS))
    for (let m = from; m < to; m++) t.kind[m] = kind
  }
  for (const night of nights) mark(night, night.worn ? Kind.Asleep : Kind.Unworn)
  if (nap) mark(nap, Kind.Asleep)

  const bmrPerMinute = profile.bmr / 1440
  const levelOf = levelOfMet // a local alias: imported bindings are getters under tsx and vitest
  const kcalPerMet = (profile.weightKg * 3.5) / 200
  const activeness = profile.baseSteps / 8000
  let block: Block = 'sedentary'
  let blockStress = profile.stressBase
  for (let m = 0; m < minutes; m++) {
    if (m % 15 === 0) {
      const hour = clock.wallMinutes(startMs + m * MINUTE_MS) / 60
      block = backgroundBlock(rng.next(), hour, weekend, activeness)
      const working = !weekend && hour >= 9 && hour < 18
      blockStress = clamp(
        profile.stressBase +
          (working ? 14 : 0) +
          (block === 'walking' ? -8 : 0) +
          rng.normal(0, 12),
        1,
        99,
      )
    }
    const kind = t.kind[m]
    if (kind === Kind.Unworn) {
      t.level[m] = LEVEL.UNKNOWN
      t.met[m] = Number.NaN
      t.hr[m] = Number.NaN
      t.hrMax[m] = Number.NaN
      continue
    }
    if (kind === Kind.Asleep) {
      t.level[m] = LEVEL.REST
      t.met[m] = 0.95
      t.hr[m] = rng.noise(profile.restingHr + 3, 1.5)
      t.hrMax[m] = t.hr[m] as number
      continue
    }
    let steps = 0
    let met: number
    let lift: number
    if (block === 'walking') {
      steps = rng.int(90, 118)
      met = rng.float(2.7, 3.5)
      lift = 36
    } else if (block === 'pottering') {
      steps = rng.int(3, 20)
      met = 1.4 + steps / 40
      lift = 20
    } else {
      steps = rng.chance(0.15) ? rng.int(1, 15) : 0
      met = rng.float(1.05, 1.25)
      lift = 12
    }
    t.steps[m] = steps
    t.distanceM[m] = steps * profile.strideM
    t.met[m] = met
    t.level[m] = levelOf(met)
    // Energy above the resting rate (1 MET), which the BMR share already counts.
    t.netKcal[m] = (met - 1) * kcalPerMet
    t.hr[m] = rng.noise(profile.restingHr + lift, 3)
    t.hrMax[m] = (t.hr[m] as number) + rng.float(0, 4)
    t.stress[m] = Math.min(100, Math.max(1, rng.noise(blockStress, 4)))
    if (block !== 'sedentary' && rng.chance(0.012)) t.floors[m] = 1
  }

  for (const workout of workouts) {
    const first = minuteOf(workout.plan.startMs)
    workout.minutes.forEach((w, i) => {
      const m = first + i
      if (m < 0 || m >= minutes) return
      t.kind[m] = Kind.Workout
      t.level[m] = w.level
      t.met[m] = w.met
      t.steps[m] = w.steps
      t.distanceM[m] = w.distanceM
      t.netKcal[m] = Math.max(0, w.grossKcal - bmrPerMinute)
      t.hr[m] = w.hrAvg
      t.hrMax[m] = w.hrMax
      t.stress[m] = Number.NaN
      t.floors[m] = 0
    })
    const last = first + workout.minutes.length - 1
    if (last >= 0 && last < minutes) t.floors[last] = workout.floors
  }

  let battery = clamp(rng.normal(32, 8), 10, 60)
  for (let m = 0; m < minutes; m++) {
    t.bodyBattery[m] = battery
    const kind = t.kind[m]
    if (kind === Kind.Asleep) battery += 0.11
    else if (kind === Kind.Workout) battery -= 0.05 + (t.met[m] as number) * 0.01
    else if (kind === Kind.Awake) battery -= 0.02 + (t.stress[m] as number) * 0.0009
    battery = Math.min(100, Math.max(5, battery))
  }
  return t
}

/**
 * The kind of a 15-minute block of background movement at a local hour: mostly sitting, some
 * pottering about, commutes and errands on foot. `activeness` (about 0.6–1.1) scales the chance
 * of moving; at 1 a day without workouts comes to roughly 8,000 steps.
 */
function backgroundBlock(u: number, hour: number, weekend: boolean, activeness: number): Block {
  let walking: number
  let pottering: number
  if (hour < 6 || hour >= 23) [walking, pottering] = [0.005, 0.05]
  else if (!weekend && ((hour >= 7.5 && hour < 9) || (hour >= 17 && hour < 18.5)))
    [walking, pottering] = [0.12, 0.35]
  else if (!weekend && hour >= 9 && hour < 17) [walking, pottering] = [0.02, 0.2]
  else if (weekend && hour >= 9 && hour < 19) [walking, pottering] = [0.07, 0.35]
  else [walking, pottering] = [0.03, 0.3]
  walking *= activeness
  pottering *= activeness
  return u < walking ? 'walking' : u < walking + pottering ? 'pottering' : 'sedentary'
}

/** What the daily may mention besides the minutes: the sessions uploaded by the cut-off. */
export interface DailyContext {
  mainSleep: SleepSummary | null
  workouts: readonly GeneratedWorkout[]
}

function stressBand(level: number): 'rest' | 'low' | 'medium' | 'high' {
  if (level <= 25) return 'rest'
  if (level <= 50) return 'low'
  if (level <= 75) return 'medium'
  return 'high'
}

/**
 * The daily record of a timeline as known at `cutoffMs`: sums over the minutes elapsed by then
 * and samples of the hours (or quarter hours) completed by then, so a later version only ever
 * adds to an earlier one. At or after the end of the day it is the final summary. Null before the
 * first minute has passed.
 */
export function dailyRecord(
  profile: Profile,
  clock: ZoneClock,
  t: DayTimeline,
  cutoffMs: number,
  context: DailyContext,
): DailyRecord | null {
  const elapsed = clamp(Math.floor((cutoffMs - t.startMs) / MINUTE_MS), 0, t.minutes)
  if (elapsed === 0) return null
  const at = (m: number) => clock.format(t.startMs + m * MINUTE_MS)
  const bmrPerMinute = profile.bmr / 1440

  let steps = 0
  let distance = 0
  let floors = 0
  let net = 0
  const levelMinutes = [0, 0, 0, 0, 0, 0]
  const zoneSeconds = [0, 0, 0, 0, 0, 0]
  const stressMinutes = { rest: 0, low: 0, medium: 0, high: 0, activity: 0 }
  let wornMinutes = 0
  let hrSum = 0
  let hrMin = Number.POSITIVE_INFINITY
  let hrMax = Number.NEGATIVE_INFINITY
  let metSum = 0
  let stressSum = 0
  let stressCount = 0
  let stressMax = Number.NEGATIVE_INFINITY
  let impulse = 0
  let inactiveRun = 0
  let inactivePeriods = 0
  const { INACTIVE } = LEVEL
  const { maxHr } = profile
  // Local aliases: imported bindings are read through getters under tsx and vitest.
  const zoneOfBpm = zoneOf
  const impulseOf = trimp
  for (let m = 0; m < elapsed; m++) {
    steps += t.steps[m] ?? 0
    distance += t.distanceM[m] ?? 0
    floors += t.floors[m] ?? 0
    net += t.netKcal[m] ?? 0
    const level = t.level[m] ?? 0
    levelMinutes[level] = (levelMinutes[level] ?? 0) + 1
    inactiveRun = level === INACTIVE ? inactiveRun + 1 : 0
    if (inactiveRun === 30) inactivePeriods++
    const kind = t.kind[m]
    if (kind === Kind.Unworn) continue
    const bpm = t.hr[m] ?? 0
    wornMinutes++
    hrSum += bpm
    if (bpm < hrMin) hrMin = bpm
    hrMax = Math.max(hrMax, t.hrMax[m] ?? 0)
    metSum += t.met[m] ?? 0
    const z = zoneOfBpm(bpm, maxHr)
    zoneSeconds[z] = (zoneSeconds[z] ?? 0) + 60
    impulse += impulseOf(bpm, 60, profile)
    if (kind === Kind.Asleep) stressMinutes.rest++
    else if (kind === Kind.Workout) stressMinutes.activity++
    else {
      const s = t.stress[m] ?? 0
      stressSum += s
      stressCount++
      if (s > stressMax) stressMax = s
      stressMinutes[stressBand(s)]++
    }
  }
  // Hours (real ones: 23 or 25 on DST days) and quarter hours completed by the cut-off.
  const blocks = (size: number) => {
    const out: { from: number; to: number }[] = []
    for (let from = 0; from < t.minutes; from += size) {
      const to = Math.min(from + size, t.minutes)
      if (to > elapsed) break
      out.push({ from, to })
    }
    return out
  }
  const hours = blocks(60)
  const quarters = blocks(15)
  /** The mean of `values(m)` over the minutes of [from, to) that pass `include`, or null. */
  const meanOver = (
    from: number,
    to: number,
    include: (m: number) => boolean,
    value: (m: number) => number,
  ) => {
    let total = 0
    let count = 0
    for (let m = from; m < to; m++) {
      if (!include(m)) continue
      total += value(m)
      count++
    }
    return count === 0 ? null : total / count
  }
  const worn = (m: number) => t.kind[m] !== Kind.Unworn

  let cumSteps = 0
  let cumDistance = 0
  let cumFloors = 0
  const stepSamples: { timestamp: string; steps: number }[] = []
  const distanceSamples: { timestamp: string; distance_meters: number }[] = []
  const floorSamples: { timestamp: string; floors_climbed: number }[] = []
  for (const { from, to } of hours) {
    let hourFloors = 0
    for (let m = from; m < to; m++) {
      cumSteps += t.steps[m] ?? 0
      cumDistance += t.distanceM[m] ?? 0
      hourFloors += t.floors[m] ?? 0
    }
    stepSamples.push({ timestamp: at(to), steps: cumSteps })
    distanceSamples.push({ timestamp: at(to), distance_meters: round1(cumDistance) })
    if (hourFloors > 0) {
      cumFloors += hourFloors
      floorSamples.push({ timestamp: at(to), floors_climbed: cumFloors })
    }
  }

  const levelSamples: { timestamp: string; activity_level: ActivityLevel }[] = []
  for (const { from, to } of quarters) {
    const counts = [0, 0, 0, 0, 0, 0]
    for (let m = from; m < to; m++) {
      const level = t.level[m] ?? 0
      counts[level] = (counts[level] ?? 0) + 1
    }
    let mode = 0
    for (let level = 1; level < counts.length; level++) {
      if ((counts[level] ?? 0) >= (counts[mode] ?? 0)) mode = level
    }
    if (levelSamples[levelSamples.length - 1]?.activity_level !== mode) {
      levelSamples.push({ timestamp: at(from), activity_level: mode as ActivityLevel })
    }
  }

  let standingHours = 0
  for (let hour = 0; hour * 60 < elapsed; hour++) {
    for (let m = hour * 60; m < Math.min(elapsed, hour * 60 + 60); m++) {
      if ((t.level[m] ?? 0) >= LEVEL.LOW_INTENSITY) {
        standingHours++
        break
      }
    }
  }

  const visibleSwims = context.workouts.flatMap((w) => (w.swim ? [w.swim] : []))
  const poolSwims = visibleSwims.filter((s) => s.poolLengthM > 0)
  const sleep = context.mainSleep
  const low = levelMinutes[LEVEL.LOW_INTENSITY] ?? 0
  const moderate = levelMinutes[LEVEL.MEDIUM_INTENSITY] ?? 0
  const vigorous = levelMinutes[LEVEL.HIGH_INTENSITY] ?? 0
  const rest = levelMinutes[LEVEL.REST] ?? 0
  const inactive = levelMinutes[LEVEL.INACTIVE] ?? 0
  const bmr = bmrPerMinute * elapsed

  const record: DailyRecord = {
    metadata: {
      start_time: clock.format(t.startMs),
      end_time: clock.format(t.endMs),
      upload_type: UPLOAD_TYPE.AUTOMATIC,
      timestamp_localization: TIMESTAMP_LOCALIZATION.LOCAL,
    },
    distance_data: {
      steps,
      distance_meters: round1(distance),
      floors_climbed: floors,
      ...(visibleSwims.length > 0
        ? {
            swimming: {
              num_strokes: visibleSwims.reduce((s, w) => s + w.strokes, 0),
              ...(poolSwims.length > 0
                ? {
                    num_laps: poolSwims.reduce((s, w) => s + w.lengths, 0),
                    pool_length_meters: poolSwims[0]?.poolLengthM ?? null,
                  }
                : {}),
            },
          }
        : {}),
      detailed: {
        step_samples: stepSamples,
        distance_samples: distanceSamples,
        floors_climbed_samples: floorSamples,
      },
    },
    calories_data: {
      total_burned_calories: round1(bmr + net),
      net_activity_calories: round1(net),
      BMR_calories: round1(bmr),
      calorie_samples: hours.map(({ from, to }) => {
        let kcal = bmrPerMinute * (to - from)
        for (let m = from; m < to; m++) kcal += t.netKcal[m] ?? 0
        return { timestamp: at(from), calories: round1(kcal) }
      }),
    },
    active_durations_data: {
      activity_seconds: (low + moderate + vigorous) * 60,
      inactivity_seconds: inactive * 60,
      rest_seconds: rest * 60,
      low_intensity_seconds: low * 60,
      moderate_intensity_seconds: moderate * 60,
      vigorous_intensity_seconds: vigorous * 60,
      num_continuous_inactive_periods: inactivePeriods,
      standing_hours_count: standingHours,
      activity_levels_samples: levelSamples,
    },
    MET_data: {
      ...(wornMinutes > 0 ? { avg_level: round1(metSum / wornMinutes) } : {}),
      num_high_intensity_minutes: vigorous,
      num_moderate_intensity_minutes: moderate,
      num_low_intensity_minutes: low,
      num_inactive_minutes: inactive + rest,
      MET_samples: hours.flatMap(({ from, to }) => {
        const level = meanOver(from, to, worn, (m) => t.met[m] ?? 0)
        return level === null ? [] : [{ timestamp: at(from), level: round1(level) }]
      }),
    },
    scores: {
      activity: Math.round(clamp(steps / 250 + moderate * 0.3 + vigorous * 0.6, 0, 100)),
      ...(sleep?.readiness != null ? { recovery: sleep.readiness } : {}),
      ...(sleep?.score != null ? { sleep: sleep.score } : {}),
    },
    strain_data: { strain_level: round1(21 * (1 - Math.exp(-impulse / 250))) },
    device_data: deviceData(profile, t.day, clock, t.startMs + elapsed * MINUTE_MS, [
      'STEPS',
      'ACTIVE_MINUTES',
      'BMR',
      'CALORIES',
      'DISTANCE',
      'HEART_RATE',
      'OXYGEN_SATURATION',
    ]),
  }

  if (wornMinutes > 0) {
    record.heart_rate_data = {
      summary: {
        avg_hr_bpm: round1(hrSum / wornMinutes),
        max_hr_bpm: Math.round(hrMax),
        min_hr_bpm: Math.round(hrMin),
        ...(sleep ? { resting_hr_bpm: sleep.restingHr, avg_hrv_rmssd: sleep.avgHrvRmssd } : {}),
        user_max_hr_bpm: profile.maxHr,
        hr_zone_data: zoneData(zoneSeconds),
      },
      detailed: {
        hr_samples: quarters
          .filter(({ from }) => worn(from))
          .map(({ from }) => ({
            timestamp: at(from),
            bpm: Math.round(t.hr[from] ?? 0),
            context:
              t.kind[from] === Kind.Workout
                ? HEART_RATE_CONTEXT.ACTIVE
                : HEART_RATE_CONTEXT.NOT_ACTIVE,
          })),
      },
    }
    const spo2 = hours
      .filter(({ from }) => from % 120 === 0 && worn(from))
      .map(({ from }) => ({
        timestamp: at(from),
        percentage: round1(clamp(t.spo2 + 0.6 * Math.sin(from * 0.37), 90, 100)),
        type: OXYGEN_SATURATION_TYPE.BLOOD,
      }))
    record.oxygen_data = {
      ...(spo2.length > 0
        ? { avg_saturation_percentage: round1(mean(spo2.map((s) => s.percentage))) }
        : {}),
      saturation_samples: spo2,
      vo2max_ml_per_min_per_kg: profile.vo2max,
    }
  }

  const stressMean = stressSum / stressCount
  record.stress_data = {
    ...(stressCount > 0
      ? {
          avg_stress_level: Math.round(stressMean),
          max_stress_level: Math.round(stressMax),
          stress_rating: stressRating(stressMean),
        }
      : {}),
    rest_stress_duration_seconds: stressMinutes.rest * 60,
    low_stress_duration_seconds: stressMinutes.low * 60,
    medium_stress_duration_seconds: stressMinutes.medium * 60,
    high_stress_duration_seconds: stressMinutes.high * 60,
    activity_stress_duration_seconds: stressMinutes.activity * 60,
    stress_duration_seconds: (stressMinutes.low + stressMinutes.medium + stressMinutes.high) * 60,
    samples: hours.flatMap(({ from, to }) => {
      const awake = (m: number) => t.kind[m] === Kind.Awake
      const level = meanOver(from, to, awake, (m) => t.stress[m] ?? 0)
      return level === null ? [] : [{ timestamp: at(from), level: Math.round(level) }]
    }),
    body_battery_samples: hours
      .filter(({ from }) => worn(from))
      .map(({ from }) => ({ timestamp: at(from), level: Math.round(t.bodyBattery[from] ?? 0) })),
  }
  return record
}

function stressRating(avg: number) {
  const band = stressBand(avg)
  return band === 'rest'
    ? STRESS_LEVEL.REST
    : band === 'low'
      ? STRESS_LEVEL.LOW
      : band === 'medium'
        ? STRESS_LEVEL.MEDIUM
        : STRESS_LEVEL.HIGH
}
