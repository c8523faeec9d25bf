import { z } from 'zod'

/*
 * Terra sends enums as integers on the wire (the SDKs type them as numbers), so each enum is a
 * table of named integer values plus a schema that accepts exactly those integers: never the names,
 * never numeric strings. The tables exist so that code can say `UPLOAD_TYPE.MANUAL` instead of
 * a bare `2`, which matters because Terra's two upload-type enums disagree on what 1 and 2 mean.
 */

type IntTable = Readonly<Record<string, number>>

/** A schema that accepts only the integers of a named-value table. */
function intEnum<const T extends IntTable>(table: T) {
  return z.literal(Object.values(table) as T[keyof T][])
}

/**
 * How a sleep session was recorded (`SleepMetadata.upload_type`).
 *
 * Mind the swap: here 1 is MANUAL and 2 is AUTOMATIC, the opposite of {@link UploadType}, which
 * Activity and Daily use. Terra's own schemas define it this way.
 */
export const SLEEP_UPLOAD_TYPE = {
  UNKNOWN: 0,
  MANUAL: 1,
  AUTOMATIC: 2,
  TENTATIVE: 3,
  INDETERMINATE: 4,
} as const
/** Accepts exactly the integers of {@link SLEEP_UPLOAD_TYPE} (1 = MANUAL, 2 = AUTOMATIC). */
export const SleepUploadType = intEnum(SLEEP_UPLOAD_TYPE)
export type SleepUploadType = z.infer<typeof SleepUploadType>

/**
 * How an activity or a day was recorded (`ActivityMetadata.upload_type`, `DailyMetadata.upload_type`).
 *
 * Mind the swap: here 1 is AUTOMATIC and 2 is MANUAL, the opposite of {@link SleepUploadType}.
 * Terra asks that a day with any user-altered data point be classed as MANUAL.
 */
export const UPLOAD_TYPE = {
  UNKNOWN: 0,
  AUTOMATIC: 1,
  MANUAL: 2,
  UPDATE: 3,
  DELETE: 4,
  PENDING: 5,
  THIRD_PARTY_UPLOAD: 6,
} as const
/** Accepts exactly the integers of {@link UPLOAD_TYPE} (1 = AUTOMATIC, 2 = MANUAL). */
export const UploadType = intEnum(UPLOAD_TYPE)
export type UploadType = z.infer<typeof UploadType>

/**
 * Whether the timestamps of a payload are UTC (0, written with a `+00:00` offset) or the user's
 * local time (1).
 */
export const TIMESTAMP_LOCALIZATION = { UTC: 0, LOCAL: 1 } as const
/** Accepts exactly the integers of {@link TIMESTAMP_LOCALIZATION}. */
export const TimestampLocalization = intEnum(TIMESTAMP_LOCALIZATION)
export type TimestampLocalization = z.infer<typeof TimestampLocalization>

/** A hypnogram level (`SleepHypnogramSample.level`). 2 is "sleeping" when the stage is unknown. */
export const SLEEP_LEVEL = {
  UNKNOWN: 0,
  AWAKE: 1,
  SLEEPING: 2,
  OUT_OF_BED: 3,
  LIGHT: 4,
  DEEP: 5,
  REM: 6,
} as const
/** Accepts exactly the integers of {@link SLEEP_LEVEL}. */
export const SleepLevel = intEnum(SLEEP_LEVEL)
export type SleepLevel = z.infer<typeof SleepLevel>

/** Whether the user was active when a heart-rate sample was taken (`HeartRateDataSample.context`). */
export const HEART_RATE_CONTEXT = { NOT_SET: 0, ACTIVE: 1, NOT_ACTIVE: 2 } as const
/** Accepts exactly the integers of {@link HEART_RATE_CONTEXT}. */
export const HeartRateContext = intEnum(HEART_RATE_CONTEXT)
export type HeartRateContext = z.infer<typeof HeartRateContext>

