import { z } from 'zod'
import { ActivityLevel, DeviceDataType, HeartRateContext, OxygenSaturationType } from './enums.ts'
import { epochMicros, Timestamp } from './timestamp.ts'

/*
 * Sub-objects shared by Sleep, Activity and Daily, mirroring Terra's JSON Schemas field for field.
 *
 * Conventions, all taken from Terra's schemas: every block and nearly every leaf is
 * `anyOf [X, null]` and not required, hence `.nullish()` (send null or leave the key out when a
 * value is unknown, never 0); `minimum`/`maximum` only where Terra states them. One deliberate
 * difference: objects are strict, while Terra's schemas allow any additional property, so a
 * misspelled key (`avg_hr` for `avg_hr_bpm`) is an error here instead of silently dropped data.
 */

/** A number Terra requires to be at least 0 (durations, counts of minutes, heart rates). */
export const NonNegative = z.number().min(0)

/** A percentage in 0–100, for the fields where Terra's schema states that range. */
export const Percentage = z.number().min(0).max(100)

/** A count Terra types as `integer` with `minimum: 0`. */
export const Count = z.number().int().min(0)

/**
 * Terra's `RecordFloat`: a free-form map of contributor name to score, used by the
 * `data_enrichment` blocks (`{ "sleep_duration": 0.8, ... }`).
 */
export const RecordFloat = z.record(z.string(), z.number())
export type RecordFloat = z.infer<typeof RecordFloat>

/** Another device that contributed data to the payload (`DeviceData.other_devices`). */
export const OtherDeviceData = z.strictObject({
  manufacturer: z.string().nullish(),
  hardware_version: z.string().nullish(),
  serial_number: z.string().nullish(),
  name: z.string().nullish(),
  software_version: z.string().nullish(),
  data_provided: z.array(DeviceDataType).nullish(),
  /** Terra types it as a string without a format; we treat it as a point in time like every other. */
  last_upload_date: Timestamp.nullish(),
})
export type OtherDeviceData = z.infer<typeof OtherDeviceData>

/** The device that recorded the payload. */
export const DeviceData = z.strictObject({
  activation_timestamp: Timestamp.nullish(),
  data_provided: z.array(DeviceDataType).nullish(),
  hardware_version: z.string().nullish(),
  last_upload_date: Timestamp.nullish(),
  manufacturer: z.string().nullish(),
  /** The device name, or the source app's name when the data came through an aggregator. */
  name: z.string().nullish(),
  other_devices: z.array(OtherDeviceData).nullish(),
  serial_number: z.string().nullish(),
  software_version: z.string().nullish(),
})
export type DeviceData = z.infer<typeof DeviceData>

/** One heart-rate reading. */
export const HeartRateDataSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  bpm: z.number().nullish(),
  /** Seconds since the workout started, minus pauses. */
  timer_duration_seconds: z.number().nullish(),
  context: HeartRateContext.nullish(),
})
export type HeartRateDataSample = z.infer<typeof HeartRateDataSample>

/** One heart-rate-variability reading (RMSSD, ms). */
export const HeartRateVariabilityDataSampleRMSSD = z.strictObject({
  timestamp: Timestamp.nullish(),
  hrv_rmssd: z.number().nullish(),
})
export type HeartRateVariabilityDataSampleRMSSD = z.infer<
  typeof HeartRateVariabilityDataSampleRMSSD
>

/** One heart-rate-variability reading (SDNN, ms). */
export const HeartRateVariabilityDataSampleSDNN = z.strictObject({
  timestamp: Timestamp.nullish(),
  hrv_sdnn: z.number().nullish(),
})
export type HeartRateVariabilityDataSampleSDNN = z.infer<typeof HeartRateVariabilityDataSampleSDNN>

/**
 * Time spent in one heart-rate zone. Terra types `zone` as a plain integer (a zero-based index),
 * not as its `HeartRateZone` enum, so no range is enforced here either.
 */
