import {
  HEART_RATE_CONTEXT,
  OXYGEN_SATURATION_TYPE,
  SLEEP_LEVEL,
  SLEEP_UPLOAD_TYPE,
  type SleepLevel,
  type SleepRecord,
  TIMESTAMP_LOCALIZATION,
} from '../../data/models/index.ts'
import { clamp, max, mean, min, round1, round2, sum } from './num.ts'
import { type Rng, rngFor } from './prng.ts'
import { deviceData, type GeneratorUser, type Profile } from './profile.ts'
import { isWeekend, MINUTE_MS, type ZoneClock } from './time.ts'

/** The hypnogram's resolution: stages change on 30-second epochs, as sleep staging does. */
const EPOCH_MS = 30_000
/** Heart rate and HRV every 5 minutes; respiration and SpO2 every 10. */
const HR_STEP_MS = 5 * MINUTE_MS
const RESPIRATION_STEP_MS = 10 * MINUTE_MS

/** When a session starts and ends, and when the band uploads it. */
export interface SleepWindow {
  startMs: number
  endMs: number
  /** When the session reaches the backend: it is not visible before. */
  uploadMs: number
}

/**
 * The night that ends on the morning of `day`: bedtime (usually the evening before), wake-up,
 * and whether the band was worn. Cheap, so a day can ask for the next night's bedtime too.
 */
export interface NightPlan extends SleepWindow {
  worn: boolean
}

/** What the daily summary takes from a sleep session. */
export interface SleepSummary {
  window: SleepWindow
  score: number | null
  readiness: number | null
  avgHrvRmssd: number
  restingHr: number
  spo2: number
}

export interface GeneratedSleep {
  record: SleepRecord
  summary: SleepSummary
}

/**
 * Bed and wake times for the night ending on `day`. Friday and Saturday nights go to bed later;
 * Saturday and Sunday mornings wake later. About one night in fourteen the band is not worn.
 */
export function nightPlan(
  seed: number,
  user: GeneratorUser,
  profile: Profile,
  clock: ZoneClock,
  day: string,
): NightPlan {
  const rng = rngFor(seed, user.id, day, 'night')
  const weekendMorning = isWeekend(day)
  let bed = profile.bedtime + rng.normal(0, 25) + (weekendMorning ? rng.normal(75, 25) : 0)
  let wake = profile.wakeTime + (weekendMorning ? rng.normal(95, 30) : rng.normal(0, 14))
  wake = Math.round(clamp(wake, 300, 690))
  bed = Math.round(clamp(bed, -210, 120))
  if (wake - bed < 240) bed = wake - 240
  const worn = rng.chance(0.93)
  const endMs = clock.wallTime(day, wake)
  return {
    startMs: clock.wallTime(day, bed),
    endMs,
    uploadMs: endMs + rng.int(3, 20) * MINUTE_MS,
    worn,
  }
}

/** An afternoon nap on `day`, or null: more likely at weekends. */
export function napPlan(
  seed: number,
  user: GeneratorUser,
  clock: ZoneClock,
  day: string,
): SleepWindow | null {
  const rng = rngFor(seed, user.id, day, 'nap')
  if (!rng.chance(isWeekend(day) ? 0.16 : 0.05)) return null
  const start = rng.int(795, 945)
  const startMs = clock.wallTime(day, start)
  const endMs = startMs + rng.int(20, 85) * MINUTE_MS
  return { startMs, endMs, uploadMs: endMs + rng.int(2, 10) * MINUTE_MS }
}

type Segment = [level: SleepLevel, epochs: number]

/**
 * A night as hypnogram segments: falling asleep, ~90-minute cycles of light, deep, light and REM
 * sleep (deep shrinking and REM growing through the night), the odd awakening between cycles,
 * and waking up. The segments fill the window exactly, so every total derived from them adds up.
 */
