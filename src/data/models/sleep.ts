import { z } from 'zod'
import {
  DeviceData,
  HeartRateData,
  OxygenSaturationSample,
  Percentage,
  RecordFloat,
  startNotAfterEnd,
} from './common.ts'
import { SleepLevel, SleepUploadType, TimestampLocalization } from './enums.ts'
import { Timestamp } from './timestamp.ts'

/**
 * `metadata` of a sleep session.
 *
 * Stricter than Terra on purpose: `summary_id` is required and non-empty (Terra allows null), since
 * it is the key under which Terra overwrites earlier versions of the session, and `start_time` may
 * not be after `end_time`. Terra's description of `start_time` ("will always fall on midnight") was
 * copied from Daily by mistake; sleep uses the real bed and wake times.
 *
 * `upload_type` is a {@link SleepUploadType}: 1 = MANUAL, 2 = AUTOMATIC, swapped relative to the
 * `UploadType` of Activity and Daily.
 */
export const SleepMetadata = z
  .strictObject({
    start_time: Timestamp,
    end_time: Timestamp,
    upload_type: SleepUploadType,
    summary_id: z.string().min(1),
    is_nap: z.boolean().nullish(),
    timestamp_localization: TimestampLocalization.nullish(),
  })
  .superRefine(startNotAfterEnd)
export type SleepMetadata = z.infer<typeof SleepMetadata>

/** Time asleep, by stage. */
export const AsleepDurations = z.strictObject({
  duration_asleep_state_seconds: z.number().nullish(),
  duration_deep_sleep_state_seconds: z.number().nullish(),
  duration_light_sleep_state_seconds: z.number().nullish(),
  duration_REM_sleep_state_seconds: z.number().nullish(),
  num_REM_events: z.number().int().nullish(),
})
export type AsleepDurations = z.infer<typeof AsleepDurations>

/** Time awake during the session; interruptions are short below 90 s and long above. */
export const AwakeDurations = z.strictObject({
  duration_awake_state_seconds: z.number().nullish(),
  duration_long_interruption_seconds: z.number().nullish(),
  duration_short_interruption_seconds: z.number().nullish(),
  num_out_of_bed_events: z.number().int().nullish(),
  num_wakeup_events: z.number().int().nullish(),
  sleep_latency_seconds: z.number().nullish(),
  wake_up_latency_seconds: z.number().nullish(),
})
export type AwakeDurations = z.infer<typeof AwakeDurations>

/** Time in bed, and time the device could not classify. */
export const OtherSleepDurations = z.strictObject({
  duration_in_bed_seconds: z.number().nullish(),
  duration_unmeasurable_sleep_seconds: z.number().nullish(),
})
export type OtherSleepDurations = z.infer<typeof OtherSleepDurations>

/** One hypnogram point: the sleep stage from `timestamp` until the next sample. */
export const SleepHypnogramSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  level: SleepLevel.nullish(),
})
export type SleepHypnogramSample = z.infer<typeof SleepHypnogramSample>

/** `sleep_durations_data`. `sleep_efficiency` is a percentage (0–100), asleep over in bed. */
export const SleepDurationsData = z.strictObject({
  asleep: AsleepDurations.nullish(),
  awake: AwakeDurations.nullish(),
  hypnogram_samples: z.array(SleepHypnogramSample).nullish(),
  other: OtherSleepDurations.nullish(),
  sleep_efficiency: Percentage.nullish(),
})
export type SleepDurationsData = z.infer<typeof SleepDurationsData>

/** One breathing-rate reading. */
export const BreathSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  breaths_per_min: z.number().nullish(),
})
export type BreathSample = z.infer<typeof BreathSample>

/** Breathing rate during the session. */
export const BreathsData = z.strictObject({
  avg_breaths_per_min: z.number().nullish(),
  max_breaths_per_min: z.number().nullish(),
  min_breaths_per_min: z.number().nullish(),
  on_demand_reading: z.boolean().nullish(),
  samples: z.array(BreathSample).nullish(),
  start_time: Timestamp.nullish(),
  end_time: Timestamp.nullish(),
})
export type BreathsData = z.infer<typeof BreathsData>

/** Oxygen saturation during the session (no range stated by Terra for the average). */
export const OxygenSaturationData = z.strictObject({
  avg_saturation_percentage: z.number().nullish(),
  end_time: Timestamp.nullish(),
  samples: z.array(OxygenSaturationSample).nullish(),
  start_time: Timestamp.nullish(),
})
export type OxygenSaturationData = z.infer<typeof OxygenSaturationData>

/** One snoring episode. */
export const SnoringSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  duration_seconds: z.number().nullish(),
})
export type SnoringSample = z.infer<typeof SnoringSample>

/** Snoring during the session. */
export const SnoringData = z.strictObject({
  start_time: Timestamp.nullish(),
  end_time: Timestamp.nullish(),
  num_snoring_events: z.number().int().nullish(),
  samples: z.array(SnoringSample).nullish(),
  total_snoring_duration_seconds: z.number().nullish(),
})
export type SnoringData = z.infer<typeof SnoringData>

/** `respiration_data`. */
export const RespirationData = z.strictObject({
  breaths_data: BreathsData.nullish(),
  oxygen_saturation_data: OxygenSaturationData.nullish(),
  snoring_data: SnoringData.nullish(),
})
export type RespirationData = z.infer<typeof RespirationData>

/**
 * `readiness_data`. Terra types `recovery_level` as a plain number, not as its `RecoveryLevel`
 * enum (0–6), so any number is accepted, as Terra does.
 */
export const ReadinessData = z.strictObject({
  readiness: Percentage.nullish(),
  recovery_level: z.number().nullish(),
})
export type ReadinessData = z.infer<typeof ReadinessData>

/** `scores` of a sleep session (no range stated by Terra, unlike Daily's scores). */
export const SleepScores = z.strictObject({
  sleep: z.number().nullish(),
})
export type SleepScores = z.infer<typeof SleepScores>

/** `temperature_data`: skin-temperature change from the user's baseline. */
export const SleepTemperatureData = z.strictObject({
  delta: z.number().nullish(),
})
export type SleepTemperatureData = z.infer<typeof SleepTemperatureData>

/**
 * Terra's own computed sleep scores. Terra fills these in; they are accepted (as Terra defines
 * them) because a provider may pass them through.
 */
export const SleepDataEnrichment = z.strictObject({
  sleep_score: z.number().nullish(),
  sleep_contributors: RecordFloat.nullish(),
  readiness_score: z.number().nullish(),
  readiness_contributors: RecordFloat.nullish(),
  sleep_score_v2: z.number().nullish(),
  sleep_score_v2_contributors: RecordFloat.nullish(),
  respiratory_score_v2: z.number().nullish(),
  respiratory_score_v2_contributors: RecordFloat.nullish(),
})
export type SleepDataEnrichment = z.infer<typeof SleepDataEnrichment>

/**
 * A sleep session in Terra's `Sleep` model. Only `metadata` is required; every other block may be
 * null or left out.
 */
export const SleepRecord = z.strictObject({
  metadata: SleepMetadata,
  data_enrichment: SleepDataEnrichment.nullish(),
  device_data: DeviceData.nullish(),
  heart_rate_data: HeartRateData.nullish(),
  readiness_data: ReadinessData.nullish(),
  respiration_data: RespirationData.nullish(),
  scores: SleepScores.nullish(),
  sleep_durations_data: SleepDurationsData.nullish(),
  temperature_data: SleepTemperatureData.nullish(),
})
export type SleepRecord = z.infer<typeof SleepRecord>