export const HeartRateZoneData = z.strictObject({
  zone: z.number().int().nullish(),
  /** Start of the zone, as a percentage of the user's maximum heart rate. */
  start_percentage: Percentage.nullish(),
  /** End of the zone, as a percentage of the user's maximum heart rate. */
  end_percentage: Percentage.nullish(),
  name: z.string().nullish(),
  duration_seconds: z.number().nullish(),
})
export type HeartRateZoneData = z.infer<typeof HeartRateZoneData>

/** Heart-rate sample arrays. Left out of responses unless the caller asks for samples. */
export const HeartRateDataDetailed = z.strictObject({
  hr_samples: z.array(HeartRateDataSample).nullish(),
  hrv_samples_rmssd: z.array(HeartRateVariabilityDataSampleRMSSD).nullish(),
  hrv_samples_sdnn: z.array(HeartRateVariabilityDataSampleSDNN).nullish(),
})
export type HeartRateDataDetailed = z.infer<typeof HeartRateDataDetailed>

/** Heart-rate aggregates for the payload's time span. */
export const HeartRateDataSummary = z.strictObject({
  avg_hr_bpm: NonNegative.nullish(),
  avg_hrv_rmssd: z.number().nullish(),
  avg_hrv_sdnn: z.number().nullish(),
  hr_zone_data: z.array(HeartRateZoneData).nullish(),
  max_hr_bpm: NonNegative.nullish(),
  min_hr_bpm: NonNegative.nullish(),
  resting_hr_bpm: NonNegative.nullish(),
  user_max_hr_bpm: z.number().nullish(),
})
export type HeartRateDataSummary = z.infer<typeof HeartRateDataSummary>

/** `heart_rate_data`: the same object in Sleep, Activity and Daily. */
export const HeartRateData = z.strictObject({
  detailed: HeartRateDataDetailed.nullish(),
  summary: HeartRateDataSummary.nullish(),
})
export type HeartRateData = z.infer<typeof HeartRateData>

/** Calories burned in an interval. */
export const CalorieSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  calories: z.number().nullish(),
  timer_duration_seconds: z.number().nullish(),
})
export type CalorieSample = z.infer<typeof CalorieSample>

/** `calories_data`; all values in kcal. */
export const CaloriesData = z.strictObject({
  BMR_calories: z.number().nullish(),
  calorie_samples: z.array(CalorieSample).nullish(),
  net_activity_calories: z.number().nullish(),
  net_intake_calories: z.number().nullish(),
  total_burned_calories: z.number().nullish(),
})
export type CaloriesData = z.infer<typeof CaloriesData>

/** The activity level at a point in time. */
export const ActivityLevelSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  activity_level: ActivityLevel.nullish(),
  timer_duration_seconds: z.number().nullish(),
})
export type ActivityLevelSample = z.infer<typeof ActivityLevelSample>

/** `active_durations_data`: time spent at each intensity. */
export const ActiveDurationsData = z.strictObject({
  activity_levels_samples: z.array(ActivityLevelSample).nullish(),
  activity_seconds: NonNegative.nullish(),
  inactivity_seconds: NonNegative.nullish(),
  low_intensity_seconds: NonNegative.nullish(),
  moderate_intensity_seconds: NonNegative.nullish(),
  num_continuous_inactive_periods: Count.nullish(),
  rest_seconds: NonNegative.nullish(),
  vigorous_intensity_seconds: NonNegative.nullish(),
  standing_hours_count: z.number().nullish(),
  standing_seconds: z.number().nullish(),
})
export type ActiveDurationsData = z.infer<typeof ActiveDurationsData>

/** A MET (metabolic equivalent) level at a point in time. */
export const METSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  level: z.number().nullish(),
})
export type METSample = z.infer<typeof METSample>

/** `MET_data` (Terra's capitalisation, kept on the wire). */
export const METData = z.strictObject({
  MET_samples: z.array(METSample).nullish(),
  avg_level: z.number().nullish(),
  num_high_intensity_minutes: NonNegative.nullish(),
  num_inactive_minutes: NonNegative.nullish(),
  num_low_intensity_minutes: NonNegative.nullish(),
  num_moderate_intensity_minutes: NonNegative.nullish(),
})
export type METData = z.infer<typeof METData>

