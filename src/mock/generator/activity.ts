import {
  ACTIVITY_TYPE,
  type ActivityLevel,
  type ActivityRecord,
  type ActivityType,
  type DeviceDataType,
  HEART_RATE_CONTEXT,
  type LapSample,
  TIMESTAMP_LOCALIZATION,
  UPLOAD_TYPE,
} from '../../data/models/index.ts'
import { clamp, max, mean, min, round1, round2, sum } from './num.ts'
import { LEVEL, levelOfMet, trimp, zoneData, zoneOf } from './physiology.ts'
import { type Rng, rngFor } from './prng.ts'
import { deviceData, type GeneratorUser, type Profile, type WorkoutKind } from './profile.ts'
import type { SleepWindow } from './sleep.ts'
import { isWeekend, MINUTE_MS, type ZoneClock } from './time.ts'

/** The workout simulation runs on 10-second ticks; samples are taken from them. */
const TICK_S = 10

type Slot = 'morning' | 'midday' | 'afternoon' | 'evening'
const SLOTS: readonly Slot[] = ['morning', 'midday', 'afternoon', 'evening']

const SLOTS_BY_KIND: Record<WorkoutKind, readonly Slot[]> = {
  run: ['morning', 'evening', 'afternoon'],
  walk: ['morning', 'midday', 'afternoon', 'evening'],
  ride: ['morning', 'afternoon', 'evening'],
  strength: ['midday', 'evening', 'morning'],
  swim: ['morning', 'midday', 'evening'],
}

/** When a planned workout happens; the record is built from it by {@link buildWorkout}. */
export interface WorkoutPlan {
  /** 1-based, in order of start time: part of the summary id. */
  index: number
  kind: WorkoutKind
  type: ActivityType
  startMs: number
  endMs: number
  /** When the workout reaches the backend: it is not visible before. */
  uploadMs: number
}

/** One minute of a workout, as the daily summary counts it. */
export interface WorkoutMinute {
  steps: number
  distanceM: number
  grossKcal: number
  met: number
  level: ActivityLevel
  hrAvg: number
  hrMax: number
}

export interface GeneratedWorkout {
  plan: WorkoutPlan
  record: ActivityRecord
  /** One entry per minute from `plan.startMs`. */
  minutes: WorkoutMinute[]
  floors: number
  swim: { lengths: number; strokes: number; poolLengthM: number } | null
}

/**
 * The day's workouts (0–3): how many and which kinds follow the user's archetype and the day of the
 * week; each goes into a free slot of the day (after waking up, lunchtime, afternoon, evening)
 * where it neither overlaps another workout or a nap nor runs into the next night.
 */
export function planWorkouts(
  seed: number,
  user: GeneratorUser,
  profile: Profile,
  clock: ZoneClock,
  day: string,
  wakeMs: number,
  nextBedMs: number,
  nap: SleepWindow | null,
): WorkoutPlan[] {
  const rng = rngFor(seed, user.id, day, 'workouts')
  const weekend = isWeekend(day)
  const count = rng.weighted(weekend ? profile.workoutsPerWeekendDay : profile.workoutsPerWeekday)
  const wake = clock.wallMinutes(wakeMs)

  const chosen = new Map<Slot, WorkoutKind>()
  for (let i = 0; i < count; i++) {
    let kind = rng.weighted(profile.workoutWeights)
    // Two hard sessions of the same kind on one day are rare: make the second a walk.
    if (kind !== 'walk' && [...chosen.values()].includes(kind)) kind = 'walk'
    const free = SLOTS_BY_KIND[kind].filter(
      (slot) => !chosen.has(slot) && (slot !== 'afternoon' || weekend || kind === 'walk'),
    )
    if (free.length > 0) chosen.set(rng.pick(free), kind)
  }

  const windows: Record<Slot, [number, number]> = {
    morning: [wake + 20, Math.max(wake + 20, Math.min(wake + 80, 660))],
    midday: [690, 765],
    afternoon: [900, 990],
    evening: [1035, 1170],
  }
  const bedLimit = Math.min(clock.wallMinutes(nextBedMs - 45 * MINUTE_MS), 1350)
  const ordered = SLOTS.filter((slot) => chosen.has(slot))
  const plans: WorkoutPlan[] = []
  let earliest = wake + 20
  ordered.forEach((slot, i) => {
    const kind = chosen.get(slot) as WorkoutKind
    const [from, to] = windows[slot]
    const next = ordered[i + 1]
    const limit = Math.min(next === undefined ? bedLimit : windows[next][0] - 10, bedLimit)
    const start = Math.max(rng.int(from, to), earliest)
    const duration = Math.min(durationMinutes(rng, kind, weekend), limit - start)
    if (duration < 15) return
    const startMs = clock.wallTime(day, start)
    const endMs = startMs + duration * MINUTE_MS
    // A nap and a workout do not overlap (with a quarter of an hour either side).
    if (nap && startMs < nap.endMs + 15 * MINUTE_MS && endMs > nap.startMs - 15 * MINUTE_MS) {
      return
    }
    earliest = start + duration + 20
    const type = workoutType(rng, kind)
    plans.push({
      index: plans.length + 1,
      kind,
      type,
      startMs,
      endMs,
      uploadMs: endMs + rng.int(2, 15) * MINUTE_MS,
    })
  })
  return plans
}

