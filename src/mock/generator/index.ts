import { addDays, localDay, localMidnight } from '../../data/date-range.ts'
import type { ActivityRecord, DailyRecord, SleepRecord } from '../../data/models/index.ts'
import { buildWorkout, type GeneratedWorkout, planWorkouts } from './activity.ts'
import { buildTimeline, type DayTimeline, dailyRecord } from './daily.ts'
import { type GeneratorUser, type Profile, profileOf } from './profile.ts'
import { buildSleep, type GeneratedSleep, type NightPlan, napPlan, nightPlan } from './sleep.ts'
import { clockOf } from './time.ts'

/*
 * The mock provider's deterministic synthetic data: Terra `Sleep`, `Activity` and `Daily` records
 * for a user, one local day at a time.
 *
 * Every number comes from seeded streams keyed by (seed, user id, day, purpose), never from
 * `Math.random` or the clock, so the same seed gives byte-identical JSON, and a day is the same
 * whether it is generated alone or inside any range. A day needs only itself and the bedtime of
 * the following night (so its evening ends when that night begins), which is a stream of its own.
 *
 * The main sleep of a day is the night that ends on its morning (it usually starts the evening
 * before); naps and workouts start and end on the day.
 */

export type { GeneratorUser } from './profile.ts'

/** Everything for one user and one local day. */
export interface GeneratedDay {
  /** The night ending that morning (absent when the band was not worn), then any nap. */
  sleep: SleepRecord[]
  /** 0–3 workouts, in order of start time. */
  activity: ActivityRecord[]
  /** The day from local midnight to the next local midnight. */
  daily: DailyRecord
}

/** A day as known at some instant: the daily may be partial, or absent before the day began. */
export interface GeneratedDayAsOf {
  sleep: SleepRecord[]
  activity: ActivityRecord[]
  daily: DailyRecord | null
}

/** Every record of a range of days, in day order. */
export interface GeneratedRange {
  sleep: SleepRecord[]
  activity: ActivityRecord[]
  daily: DailyRecord[]
}

interface DayModel {
  profile: Profile
  night: NightPlan
  mainSleep: GeneratedSleep | null
  napSleep: GeneratedSleep | null
  workouts: GeneratedWorkout[]
  timeline: DayTimeline
}

function dayModel(seed: number, user: GeneratorUser, day: string): DayModel {
  const clock = clockOf(user.timezone)
  const profile = profileOf(seed, user)
  const next = addDays(day, 1)
  const startMs = localMidnight(day, clock.name)
  const endMs = localMidnight(next, clock.name)
  const night = nightPlan(seed, user, profile, clock, day)
  const nextNight = nightPlan(seed, user, profile, clock, next)
  const nap = napPlan(seed, user, clock, day)
  const workouts = planWorkouts(
    seed,
    user,
    profile,
    clock,
    day,
    night.endMs,
    nextNight.startMs,
    nap,
  ).map((plan) => buildWorkout(seed, user, profile, clock, day, plan))
  return {
    profile,
    night,
    mainSleep: night.worn ? buildSleep(seed, user, profile, clock, day, night, false) : null,
    napSleep: nap ? buildSleep(seed, user, profile, clock, day, nap, true) : null,
    workouts,
    timeline: buildTimeline(
      seed,
      user,
      profile,
      clock,
      day,
      startMs,
      endMs,
      [night, nextNight],
      nap,
      workouts,
    ),
  }
}

/**
 * The records of `day` (YYYY-MM-DD, local to the user) as known at `nowMs`: the sleep sessions
 * and workouts uploaded by then (each a few minutes after it ended), and the daily summary of the
 * minutes elapsed by then, or null if the day has not begun. The daily is a cumulative superset of
 * any earlier version; from the end of the day on, everything equals {@link generateDay}.
 */
export function generateDayAsOf(
  seed: number,
  user: GeneratorUser,
  day: string,
  nowMs: number,
): GeneratedDayAsOf {
  if (nowMs <= localMidnight(day, clockOf(user.timezone).name)) {
    return { sleep: [], activity: [], daily: null }
  }
  const model = dayModel(seed, user, day)
  const uploaded = (s: GeneratedSleep | null) =>
    s !== null && s.summary.window.uploadMs <= nowMs ? [s] : []
  const sleeps = [...uploaded(model.mainSleep), ...uploaded(model.napSleep)]
  const workouts = model.workouts.filter((w) => w.plan.uploadMs <= nowMs)
  const main = model.mainSleep !== null && sleeps.includes(model.mainSleep) ? model.mainSleep : null
  return {
    sleep: sleeps.map((s) => s.record),
    activity: workouts.map((w) => w.record),
    daily: dailyRecord(model.profile, clockOf(user.timezone), model.timeline, nowMs, {
      mainSleep: main?.summary ?? null,
      workouts,
    }),
  }
}

/**
 * Everything for one user and one local day: the main sleep ending that morning (none when the
 * band was not worn that night) plus any nap, 0–3 workouts, and the complete daily summary.
 */
export function generateDay(seed: number, user: GeneratorUser, day: string): GeneratedDay {
  const { sleep, activity, daily } = generateDayAsOf(seed, user, day, Number.POSITIVE_INFINITY)
  if (daily === null) throw new Error(`generateDay: no daily for ${day}`)
  return { sleep, activity, daily }
}

/** The local days from `fromDay` to `toDay`, both included. */
export function daysBetween(fromDay: string, toDay: string): string[] {
  if (fromDay > toDay) throw new Error(`daysBetween: ${fromDay} is after ${toDay}`)
  const days: string[] = []
  for (let day = fromDay; day <= toDay; day = addDays(day, 1)) days.push(day)
  return days
}

/**
 * Everything known at `nowMs` for the days from `fromDay` up to the user's local today: complete
 * past days, and today as {@link generateDayAsOf} sees it. What seeding ("90 days up to today")
 * and `mock/sync` ingest; re-ingesting a later call's output only updates and adds.
 */
export function generateUntil(
  seed: number,
  user: GeneratorUser,
  fromDay: string,
  nowMs: number,
): GeneratedRange {
  const out: GeneratedRange = { sleep: [], activity: [], daily: [] }
  const today = localDay(nowMs, clockOf(user.timezone).name)
  if (fromDay > today) return out
  for (const day of daysBetween(fromDay, today)) {
    const { sleep, activity, daily } = generateDayAsOf(seed, user, day, nowMs)
    out.sleep.push(...sleep)
    out.activity.push(...activity)
    if (daily) out.daily.push(daily)
  }
  return out
}

/** All records of the days from `fromDay` to `toDay` (both included, local to the user). */
export function generateRange(
  seed: number,
  user: GeneratorUser,
  fromDay: string,
  toDay: string,
): GeneratedRange {
  const out: GeneratedRange = { sleep: [], activity: [], daily: [] }
  for (const day of daysBetween(fromDay, toDay)) {
    const { sleep, activity, daily } = generateDay(seed, user, day)
    out.sleep.push(...sleep)
    out.activity.push(...activity)
    out.daily.push(daily)
  }
  return out
}
