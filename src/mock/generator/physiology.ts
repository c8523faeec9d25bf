import { ACTIVITY_LEVEL, type ActivityLevel } from '../../data/models/index.ts'
import type { Profile } from './profile.ts'

/*
 * The per-minute and per-tick arithmetic shared by workouts and dailies. These run hundreds of
 * thousands of times while seeding, so they use module-local constants: under tsx and vitest an
 * imported binding is read through a getter on every access.
 */

/** {@link ACTIVITY_LEVEL}, copied once so the hot loops read plain properties. */
export const LEVEL = { ...ACTIVITY_LEVEL }
const { REST, INACTIVE, LOW_INTENSITY, MEDIUM_INTENSITY, HIGH_INTENSITY } = LEVEL

/** Bounds for heart-rate zones, as percentages of the user's maximum heart rate. */
const ZONES = [
  { zone: 0, name: 'Rest', from: 0, to: 50 },
  { zone: 1, name: 'Very light', from: 50, to: 60 },
  { zone: 2, name: 'Light', from: 60, to: 70 },
  { zone: 3, name: 'Moderate', from: 70, to: 80 },
  { zone: 4, name: 'Hard', from: 80, to: 90 },
  { zone: 5, name: 'Maximum', from: 90, to: 100 },
] as const

/** The heart-rate zone (0–5) of `bpm` for a user whose maximum is `maxHr`. */
export function zoneOf(bpm: number, maxHr: number): number {
  const pct = (bpm / maxHr) * 100
  return pct >= 90 ? 5 : pct >= 80 ? 4 : pct >= 70 ? 3 : pct >= 60 ? 2 : pct >= 50 ? 1 : 0
}

/** Terra's `hr_zone_data` from the seconds spent in each zone. */
export function zoneData(seconds: readonly number[]) {
  return ZONES.map((z, i) => ({
    zone: z.zone,
    name: z.name,
    start_percentage: z.from,
    end_percentage: z.to,
    duration_seconds: seconds[i] ?? 0,
  }))
}

/** The activity level of a minute from its MET: ≥ 6 vigorous, ≥ 3 moderate, ≥ 1.5 light. */
export function levelOfMet(met: number, asleep = false): ActivityLevel {
  if (asleep) return REST
  if (met >= 6) return HIGH_INTENSITY
  if (met >= 3) return MEDIUM_INTENSITY
  if (met >= 1.5) return LOW_INTENSITY
  return INACTIVE
}

/** Training impulse of `seconds` at `bpm` (Banister's TRIMP), the basis of the strain scores. */
export function trimp(bpm: number, seconds: number, profile: Profile): number {
  const ratio = (bpm - profile.restingHr) / (profile.maxHr - profile.restingHr)
  const reserve = ratio < 0 ? 0 : ratio > 1 ? 1 : ratio
  return (seconds / 60) * reserve * 0.64 * Math.exp(1.92 * reserve)
}