function durationMinutes(rng: Rng, kind: WorkoutKind, weekend: boolean): number {
  switch (kind) {
    case 'run':
      return Math.round(
        weekend && rng.chance(0.5)
          ? clamp(rng.normal(80, 20), 50, 130)
          : clamp(rng.normal(40, 10), 20, 75),
      )
    case 'walk':
      return Math.round(clamp(rng.normal(40, 15), 20, 80))
    case 'ride':
      return Math.round(
        weekend ? clamp(rng.normal(120, 30), 60, 200) : clamp(rng.normal(60, 15), 30, 100),
      )
    case 'strength':
      return Math.round(clamp(rng.normal(50, 10), 30, 75))
    case 'swim':
      return Math.round(clamp(rng.normal(45, 10), 25, 70))
  }
}

function workoutType(rng: Rng, kind: WorkoutKind): ActivityType {
  switch (kind) {
    case 'run':
      return ACTIVITY_TYPE.RUNNING
    case 'walk':
      return ACTIVITY_TYPE.WALKING
    case 'ride':
      return ACTIVITY_TYPE.BIKING
    case 'strength':
      return ACTIVITY_TYPE.STRENGTH_TRAINING
    case 'swim':
      return rng.chance(0.8) ? ACTIVITY_TYPE.SWIMMING_IN_POOL : ACTIVITY_TYPE.SWIMMING
  }
}

/** Google's encoded-polyline format, as Terra's `summary_polyline` uses. */
export function encodePolyline(points: readonly (readonly [number, number])[]): string {
  let out = ''
  let prevLat = 0
  let prevLng = 0
  for (const [lat, lng] of points) {
    const latE5 = Math.round(lat * 1e5)
    const lngE5 = Math.round(lng * 1e5)
    out += encodeSigned(latE5 - prevLat) + encodeSigned(lngE5 - prevLng)
    prevLat = latE5
    prevLng = lngE5
  }
  return out
}

function encodeSigned(value: number): string {
  let v = value < 0 ? ~(value << 1) : value << 1
  let out = ''
  while (v >= 0x20) {
    out += String.fromCharCode((0x20 | (v & 0x1f)) + 63)
    v >>= 5
  }
  return out + String.fromCharCode(v + 63)
}

const NOUNS: Record<WorkoutKind, string> = {
  run: 'Run',
  walk: 'Walk',
  ride: 'Ride',
  strength: 'Strength',
  swim: 'Swim',
}

const PROVIDED: Record<WorkoutKind, DeviceDataType[]> = {
  run: ['STEPS', 'DISTANCE', 'HEART_RATE', 'CALORIES', 'SPEED', 'CADENCE', 'ACTIVE_MINUTES'],
  walk: ['STEPS', 'DISTANCE', 'HEART_RATE', 'CALORIES', 'SPEED', 'CADENCE', 'ACTIVE_MINUTES'],
  ride: ['DISTANCE', 'HEART_RATE', 'CALORIES', 'SPEED', 'CADENCE', 'ACTIVE_MINUTES'],
  strength: ['HEART_RATE', 'CALORIES', 'ACTIVE_MINUTES'],
  swim: ['DISTANCE', 'HEART_RATE', 'CALORIES', 'SPEED', 'ACTIVE_MINUTES'],
}