/** Intensity of movement in an `activity_levels_samples` entry. */
export const ACTIVITY_LEVEL = {
  UNKNOWN: 0,
  REST: 1,
  INACTIVE: 2,
  LOW_INTENSITY: 3,
  MEDIUM_INTENSITY: 4,
  HIGH_INTENSITY: 5,
} as const
/** Accepts exactly the integers of {@link ACTIVITY_LEVEL}. */
export const ActivityLevel = intEnum(ACTIVITY_LEVEL)
export type ActivityLevel = z.infer<typeof ActivityLevel>

/** What an oxygen-saturation sample measured: blood (SpO2) or muscle (SmO2). */
export const OXYGEN_SATURATION_TYPE = { BLOOD: 0, MUSCLE: 1 } as const
/** Accepts exactly the integers of {@link OXYGEN_SATURATION_TYPE}. */
export const OxygenSaturationType = intEnum(OXYGEN_SATURATION_TYPE)
export type OxygenSaturationType = z.infer<typeof OxygenSaturationType>

/** The day's stress rating (`StressData.stress_rating`): 1–4 cover the 1–25, 26–50, 51–75 and 76–100 bands. */
export const STRESS_LEVEL = { UNKNOWN: 0, REST: 1, LOW: 2, MEDIUM: 3, HIGH: 4 } as const
/** Accepts exactly the integers of {@link STRESS_LEVEL}. */
export const StressLevel = intEnum(STRESS_LEVEL)
export type StressLevel = z.infer<typeof StressLevel>

/**
 * The kind of workout (`ActivityMetadata.type`). These are Google-Fit-style codes: the list has gaps
 * (2, 6, 72, 107, 109–112, 121 do not exist) and 0, IN_VEHICLE, is a real value, so never test it
 * for truthiness.
 */
