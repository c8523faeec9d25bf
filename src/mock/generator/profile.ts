import type { DeviceData, DeviceDataType } from '../../data/models/index.ts'
import { clamp, round1 } from './num.ts'
import { rngFor } from './prng.ts'
import type { ZoneClock } from './time.ts'

/** A user the generator makes data for. `id` and `timezone` drive everything; `email` is informational. */
export interface GeneratorUser {
  id: string
  email: string
  timezone: string
}

/** The kinds of workout the generator knows. */
export type WorkoutKind = 'run' | 'walk' | 'ride' | 'strength' | 'swim'

/** Where a user lives: workouts start and end there. */
export interface Place {
  lat: number
  lng: number
  elevationM: number
  city: string | null
  state: string | null
  country: string | null
}

/**
 * Who a user is, fixed for a seed and user id: physiology, habits and gear. Every day of the user
 * is generated from it plus that day's own random streams.
 */
export interface Profile {
  /** A short, id-safe form of the user id, used in summary ids. */
  short: string
  archetype: 'runner' | 'cyclist' | 'swimmer' | 'walker'
  workoutWeights: readonly (readonly [WorkoutKind, number])[]
  /** Probabilities of 0, 1, 2 and 3 workouts on a weekday and on a weekend day. */
  workoutsPerWeekday: readonly (readonly [number, number])[]
  workoutsPerWeekendDay: readonly (readonly [number, number])[]
  restingHr: number
  maxHr: number
  hrvRmssd: number
  weightKg: number
  /** Basal metabolic rate, kcal per 24 h (Mifflin–St Jeor). */
  bmr: number
  strideM: number
  /** Usual bedtime in minutes relative to midnight (negative: the evening before). */
  bedtime: number
  /** Usual wake-up time on weekdays, minutes after midnight. */
  wakeTime: number
  runSpeed: number
  walkSpeed: number
  rideSpeed: number
  swimSpeed: number
  ftpWatts: number
  hasPowerMeter: boolean
  poolLengthM: 25 | 50
  /** Steps per day from just living, before workouts. */
  baseSteps: number
  breathsPerMin: number
  spo2: number
  snoreChance: number
  stressBase: number
  vo2max: number
  home: Place
  serial: string
  /** When the band was first set up, as epoch ms. */
  activationMs: number
}

const PLACES: Record<string, Place> = {
  'America/New_York': {
    lat: 40.7812,
    lng: -73.9665,
    elevationM: 40,
    city: 'New York',
    state: 'NY',
    country: 'United States',
  },
  'Asia/Tokyo': {
    lat: 35.6717,
    lng: 139.6949,
    elevationM: 38,
    city: 'Tokyo',
    state: 'Tokyo',
    country: 'Japan',
  },
  'Pacific/Kiritimati': {
    lat: 1.9871,
    lng: -157.4751,
    elevationM: 3,
    city: 'London',
    state: 'Line Islands',
    country: 'Kiribati',
  },
  'Europe/Berlin': {
    lat: 52.5145,
    lng: 13.3501,
    elevationM: 35,
    city: 'Berlin',
    state: 'Berlin',
    country: 'Germany',
  },
  'Australia/Sydney': {
    lat: -33.8915,
    lng: 151.2767,
    elevationM: 20,
    city: 'Sydney',
    state: 'NSW',
    country: 'Australia',
  },
  'Europe/London': {
    lat: 51.5073,
    lng: -0.1657,
    elevationM: 25,
    city: 'London',
    state: 'England',
    country: 'United Kingdom',
  },
}

const ARCHETYPES: Record<Profile['archetype'], Profile['workoutWeights']> = {
  runner: [
    ['run', 0.46],
    ['walk', 0.22],
    ['strength', 0.16],
    ['ride', 0.1],
    ['swim', 0.06],
  ],
  cyclist: [
    ['ride', 0.42],
    ['walk', 0.22],
    ['run', 0.14],
    ['strength', 0.12],
    ['swim', 0.1],
  ],
  swimmer: [
    ['swim', 0.36],
    ['run', 0.2],
    ['ride', 0.16],
    ['walk', 0.14],
    ['strength', 0.14],
  ],
  walker: [
    ['walk', 0.58],
    ['strength', 0.2],
    ['ride', 0.1],
    ['run', 0.06],
    ['swim', 0.06],
  ],
}

const profiles = new Map<string, Profile>()

/** The profile of `user` under `seed` (memoized: it is asked for on every generated day). */
export function profileOf(seed: number, user: GeneratorUser): Profile {
  const key = `${seed}|${user.id}|${user.timezone}`
  let profile = profiles.get(key)
  if (profile === undefined) {
    profile = makeProfile(seed, user)
    if (profiles.size > 1000) profiles.clear()
    profiles.set(key, profile)
  }
  return profile
}