/** Share of the heart-rate reserve a kind of workout reaches at intensity 0 and 1. */
const HR_RESERVE: Record<WorkoutKind, [number, number]> = {
  run: [0.5, 0.95],
  walk: [0.22, 0.47],
  ride: [0.42, 0.87],
  strength: [0.25, 0.75],
  swim: [0.4, 0.8],
}

/** Sample instants (seconds from the start) every `step` and at the very end. */
function sampleTimes(durationS: number, step: number): number[] {
  const out: number[] = []
  for (let t = 0; t < durationS; t += step) out.push(t)
  out.push(durationS)
  return out
}

/**
 * A workout as a Terra `Activity` record, simulated on 10-second ticks: an intensity profile
 * (warm-up, steady effort with drift, intervals on some days, sets for strength, cool-down) drives
 * speed, cadence, power, MET and a lagging heart rate; the samples, laps, zones and totals are all
 * read off the same ticks, so they agree with each other and with the minutes handed to the daily.
 */
export function buildWorkout(
  seed: number,
  user: GeneratorUser,
  profile: Profile,
  clock: ZoneClock,
  day: string,
  plan: WorkoutPlan,
): GeneratedWorkout {
  const rng = rngFor(seed, user.id, day, `workout-${plan.index}`)
  const { kind, startMs, endMs } = plan
  const at = (t: number) => clock.format(startMs + t * 1000)
  const durationS = (endMs - startMs) / 1000
  const n = durationS / TICK_S
  const weekend = isWeekend(day)
  const pool = plan.type === ACTIVITY_TYPE.SWIMMING_IN_POOL
  const outdoor = kind === 'run' || kind === 'walk' || kind === 'ride' || (kind === 'swim' && !pool)
  const hilly = kind === 'run' || kind === 'walk' || kind === 'ride'
  const onFoot = kind === 'run' || kind === 'walk'

  // Effort: a session baseline, intervals on some runs and rides, random drift.
  const base = clamp(rng.normal(durationS > 4800 ? 0.5 : 0.66, 0.08), 0.35, 0.85)
  const intervals = (kind === 'run' || kind === 'ride') && !weekend && rng.chance(0.25)
  const warm = Math.min(0.12, 480 / durationS)
  const cool = Math.min(0.08, 300 / durationS)
  const [hrLow, hrHigh] = HR_RESERVE[kind]
  const reserve = profile.maxHr - profile.restingHr
  const strokesPerMeter = rng.float(0.65, 0.9)
  const hills = profile.home.elevationM < 10 ? rng.float(0.5, 2) : rng.float(2, 14)
  const phase1 = rng.float(0, 6.28)
  const phase2 = rng.float(0, 6.28)

  // Per tick (n) or per tick boundary (n + 1): heart rate, distance and steps are read at instants.
  const hr = new Float64Array(n + 1)
  hr[0] = profile.restingHr + rng.normal(22, 4)
  const speed = new Float64Array(n)
  const dist = new Float64Array(n + 1)
  const stepsCum = new Float64Array(n + 1)
  const kcal = new Float64Array(n)
  const met = new Float64Array(n)
  const cadence = new Float64Array(n)
  const watts = new Float64Array(n)
  const kcalPerMetTick = (profile.weightKg * 3.5) / 200 / (60 / TICK_S)
  const { restingHr, maxHr } = profile
  let drift = 0
  for (let k = 0; k < n; k++) {
    const t = k * TICK_S
    const p = (k + 0.5) / n
    let i = base
    if (kind === 'strength') i = t % 150 < 45 ? 0.85 : 0.22
    else if (intervals && p > 0.25 && p < 0.85)
      i = ((t - 0.25 * durationS) % 300) / 300 < 0.6 ? 0.95 : 0.4
    if (p < warm) i = 0.35 + ((i - 0.35) * p) / warm
    if (p > 1 - cool) i = 0.3 + ((i - 0.3) * (1 - p)) / cool
    drift = rng.noise(0.92 * drift, 0.035)
    i = Math.min(1, Math.max(0.1, i + drift))

    let v = 0
    let cad = 0
    let w = 0
    let m: number
    switch (kind) {
      case 'run':
        v = profile.runSpeed * (0.72 + 0.42 * i)
        cad = rng.noise(152 + 32 * i, 1.5)
        m = 3.6 * v
        break
      case 'walk':
        v = profile.walkSpeed * (0.85 + 0.3 * i)
        cad = rng.noise(98 + 22 * i, 1.5)
        m = Math.min(5, Math.max(2, 2.2 + 1.5 * (v - 0.9)))
        break
      case 'ride':
        v = profile.rideSpeed * (0.7 + 0.45 * i)
        cad = rng.noise(72 + 22 * i, 2)
        w = rng.noise(profile.ftpWatts * (0.45 + 0.6 * i), 8)
        m = 2 + (2.6 * w) / profile.weightKg
        break
      case 'swim':
        v = profile.swimSpeed * (0.8 + 0.3 * i)
        m = 5 + 4.5 * i
        break
      case 'strength':
        m = 2.5 + 4 * i
        break
    }
    speed[k] = v
    cadence[k] = cad
    watts[k] = Math.max(0, w)
    met[k] = m
    kcal[k] = m * kcalPerMetTick
    dist[k + 1] = (dist[k] ?? 0) + v * TICK_S
    stepsCum[k + 1] = (stepsCum[k] ?? 0) + (onFoot ? (cad * TICK_S) / 60 : 0)
    const target = restingHr + reserve * (hrLow + (hrHigh - hrLow) * i)
    const prev = hr[k] ?? target
    const next = rng.noise(prev + (target - prev) * 0.2, 0.8)
    hr[k + 1] = Math.min(maxHr, Math.max(restingHr + 5, next))
  }

  // A pool swim is a whole number of lengths: scale the distance to it.
  let lengths = 0
  if (kind === 'swim' && pool) {
    const raw = dist[n] ?? 0
    lengths = Math.max(1, Math.round(raw / profile.poolLengthM))
    const scale = (lengths * profile.poolLengthM) / raw
    for (let k = 0; k <= n; k++) dist[k] = (dist[k] ?? 0) * scale
    for (let k = 0; k < n; k++) speed[k] = (speed[k] ?? 0) * scale
  }
  const totalDist = dist[n] ?? 0
  const totalSteps = Math.floor(stepsCum[n] ?? 0)
  const hasDistance = kind !== 'strength'
  const tickHr = (k: number) => ((hr[k] ?? 0) + (hr[k + 1] ?? 0)) / 2

  // Minutes, for the daily and for the intensity split.
  const minutes: WorkoutMinute[] = []
  for (let mIdx = 0; mIdx < n / 6; mIdx++) {
    const a = mIdx * 6
    const b = a + 6
    let metSum = 0
    let kcalSum = 0
    let hrSum = 0
    let hrTop = hr[a] ?? 0
    for (let k = a; k < b; k++) {
      metSum += met[k] ?? 0
      kcalSum += kcal[k] ?? 0
      hrSum += tickHr(k)
      hrTop = Math.max(hrTop, hr[k + 1] ?? 0)
    }
    const minuteMet = metSum / 6
    minutes.push({
      steps: Math.floor(stepsCum[b] ?? 0) - Math.floor(stepsCum[a] ?? 0),
      distanceM: (dist[b] ?? 0) - (dist[a] ?? 0),
      grossKcal: kcalSum,
      met: minuteMet,
      level: Math.max(LEVEL.LOW_INTENSITY, levelOfMet(minuteMet)) as ActivityLevel,
      hrAvg: hrSum / 6,
      hrMax: hrTop,
    })
  }
  const levelSeconds = (level: ActivityLevel) =>
    minutes.filter((m) => m.level === level).length * 60

  const zoneSeconds = [0, 0, 0, 0, 0, 0]
  // Local aliases: imported bindings are read through getters under tsx and vitest.
  const zoneOfBpm = zoneOf
  const impulseOf = trimp
  let impulse = 0
  let hrTotal = 0
  for (let k = 0; k < n; k++) {
    hrTotal += tickHr(k)
    const z = zoneOfBpm(tickHr(k), maxHr)
    zoneSeconds[z] = (zoneSeconds[z] ?? 0) + TICK_S
    impulse += impulseOf(tickHr(k), TICK_S, profile)
  }

  const hrStep = Math.max(30, Math.ceil(durationS / 120 / TICK_S) * TICK_S)
  const seriesStep = Math.max(60, Math.ceil(durationS / 45 / 30) * 30)
  const hrTimes = sampleTimes(durationS, hrStep)
  const series = sampleTimes(durationS, seriesStep)
  const tickAt = (t: number) => Math.min(n - 1, Math.floor(t / TICK_S))
  const bpm = (t: number) => Math.round(hr[t / TICK_S] ?? 0)

  // A loop from home and back: circumference up to 20 km (longer rides go round again).
  const loop = Math.min(Math.max(totalDist, 400), 20_000)
  const radius = loop / (2 * Math.PI)
  const heading = rng.float(0, 2 * Math.PI)
  const { lat: homeLat, lng: homeLng } = profile.home
  const metersPerDegLat = 111_320
  const metersPerDegLng = 111_320 * Math.cos((homeLat * Math.PI) / 180)
  const centre = [
    homeLat + (radius * Math.sin(heading)) / metersPerDegLat,
    homeLng + (radius * Math.cos(heading)) / metersPerDegLng,
  ] as const
  const position = (d: number): [number, number] => {
    const theta = (2 * Math.PI * d) / loop
    const r = radius * (1 + 0.06 * Math.sin(5 * theta))
    const angle = heading + Math.PI + theta
    return [
      Math.round((centre[0] + (r * Math.sin(angle)) / metersPerDegLat) * 1e6) / 1e6,
      Math.round((centre[1] + (r * Math.cos(angle)) / metersPerDegLng) * 1e6) / 1e6,
    ]
  }
  const elevation = (d: number) =>
    round1(
      profile.home.elevationM +
        hills *
          (Math.sin((2 * Math.PI * d) / 3000 + phase1) +
            0.4 * Math.sin((2 * Math.PI * d) / 1100 + phase2)),
    )
  const distAt = (t: number) => dist[t / TICK_S] ?? totalDist

  const elevations = series.map((t) => elevation(distAt(t)))
  let gain = 0
  let loss = 0
  for (let k = 1; k < elevations.length; k++) {
    const diff = (elevations[k] ?? 0) - (elevations[k - 1] ?? 0)
    if (diff > 0) gain += diff
    else loss -= diff
  }
  const floors = onFoot ? Math.floor(gain / 3) : 0

  const totalKcal = sum(kcal)
  const bmrKcal = (profile.bmr / 1440) * (durationS / 60)
  const minuteBlocks = (size: number) => {
    const blocks: { from: number; to: number }[] = []
    for (let a = 0; a < minutes.length; a += size)
      blocks.push({ from: a, to: Math.min(minutes.length, a + size) })
    return blocks
  }

  const wall = clock.wallMinutes(startMs)
  const when = wall < 660 ? 'Morning' : wall < 840 ? 'Lunch' : wall < 1020 ? 'Afternoon' : 'Evening'
  const noun = kind === 'swim' ? (pool ? 'Pool Swim' : 'Open Water Swim') : NOUNS[kind]

  const record: ActivityRecord = {
    metadata: {
      summary_id: `act_${profile.short}_${day}_${plan.index}`,
      name: kind === 'swim' ? noun : `${when} ${noun}`,
      start_time: clock.format(startMs),
      end_time: clock.format(endMs),
      type: plan.type,
      upload_type: UPLOAD_TYPE.AUTOMATIC,
      ...(profile.home.city === null ? {} : { city: profile.home.city }),
      ...(profile.home.state === null ? {} : { state: profile.home.state }),
      ...(profile.home.country === null ? {} : { country: profile.home.country }),
      timestamp_localization: TIMESTAMP_LOCALIZATION.LOCAL,
    },
    active_durations_data: {
      activity_seconds: durationS,
      rest_seconds: 0,
      inactivity_seconds: 0,
      low_intensity_seconds: levelSeconds(LEVEL.LOW_INTENSITY),
      moderate_intensity_seconds: levelSeconds(LEVEL.MEDIUM_INTENSITY),
      vigorous_intensity_seconds: levelSeconds(LEVEL.HIGH_INTENSITY),
      num_continuous_inactive_periods: 0,
      activity_levels_samples: minuteBlocks(5).map(({ from }) => ({
        timestamp: at(from * 60),
        activity_level: minutes[from]?.level ?? LEVEL.UNKNOWN,
        timer_duration_seconds: from * 60,
      })),
    },
    calories_data: {
      total_burned_calories: round1(totalKcal),
      net_activity_calories: round1(totalKcal - bmrKcal),
      BMR_calories: round1(bmrKcal),
      calorie_samples: minuteBlocks(5).map(({ from, to }) => ({
        timestamp: at(to * 60),
        calories: round1(sum(minutes.slice(from, to).map((m) => m.grossKcal))),
        timer_duration_seconds: to * 60,
      })),
    },
    heart_rate_data: {
      summary: {
        avg_hr_bpm: round1(hrTotal / n),
        max_hr_bpm: Math.round(max(hr)),
        min_hr_bpm: Math.round(min(hr)),
        resting_hr_bpm: profile.restingHr,
        user_max_hr_bpm: profile.maxHr,
        avg_hrv_rmssd: round1(clamp(profile.hrvRmssd * 0.25 + rng.normal(0, 2), 4, 40)),
        hr_zone_data: zoneData(zoneSeconds),
      },
      detailed: {
        hr_samples: hrTimes.map((t) => ({
          timestamp: at(t),
          bpm: bpm(t),
          timer_duration_seconds: t,
          context: HEART_RATE_CONTEXT.ACTIVE,
        })),
      },
    },
    MET_data: {
      avg_level: round1(mean(minutes.map((m) => m.met))),
      num_high_intensity_minutes: levelSeconds(LEVEL.HIGH_INTENSITY) / 60,
      num_moderate_intensity_minutes: levelSeconds(LEVEL.MEDIUM_INTENSITY) / 60,
      num_low_intensity_minutes: levelSeconds(LEVEL.LOW_INTENSITY) / 60,
      num_inactive_minutes: 0,
      MET_samples: minuteBlocks(5).map(({ from, to }) => ({
        timestamp: at(from * 60),
        level: round1(mean(minutes.slice(from, to).map((m) => m.met))),
      })),
    },
    energy_data: { energy_kilojoules: round1(totalKcal * 4.184) },
    strain_data: { strain_level: round1(21 * (1 - Math.exp(-impulse / 200))) },
    device_data: deviceData(profile, day, clock, plan.uploadMs, PROVIDED[kind]),
  }

  let swim: GeneratedWorkout['swim'] = null
  if (hasDistance) {
    const strokes = Math.round((Math.round(totalDist * 10) / 10) * strokesPerMeter)
    if (kind === 'swim') {
      swim = { lengths, strokes, poolLengthM: pool ? profile.poolLengthM : 0 }
    }
    record.distance_data = {
      summary: {
        distance_meters: round1(totalDist),
        ...(onFoot ? { steps: totalSteps, floors_climbed: floors } : {}),
        ...(hilly
          ? {
              elevation: {
                avg_meters: round1(mean(elevations)),
                max_meters: max(elevations),
                min_meters: min(elevations),
                gain_actual_meters: round1(gain),
                loss_actual_meters: round1(loss),
              },
            }
          : {}),
        ...(kind === 'swim'
          ? {
              swimming: pool
                ? {
                    num_laps: lengths,
                    num_strokes: strokes,
                    pool_length_meters: profile.poolLengthM,
                  }
                : { num_strokes: strokes },
            }
          : {}),
      },
      detailed: {
        distance_samples: series.map((t) => ({
          timestamp: at(t),
          distance_meters: round1(distAt(t)),
          timer_duration_seconds: t,
        })),
        ...(onFoot
          ? {
              step_samples: series.map((t) => ({
                timestamp: at(t),
                steps: Math.floor(stepsCum[t / TICK_S] ?? 0),
                timer_duration_seconds: t,
              })),
            }
          : {}),
        ...(hilly
          ? {
              elevation_samples: series.map((t, i) => ({
                timestamp: at(t),
                elev_meters: elevations[i] ?? null,
                timer_duration_seconds: t,
              })),
            }
          : {}),
      },
    }
    const maxSpeed = max(speed)
    record.movement_data = {
      avg_speed_meters_per_second: round2(totalDist / durationS),
      max_speed_meters_per_second: round2(maxSpeed),
      ...(onFoot
        ? {
            avg_pace_minutes_per_kilometer: round2(durationS / 60 / (totalDist / 1000)),
            max_pace_minutes_per_kilometer: round2(1000 / maxSpeed / 60),
            avg_cadence_rpm: round1((totalSteps / durationS) * 60),
            max_cadence_rpm: Math.round(max(cadence)),
          }
        : {}),
      ...(kind === 'ride'
        ? {
            avg_cadence_rpm: round1(mean(cadence)),
            max_cadence_rpm: Math.round(max(cadence)),
          }
        : {}),
      speed_samples: series.map((t) => ({
        timestamp: at(t),
        speed_meters_per_second: round2(speed[tickAt(t)] ?? 0),
        timer_duration_seconds: t,
      })),
      ...(onFoot || kind === 'ride'
        ? {
            cadence_samples: series.map((t) => ({
              timestamp: at(t),
              cadence_rpm: Math.round(cadence[tickAt(t)] ?? 0),
              timer_duration_seconds: t,
            })),
          }
        : {}),
    }
    if (outdoor) {
      const points = series.map((t) => position(distAt(t)))
      record.position_data = {
        start_pos_lat_lng_deg: position(0),
        center_pos_lat_lng_deg: position(distAt(Math.round(n / 2) * TICK_S)),
        end_pos_lat_lng_deg: position(totalDist),
        position_samples: series.map((t, i) => ({
          timestamp: at(t),
          coords_lat_lng_deg: points[i] ?? null,
          timer_duration_seconds: t,
        })),
      }
      record.polyline_map_data = { summary_polyline: encodePolyline(points) }
    }
    const lapLength = kind === 'run' ? 1000 : kind === 'swim' ? (pool ? 100 : 500) : 0
    if (lapLength > 0) record.lap_data = { laps: laps(lapLength) }
  }

  if (kind === 'ride' && profile.hasPowerMeter) {
    const avgWatts = mean(watts)
    // Normalized power: the fourth-power mean of the 30-second rolling average.
    const rolling = watts.map((_, k) => mean(watts.slice(Math.max(0, k - 2), k + 1)))
    const np = mean(rolling.map((x) => x ** 4)) ** 0.25
    const intensity = np / profile.ftpWatts
    record.power_data = {
      avg_watts: Math.round(avgWatts),
      max_watts: Math.round(max(watts)),
      power_samples: series.map((t) => ({
        timestamp: at(t),
        watts: Math.round(watts[tickAt(t)] ?? 0),
        timer_duration_seconds: t,
      })),
    }
    record.work_data = { work_kilojoules: round1((avgWatts * durationS) / 1000) }
    record.TSS_data = {
      TSS_samples: [
        {
          actual: round1(((durationS * np * intensity) / (profile.ftpWatts * 3600)) * 100),
          method: 'TSS',
          intensity_factor_actual: round2(intensity),
          normalized_power_watts: Math.round(np),
        },
      ],
    }
  }
  if (kind === 'run') {
    record.oxygen_data = {
      vo2max_ml_per_min_per_kg: round1(profile.vo2max + rng.normal(0, 0.3)),
    }
  }

  /** Laps of `length` meters (the last one shorter), their times interpolated between ticks. */
  function laps(length: number): LapSample[] {
    const count = Math.ceil(totalDist / length - 1e-9)
    const boundaries = [0]
    let k = 0
    for (let lap = 1; lap < count; lap++) {
      const target = lap * length
      while ((dist[k + 1] ?? totalDist) < target) k++
      const before = dist[k] ?? 0
      const step = (dist[k + 1] ?? before) - before
      boundaries.push(Math.round(k * TICK_S + (step > 0 ? ((target - before) / step) * TICK_S : 0)))
    }
    boundaries.push(durationS)
    // Exact in decimeters, so the laps add up to the rounded total.
    const totalDm = Math.round(totalDist * 10)
    return boundaries.slice(1).map((end, i) => {
      const start = boundaries[i] ?? 0
      const last = i === count - 1
      const dm = last ? totalDm - i * length * 10 : length * 10
      const ticks = Array.from(
        { length: Math.max(1, Math.round((end - start) / TICK_S)) },
        (_, j) => Math.min(n - 1, Math.floor(start / TICK_S) + j),
      )
      const secs = end - start
      return {
        start_time: at(start),
        end_time: at(end),
        distance_meters: dm / 10,
        calories: round1(sum(ticks.map((t) => kcal[t] ?? 0))),
        avg_hr_bpm: Math.round(mean(ticks.map(tickHr))),
        avg_speed_meters_per_second: round2(dm / 10 / Math.max(1, secs)),
        active_duration_seconds: secs,
        ...(kind === 'swim'
          ? {
              total_strokes:
                Math.round(((i * length * 10 + dm) / 10) * strokesPerMeter) -
                Math.round(i * length * strokesPerMeter),
              stroke_type: 'freestyle',
            }
          : {}),
        trigger_method: last && dm !== length * 10 ? 'SESSION_END' : 'DISTANCE',
      }
    })
  }

  return { plan, record, minutes, floors, swim }
}