export const ACTIVITY_TYPE = {
  IN_VEHICLE: 0,
  BIKING: 1,
  STILL: 3,
  UNKNOWN: 4,
  TILTING: 5,
  WALKING: 7,
  RUNNING: 8,
  AEROBICS: 9,
  BADMINTON: 10,
  BASEBALL: 11,
  BASKETBALL: 12,
  BIATHLON: 13,
  HAND_BIKING: 14,
  MOUNTAIN_BIKING: 15,
  ROAD_BIKING: 16,
  SPINNING: 17,
  STATIONARY_BIKING: 18,
  UTILITY_BIKING: 19,
  BOXING: 20,
  CALISTHENICS: 21,
  CIRCUIT_TRAINING: 22,
  CRICKET: 23,
  DANCING: 24,
  ELLIPTICAL: 25,
  FENCING: 26,
  AMERICAN_FOOTBALL: 27,
  AUSTRALIAN_FOOTBALL: 28,
  ENGLISH_FOOTBALL: 29,
  FRISBEE: 30,
  GARDENING: 31,
  GOLF: 32,
  GYMNASTICS: 33,
  HANDBALL: 34,
  HIKING: 35,
  HOCKEY: 36,
  HORSEBACK_RIDING: 37,
  HOUSEWORK: 38,
  JUMPING_ROPE: 39,
  KAYAKING: 40,
  KETTLEBELL_TRAINING: 41,
  KICKBOXING: 42,
  KITESURFING: 43,
  MARTIAL_ARTS: 44,
  MEDITATION: 45,
  MIXED_MARTIAL_ARTS: 46,
  P90X_EXERCISES: 47,
  PARAGLIDING: 48,
  PILATES: 49,
  POLO: 50,
  RACQUETBALL: 51,
  ROCK_CLIMBING: 52,
  ROWING: 53,
  ROWING_MACHINE: 54,
  RUGBY: 55,
  JOGGING: 56,
  RUNNING_ON_SAND: 57,
  TREADMILL_RUNNING: 58,
  SAILING: 59,
  SCUBA_DIVING: 60,
  SKATEBOARDING: 61,
  SKATING: 62,
  CROSS_SKATING: 63,
  INDOOR_ROLLERBLADING: 64,
  SKIING: 65,
  BACK_COUNTRY_SKIING: 66,
  CROSS_COUNTRY_SKIING: 67,
  DOWNHILL_SKIING: 68,
  KITE_SKIING: 69,
  ROLLER_SKIING: 70,
  SLEDDING: 71,
  SNOWBOARDING: 73,
  SNOWMOBILE: 74,
  SNOWSHOEING: 75,
  SQUASH: 76,
  STAIR_CLIMBING: 77,
  STAIR_CLIMBING_MACHINE: 78,
  STAND_UP_PADDLEBOARDING: 79,
  STRENGTH_TRAINING: 80,
  SURFING: 81,
  SWIMMING: 82,
  SWIMMING_IN_POOL: 83,
  OPEN_WATER_SWIMMING: 84,
  TABLE_TENNIS: 85,
  TEAM_SPORTS: 86,
  TENNIS: 87,
  TREADMILL: 88,
  VOLLEYBALL: 89,
  BEACH_VOLLEYBALL: 90,
  INDOOR_VOLLEYBALL: 91,
  WAKEBOARDING: 92,
  WALKING_FOR_FITNESS: 93,
  NORDIC_WALKING: 94,
  TREADMILL_WALKING: 95,
  WATER_POLO: 96,
  WEIGHTLIFTING: 97,
  WHEELCHAIR: 98,
  WINDSURFING: 99,
  YOGA: 100,
  ZUMBA: 101,
  DIVING: 102,
  ERGOMETER: 103,
  ICE_SKATING: 104,
  INDOOR_SKATING: 105,
  CURLING: 106,
  OTHER: 108,
  CROSSFIT: 113,
  HIIT: 114,
  INTERVAL_TRAINING: 115,
  WALKING_WITH_STROLLER: 116,
  ELEVATOR: 117,
  ESCALATOR: 118,
  ARCHERY: 119,
  SOFTBALL: 120,
  GUIDED_BREATHING: 122,
  CARDIO_TRAINING: 123,
  LACROSSE: 124,
  STRETCHING: 125,
  TRIATHLON: 126,
  INLINE_SKATING: 127,
  SKY_DIVING: 128,
  PADDLING: 129,
  MOUNTAINEERING: 130,
  FISHING: 131,
  WATER_SKIING: 132,
  INDOOR_RUNNING: 133,
  PADEL_TENNIS: 134,
  DRIVING: 135,
  OFF_ROAD_DRIVING: 136,
  MOTORBIKING: 137,
  MOTOR_RACING: 138,
  ENDURO: 139,
  CANOEING: 140,
  ORIENTEERING: 141,
  HANG_GLIDING: 142,
  FLYING: 143,
  HOT_AIR_BALLOONING: 144,
  JET_SKIING: 145,
  POWER_BOATING: 146,
  GAELIC_FOOTBALL: 147,
  HURLING: 148,
  TRAIL_RUNNING: 149,
  GRAVEL_CYCLING: 150,
  MULTISPORT: 151,
  E_BIKING: 152,
  E_MOUNTAIN_BIKING: 153,
  PHYSICAL_THERAPY: 154,
} as const
/** Accepts exactly the integers of {@link ACTIVITY_TYPE}. */
export const ActivityType = intEnum(ACTIVITY_TYPE)
export type ActivityType = z.infer<typeof ActivityType>

/** What a device contributed to a payload. The one enum Terra sends as strings rather than integers. */
export const DeviceDataType = z.enum([
  'STEPS',
  'ACTIVE_MINUTES',
  'BMR',
  'CALORIES',
  'DISTANCE',
  'HEART_RATE',
  'OXYGEN_SATURATION',
  'SLEEP_TYPE',
  'SPEED',
  'CADENCE',
])
export type DeviceDataType = z.infer<typeof DeviceDataType>