function nightSegments(rng: Rng, epochs: number): Segment[] {
  const latency = Math.round(clamp(rng.normal(15, 7), 1, 50) * 2)
  const final = Math.round(clamp(rng.normal(5, 3), 0.5, 25) * 2)
  let budget = epochs - latency - final
  const segments: Segment[] = [[SLEEP_LEVEL.AWAKE, latency]]
  const push = (level: SleepLevel, wanted: number) => {
    const take = Math.min(Math.max(0, Math.round(wanted)), budget)
    if (take <= 0) return
    segments.push([level, take])
    budget -= take
  }
  for (let cycle = 0; budget > 0; cycle++) {
    const cycleEpochs = clamp(rng.normal(92, 9), 70, 120) * 2
    const deep = clamp(0.38 - 0.11 * cycle + rng.normal(0, 0.04), 0, 0.5)
    const rem = clamp(0.07 + 0.08 * cycle + rng.normal(0, 0.03), 0.03, 0.45)
    const light = 1 - deep - rem
    push(SLEEP_LEVEL.LIGHT, cycleEpochs * light * 0.55)
    if (cycleEpochs * deep >= 4) push(SLEEP_LEVEL.DEEP, cycleEpochs * deep)
    push(SLEEP_LEVEL.LIGHT, cycleEpochs * light * 0.45)
    push(SLEEP_LEVEL.REM, cycleEpochs * rem)
    // Brief awakenings between cycles: under 90 s (short) or a few minutes (long).
    if (rng.chance(0.5)) push(SLEEP_LEVEL.AWAKE, rng.chance(0.4) ? rng.int(1, 2) : rng.int(3, 24))
  }
  segments.push([SLEEP_LEVEL.AWAKE, final])
  return merge(segments)
}

/** A nap: a few minutes to drop off, light sleep, maybe some deep, and getting up. */
function napSegments(rng: Rng, epochs: number): Segment[] {
  const latency = rng.int(4, 16)
  const final = rng.int(2, 6)
  let budget = epochs - latency - final
  const segments: Segment[] = [[SLEEP_LEVEL.AWAKE, latency]]
  const firstLight = Math.min(budget, rng.int(30, 50))
  segments.push([SLEEP_LEVEL.LIGHT, firstLight])
  budget -= firstLight
  if (budget > 0 && rng.chance(0.6)) {
    const deep = Math.min(budget, rng.int(10, 40))
    segments.push([SLEEP_LEVEL.DEEP, deep])
    budget -= deep
  }
  if (budget > 0) segments.push([SLEEP_LEVEL.LIGHT, budget])
  segments.push([SLEEP_LEVEL.AWAKE, final])
  return merge(segments)
}

function merge(segments: Segment[]): Segment[] {
  const out: Segment[] = []
  for (const [level, epochs] of segments) {
    if (epochs <= 0) continue
    const last = out[out.length - 1]
    if (last !== undefined && last[0] === level) last[1] += epochs
    else out.push([level, epochs])
  }
  return out
}

/** The stage at each instant, for the samples. */
function stageAt(segments: readonly Segment[], startMs: number, ms: number): SleepLevel {
  let at = startMs
  for (const [level, epochs] of segments) {
    at += epochs * EPOCH_MS
    if (ms < at) return level
  }
  return SLEEP_LEVEL.AWAKE
}

const HR_BY_STAGE: Partial<Record<SleepLevel, number>> = {
  [SLEEP_LEVEL.AWAKE]: 11,
  [SLEEP_LEVEL.LIGHT]: 4,
  [SLEEP_LEVEL.DEEP]: 0.5,
  [SLEEP_LEVEL.REM]: 7,
}
const HRV_BY_STAGE: Partial<Record<SleepLevel, number>> = {
  [SLEEP_LEVEL.AWAKE]: 0.7,
  [SLEEP_LEVEL.LIGHT]: 1,
  [SLEEP_LEVEL.DEEP]: 1.25,
  [SLEEP_LEVEL.REM]: 0.9,
}
const BREATHS_BY_STAGE: Partial<Record<SleepLevel, number>> = {
  [SLEEP_LEVEL.AWAKE]: 1.5,
  [SLEEP_LEVEL.LIGHT]: 0,
  [SLEEP_LEVEL.DEEP]: -0.8,
  [SLEEP_LEVEL.REM]: 1,
}

/** Instants from `startMs` every `stepMs` while before `endMs`. */
function instants(startMs: number, endMs: number, stepMs: number): number[] {
  const out: number[] = []
  for (let ms = startMs; ms < endMs; ms += stepMs) out.push(ms)
  return out
}

function recoveryLevel(readiness: number): number {
  if (readiness >= 85) return 6
  if (readiness >= 70) return 5
  if (readiness >= 60) return 4
  if (readiness >= 45) return 3
  if (readiness >= 30) return 2
  return 1
}

/**
 * One sleep session as a Terra `Sleep` record: the main night of `day` (ending that morning) or
 * a nap. Stage durations come from the hypnogram, so light + deep + REM = asleep, asleep + awake =
 * in bed, and the efficiency is asleep / in bed.
 */