function makeProfile(seed: number, user: GeneratorUser): Profile {
  const rng = rngFor(seed, user.id, 'profile', 'profile')
  const archetype = rng.pick(['runner', 'cyclist', 'swimmer', 'walker'] as const)
  const age = rng.int(24, 55)
  const female = rng.chance(0.5)
  const heightCm = Math.round(female ? rng.normal(166, 6) : rng.normal(179, 7))
  const weightKg = round1(clamp(rng.normal(female ? 63 : 77, 7), 48, 105))
  const fitness = archetype === 'walker' ? rng.float(0, 0.5) : rng.float(0.4, 1)
  const bmr = Math.round(10 * weightKg + 6.25 * heightCm - 5 * age + (female ? -161 : 5))
  const base = PLACES[user.timezone] ?? fallbackPlace(rng.float(0, 1), rng.float(0, 1))
  const short =
    user.id
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 8)
      .toLowerCase() || 'user'
  return {
    short,
    archetype,
    workoutWeights: ARCHETYPES[archetype],
    workoutsPerWeekday: [
      [0, 0.42 - 0.15 * fitness],
      [1, 0.44],
      [2, 0.11 + 0.1 * fitness],
      [3, 0.03 + 0.05 * fitness],
    ],
    workoutsPerWeekendDay: [
      [0, 0.3 - 0.12 * fitness],
      [1, 0.45],
      [2, 0.2 + 0.08 * fitness],
      [3, 0.05 + 0.04 * fitness],
    ],
    restingHr: Math.round(66 - 16 * fitness + rng.normal(0, 2)),
    maxHr: Math.round(clamp(208 - 0.7 * age + rng.normal(0, 4), 165, 200)),
    hrvRmssd: Math.round(clamp(75 - 0.8 * (age - 25) + 20 * fitness + rng.normal(0, 8), 18, 110)),
    weightKg,
    bmr,
    strideM: round1((heightCm * 0.415) / 100 + 0.05),
    bedtime: Math.round(rng.normal(-70, 30)),
    wakeTime: Math.round(rng.normal(405, 20)),
    runSpeed: round1(2.5 + 1.1 * fitness + rng.float(-0.1, 0.1)),
    walkSpeed: round1(rng.float(1.25, 1.5)),
    rideSpeed: round1(5.8 + 2.6 * fitness),
    swimSpeed: round1(0.65 + 0.45 * fitness),
    ftpWatts: Math.round(weightKg * (2 + 2 * fitness)),
    hasPowerMeter: archetype === 'cyclist' || rng.chance(0.3),
    poolLengthM: rng.chance(0.75) ? 25 : 50,
    baseSteps: Math.round(rng.float(4500, 8500)),
    breathsPerMin: round1(rng.float(12.5, 16)),
    spo2: round1(rng.float(95.6, 97.8)),
    snoreChance: round1(rng.float(0.05, 0.6)),
    stressBase: Math.round(rng.float(20, 40)),
    vo2max: round1(33 + 22 * fitness + rng.normal(0, 1.5)),
    home: {
      ...base,
      lat: base.lat + rng.float(-0.01, 0.01),
      lng: base.lng + rng.float(-0.01, 0.01),
    },
    serial: `MWB2-${short.toUpperCase().padEnd(8, '0').slice(0, 8)}`,
    // A day in 2025 before the first synthetic data anyone is likely to ask for.
    activationMs: Date.UTC(2025, 0, 6, 17, 0, 0) + rng.int(0, 120) * 86_400_000,
  }
}

/** A place somewhere plausible for a zone the table does not know: no city, no country. */
function fallbackPlace(u: number, v: number): Place {
  return {
    lat: round1(-35 + 90 * u),
    lng: round1(-170 + 340 * v),
    elevationM: 50,
    city: null,
    state: null,
    country: null,
  }
}

/** Firmware of the band over time (by the local date of the data). */
const FIRMWARE: readonly (readonly [string, string])[] = [
  ['2025-10-20', '2.3.4'],
  ['2026-02-09', '2.4.1'],
  ['2026-06-15', '2.5.0'],
]

function firmwareOn(day: string): string {
  let version = '2.2.7'
  for (const [from, v] of FIRMWARE) if (day >= from) version = v
  return version
}

/** The band that recorded a payload, as `device_data`. */
export function deviceData(
  profile: Profile,
  day: string,
  clock: ZoneClock,
  lastUploadMs: number,
  dataProvided: DeviceDataType[],
): DeviceData {
  return {
    name: 'MockWear Band 2',
    manufacturer: 'MockWear',
    hardware_version: 'MWB2-rev3',
    software_version: firmwareOn(day),
    serial_number: profile.serial,
    activation_timestamp: clock.format(profile.activationMs),
    last_upload_date: clock.format(lastUploadMs),
    data_provided: dataProvided,
  }
}
