import { z } from 'zod'
import {
  ActiveDurationsData,
  CaloriesData,
  Count,
  DeviceData,
  DistanceDataDetailed,
  ElevationData,
  HeartRateData,
  METData,
  NonNegative,
  OxygenData,
  Percentage,
  RecordFloat,
  StrainData,
  SwimmingData,
  startNotAfterEnd,
} from './common.ts'
import { StressLevel, TimestampLocalization, UploadType } from './enums.ts'
import { isLocalMidnight, Timestamp } from './timestamp.ts'

/**
 * `metadata` of a day. Daily has no `summary_id`: Terra keys a day by the date part of
 * `start_time`, read before any time-zone conversion.
 *
 * Stricter than Terra on purpose: `start_time` must be a local midnight (Terra's description says it
 * "will always fall on midnight" but the schema does not check it), so that the date part, the
 * record's key, cannot drift; and `start_time` may not be after `end_time` (normally the next local
 * midnight, 23 or 25 hours later on DST days). `upload_type` is an {@link UploadType} (1 = AUTOMATIC,
 * 2 = MANUAL); a day with any user-altered data point should be MANUAL.
 */
export const DailyMetadata = z
  .strictObject({
    start_time: Timestamp.refine(isLocalMidnight, {
      message: 'must be a local midnight (time part 00:00:00)',
    }),
    end_time: Timestamp,
    upload_type: UploadType,
    timestamp_localization: TimestampLocalization.nullish(),
  })
  .superRefine(startNotAfterEnd)
export type DailyMetadata = z.infer<typeof DailyMetadata>

/** Daily `distance_data`: flat, unlike Activity's summary/detailed split. */
export const DailyDistanceData = z.strictObject({
  detailed: DistanceDataDetailed.nullish(),
  distance_meters: z.number().nullish(),
  elevation: ElevationData.nullish(),
  floors_climbed: Count.nullish(),
  steps: z.number().int().nullish(),
  swimming: SwimmingData.nullish(),
})
export type DailyDistanceData = z.infer<typeof DailyDistanceData>

/** Daily `scores` (0–100), computed by the provider. */
export const ScoresData = z.strictObject({
  activity: Percentage.nullish(),
  recovery: Percentage.nullish(),
  sleep: Percentage.nullish(),
})
export type ScoresData = z.infer<typeof ScoresData>

/** A stress level at a point in time. */
export const StressSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  level: z.number().nullish(),
})
export type StressSample = z.infer<typeof StressSample>

/** A body-battery (energy reserve) level at a point in time. */
export const BodyBatterySample = z.strictObject({
  timestamp: Timestamp.nullish(),
  level: z.number().nullish(),
})
export type BodyBatterySample = z.infer<typeof BodyBatterySample>

/** `stress_data`: the day's stress levels and time spent in each band. */
export const StressData = z.strictObject({
  avg_stress_level: z.number().nullish(),
  activity_stress_duration_seconds: NonNegative.nullish(),
  low_stress_duration_seconds: NonNegative.nullish(),
  max_stress_level: z.number().nullish(),
  medium_stress_duration_seconds: NonNegative.nullish(),
  samples: z.array(StressSample).nullish(),
  rest_stress_duration_seconds: NonNegative.nullish(),
  high_stress_duration_seconds: NonNegative.nullish(),
  stress_duration_seconds: NonNegative.nullish(),
  stress_rating: StressLevel.nullish(),
  body_battery_samples: z.array(BodyBatterySample).nullish(),
})
export type StressData = z.infer<typeof StressData>

/** A user tag on the day (e.g. `hot_shower`). Unusually, all three fields are required. */
export const TagEntry = z.strictObject({
  timestamp: Timestamp,
  tag_name: z.string(),
  notes: z.string(),
})
export type TagEntry = z.infer<typeof TagEntry>

/** `tag_data`. */
export const TagData = z.strictObject({
  tags: z.array(TagEntry).nullish(),
})
export type TagData = z.infer<typeof TagData>

/**
 * Terra's own computed daily scores. Terra fills these in; they are accepted (as Terra defines
 * them) because a provider may pass them through.
 */
export const DailyDataEnrichment = z.strictObject({
  total_stress_score: z.number().nullish(),
  stress_contributors: RecordFloat.nullish(),
  respiratory_score: z.number().nullish(),
  respiratory_contributors: RecordFloat.nullish(),
  immune_index: z.number().int().nullish(),
  immune_contributors: RecordFloat.nullish(),
  resilience_score: z.number().int().nullish(),
  resilience_contributors: RecordFloat.nullish(),
  strain_index: z.number().nullish(),
  strain_traffic_light: z.string().nullish(),
  strain_contributors: RecordFloat.nullish(),
  total_stress_score_v2: z.number().nullish(),
  total_stress_score_v2_contributors: RecordFloat.nullish(),
})
export type DailyDataEnrichment = z.infer<typeof DailyDataEnrichment>

/**
 * A day in Terra's `Daily` model: a running cumulative summary, re-sent as the day accrues, each
 * version a superset of the last. Only `metadata` is required.
 */
export const DailyRecord = z.strictObject({
  metadata: DailyMetadata,
  active_durations_data: ActiveDurationsData.nullish(),
  calories_data: CaloriesData.nullish(),
  data_enrichment: DailyDataEnrichment.nullish(),
  device_data: DeviceData.nullish(),
  distance_data: DailyDistanceData.nullish(),
  heart_rate_data: HeartRateData.nullish(),
  MET_data: METData.nullish(),
  oxygen_data: OxygenData.nullish(),
  scores: ScoresData.nullish(),
  strain_data: StrainData.nullish(),
  stress_data: StressData.nullish(),
  tag_data: TagData.nullish(),
})
export type DailyRecord = z.infer<typeof DailyRecord>