export function buildSleep(
  seed: number,
  user: GeneratorUser,
  profile: Profile,
  clock: ZoneClock,
  day: string,
  window: SleepWindow,
  nap: boolean,
): GeneratedSleep {
  const rng = rngFor(seed, user.id, day, nap ? 'nap-sleep' : 'sleep')
  const { startMs, endMs } = window
  const epochs = Math.round((endMs - startMs) / EPOCH_MS)
  const segments = nap ? napSegments(rng, epochs) : nightSegments(rng, epochs)

  const secondsOf = (level: SleepLevel) =>
    sum(segments.filter(([l]) => l === level).map(([, e]) => (e * EPOCH_MS) / 1000))
  const light = secondsOf(SLEEP_LEVEL.LIGHT)
  const deep = secondsOf(SLEEP_LEVEL.DEEP)
  const remSleep = secondsOf(SLEEP_LEVEL.REM)
  const awake = secondsOf(SLEEP_LEVEL.AWAKE)
  const asleep = light + deep + remSleep
  const inBed = (endMs - startMs) / 1000
  const middle = segments.slice(1, -1).filter(([l]) => l === SLEEP_LEVEL.AWAKE)
  const interruption = (long: boolean) =>
    sum(middle.map(([, e]) => (e * EPOCH_MS) / 1000).filter((s) => s >= 90 === long))
  const firstEpochs = segments[0]?.[1] ?? 0
  const lastEpochs = segments[segments.length - 1]?.[1] ?? 0

  let at = startMs
  const hypnogram = segments.map(([level, e]) => {
    const sample = { timestamp: clock.format(at), level }
    at += e * EPOCH_MS
    return sample
  })

  const weekendNight = isWeekend(day) && !nap
  const nightRest = profile.restingHr + rng.normal(0, 1.5) + (weekendNight ? 1.5 : 0)
  const hrvBase = profile.hrvRmssd * clamp(rng.normal(1, 0.08), 0.7, 1.3)
  const span = endMs - startMs
  const hrTimes = instants(startMs, endMs, HR_STEP_MS)
  const hr = hrTimes.map((ms) => {
    const p = (ms - startMs) / span
    const stage = stageAt(segments, startMs, ms)
    return Math.round(
      nightRest + (HR_BY_STAGE[stage] ?? 4) + 4 * (1 - Math.sin(Math.PI * p)) + rng.normal(0, 1.2),
    )
  })
  const hrv = hrTimes.map((ms) => {
    const p = (ms - startMs) / span
    const stage = stageAt(segments, startMs, ms)
    const value = hrvBase * (HRV_BY_STAGE[stage] ?? 1) * (0.9 + 0.2 * Math.sin(Math.PI * p))
    return round1(Math.max(5, value + rng.normal(0, 4)))
  })
  const respTimes = instants(startMs, endMs, RESPIRATION_STEP_MS)
  const breathsBase = profile.breathsPerMin + rng.normal(0, 0.4)
  const breaths = respTimes.map((ms) =>
    round1(
      breathsBase + (BREATHS_BY_STAGE[stageAt(segments, startMs, ms)] ?? 0) + rng.normal(0, 0.4),
    ),
  )
  const spo2Base = profile.spo2 + rng.normal(0, 0.3)
  const spo2 = respTimes.map(() => {
    const dip = rng.chance(0.04) ? rng.float(2, 4) : 0
    return round1(clamp(spo2Base + rng.normal(0, 0.6) - dip, 88, 100))
  })

  const avgHrv = round1(mean(hrv))
  const restingHr = min(hr)
  const start = clock.format(startMs)
  const end = clock.format(endMs)

  let readiness: number | null = null
  let score: number | null = null
  const extra: Partial<SleepRecord> = {}
  if (!nap) {
    readiness = Math.round(
      clamp(
        70 +
          40 * (avgHrv / profile.hrvRmssd - 1) -
          2.5 * (restingHr - profile.restingHr) +
          6 * (asleep / 3600 - 7) +
          rng.normal(0, 4),
        5,
        100,
      ),
    )
    score = Math.round(
      clamp(
        50 * Math.min(1, asleep / (7.5 * 3600)) +
          20 * clamp((asleep / inBed - 0.7) / 0.3, 0, 1) +
          15 * Math.min(1, deep / asleep / 0.18) +
          15 * Math.min(1, remSleep / asleep / 0.22),
        0,
        100,
      ),
    )
    const fever = rng.chance(0.03) ? rng.float(0.4, 0.9) : 0
    extra.readiness_data = { readiness, recovery_level: recoveryLevel(readiness) }
    extra.temperature_data = { delta: round2(rng.normal(0, 0.15) + fever) }
    extra.scores = { sleep: score }
  }

  const respiration: NonNullable<SleepRecord['respiration_data']> = {
    breaths_data: {
      avg_breaths_per_min: round1(mean(breaths)),
      min_breaths_per_min: min(breaths),
      max_breaths_per_min: max(breaths),
      on_demand_reading: false,
      start_time: start,
      end_time: end,
      samples: respTimes.map((ms, i) => ({
        timestamp: clock.format(ms),
        breaths_per_min: breaths[i] ?? null,
      })),
    },
  }
  if (!nap) {
    respiration.oxygen_saturation_data = {
      avg_saturation_percentage: round1(mean(spo2)),
      start_time: start,
      end_time: end,
      samples: respTimes.map((ms, i) => ({
        timestamp: clock.format(ms),
        percentage: spo2[i] ?? null,
        type: OXYGEN_SATURATION_TYPE.BLOOD,
      })),
    }
    const snores = rng.chance(profile.snoreChance) ? rng.int(1, 7) : 0
    const from = startMs + firstEpochs * EPOCH_MS
    const to = endMs - lastEpochs * EPOCH_MS - 10 * MINUTE_MS
    const snoring = Array.from({ length: snores }, () => ({
      ms: from + Math.floor(rng.float(0, Math.max(0, to - from)) / 1000) * 1000,
      duration: rng.int(30, 600),
    })).sort((a, b) => a.ms - b.ms)
    respiration.snoring_data = {
      num_snoring_events: snores,
      total_snoring_duration_seconds: sum(snoring.map((s) => s.duration)),
      start_time: start,
      end_time: end,
      samples: snoring.map((s) => ({
        timestamp: clock.format(s.ms),
        duration_seconds: s.duration,
      })),
    }
  }

  const record: SleepRecord = {
    metadata: {
      summary_id: `slp_${profile.short}_${day}${nap ? '_nap' : ''}`,
      start_time: start,
      end_time: end,
      upload_type: SLEEP_UPLOAD_TYPE.AUTOMATIC,
      is_nap: nap,
      timestamp_localization: TIMESTAMP_LOCALIZATION.LOCAL,
    },
    sleep_durations_data: {
      asleep: {
        duration_asleep_state_seconds: asleep,
        duration_light_sleep_state_seconds: light,
        duration_deep_sleep_state_seconds: deep,
        duration_REM_sleep_state_seconds: remSleep,
        num_REM_events: segments.filter(([l]) => l === SLEEP_LEVEL.REM).length,
      },
      awake: {
        duration_awake_state_seconds: awake,
        duration_short_interruption_seconds: interruption(false),
        duration_long_interruption_seconds: interruption(true),
        num_wakeup_events: middle.length,
        num_out_of_bed_events: 0,
        sleep_latency_seconds: (firstEpochs * EPOCH_MS) / 1000,
        wake_up_latency_seconds: (lastEpochs * EPOCH_MS) / 1000,
      },
      other: { duration_in_bed_seconds: inBed, duration_unmeasurable_sleep_seconds: 0 },
      sleep_efficiency: round1((asleep / inBed) * 100),
      hypnogram_samples: hypnogram,
    },
    heart_rate_data: {
      summary: {
        avg_hr_bpm: round1(mean(hr)),
        max_hr_bpm: max(hr),
        min_hr_bpm: restingHr,
        resting_hr_bpm: restingHr,
        user_max_hr_bpm: profile.maxHr,
        avg_hrv_rmssd: avgHrv,
      },
      detailed: {
        hr_samples: hrTimes.map((ms, i) => ({
          timestamp: clock.format(ms),
          bpm: hr[i] ?? null,
          context: HEART_RATE_CONTEXT.NOT_ACTIVE,
        })),
        hrv_samples_rmssd: hrTimes.map((ms, i) => ({
          timestamp: clock.format(ms),
          hrv_rmssd: hrv[i] ?? null,
        })),
      },
    },
    respiration_data: respiration,
    ...extra,
    device_data: deviceData(profile, day, clock, window.uploadMs, [
      'HEART_RATE',
      'OXYGEN_SATURATION',
      'SLEEP_TYPE',
    ]),
  }
  return {
    record,
    summary: {
      window,
      score,
      readiness,
      avgHrvRmssd: avgHrv,
      restingHr,
      spo2: round1(mean(spo2)),
    },
  }
}