/**
 * One oxygen-saturation reading. Terra states no range for `percentage`, so none is enforced.
 */
export const OxygenSaturationSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  percentage: z.number().nullish(),
  type: OxygenSaturationType.nullish(),
})
export type OxygenSaturationSample = z.infer<typeof OxygenSaturationSample>

/** One VO2max estimate. */
export const Vo2MaxSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  vo2max_ml_per_min_per_kg: z.number().nullish(),
})
export type Vo2MaxSample = z.infer<typeof Vo2MaxSample>

/** `oxygen_data` (Activity and Daily). */
export const OxygenData = z.strictObject({
  avg_saturation_percentage: z.number().nullish(),
  saturation_samples: z.array(OxygenSaturationSample).nullish(),
  vo2_samples: z.array(Vo2MaxSample).nullish(),
  vo2max_ml_per_min_per_kg: z.number().nullish(),
  day_avg_vo2max_ml_per_min_per_kg: z.number().nullish(),
})
export type OxygenData = z.infer<typeof OxygenData>

/** Elevation aggregates, in meters. */
export const ElevationData = z.strictObject({
  avg_meters: z.number().nullish(),
  gain_actual_meters: NonNegative.nullish(),
  gain_planned_meters: NonNegative.nullish(),
  loss_actual_meters: NonNegative.nullish(),
  max_meters: z.number().nullish(),
  min_meters: z.number().nullish(),
})
export type ElevationData = z.infer<typeof ElevationData>

/** Swimming counts. */
export const SwimmingData = z.strictObject({
  num_laps: Count.nullish(),
  num_strokes: Count.nullish(),
  pool_length_meters: Count.nullish(),
})
export type SwimmingData = z.infer<typeof SwimmingData>

/** Distance covered so far, cumulative since the start of the payload. */
export const DistanceSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  distance_meters: z.number().nullish(),
  timer_duration_seconds: z.number().nullish(),
})
export type DistanceSample = z.infer<typeof DistanceSample>

/** Elevation at a point in time. */
export const ElevationSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  elev_meters: z.number().nullish(),
  timer_duration_seconds: z.number().nullish(),
})
export type ElevationSample = z.infer<typeof ElevationSample>

/**
 * Floors climbed so far, cumulative since the start of the payload. Terra types the count as
 * `number`, not `integer`.
 */
export const FloorsClimbedSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  floors_climbed: z.number().nullish(),
  timer_duration_seconds: z.number().nullish(),
})
export type FloorsClimbedSample = z.infer<typeof FloorsClimbedSample>

/** Steps so far, cumulative since the start of the payload (`number` in Terra's schema). */
export const StepSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  steps: z.number().nullish(),
  timer_duration_seconds: z.number().nullish(),
})
export type StepSample = z.infer<typeof StepSample>

/** Distance-related sample arrays (Activity `distance_data.detailed`, Daily `distance_data.detailed`). */
export const DistanceDataDetailed = z.strictObject({
  distance_samples: z.array(DistanceSample).nullish(),
  elevation_samples: z.array(ElevationSample).nullish(),
  floors_climbed_samples: z.array(FloorsClimbedSample).nullish(),
  step_samples: z.array(StepSample).nullish(),
})
export type DistanceDataDetailed = z.infer<typeof DistanceDataDetailed>

/** `strain_data` (Activity and Daily). */
export const StrainData = z.strictObject({
  strain_level: z.number().nullish(),
})
export type StrainData = z.infer<typeof StrainData>

/**
 * The check shared by every record's metadata: `start_time` must not be after `end_time`. Terra's
 * schemas do not say so; a reversed interval is always a bug at the source.
 */
export function startNotAfterEnd<T extends { start_time: string; end_time: string }>(
  metadata: T,
  ctx: z.RefinementCtx<T>,
): void {
  const start = epochMicros(metadata.start_time)
  const end = epochMicros(metadata.end_time)
  if (Number.isNaN(start) || Number.isNaN(end)) return
  if (start > end) {
    ctx.addIssue({
      code: 'custom',
      path: ['end_time'],
      message: 'must not be before start_time',
    })
  }
}
