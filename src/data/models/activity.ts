import { z } from 'zod'
import {
  ActiveDurationsData,
  CaloriesData,
  DeviceData,
  DistanceDataDetailed,
  ElevationData,
  HeartRateData,
  METData,
  OxygenData,
  RecordFloat,
  StrainData,
  SwimmingData,
  startNotAfterEnd,
} from './common.ts'
import { ActivityType, TimestampLocalization, UploadType } from './enums.ts'
import { Timestamp } from './timestamp.ts'

/**
 * `metadata` of a workout.
 *
 * `summary_id` is required by Terra too ("unique for the given user, may not be globally unique");
 * we also require it to be non-empty, since Terra overwrites earlier versions by it. `type` 0
 * (IN_VEHICLE) is valid. `upload_type` is an {@link UploadType}: 1 = AUTOMATIC, 2 = MANUAL, swapped
 * relative to sleep's `SleepUploadType`.
 */
export const ActivityMetadata = z
  .strictObject({
    summary_id: z.string().min(1),
    start_time: Timestamp,
    end_time: Timestamp,
    type: ActivityType,
    upload_type: UploadType,
    /** User-entered or provider-given workout name, e.g. "Morning Run". */
    name: z.string().nullish(),
    city: z.string().nullish(),
    state: z.string().nullish(),
    country: z.string().nullish(),
    timestamp_localization: TimestampLocalization.nullish(),
  })
  .superRefine(startNotAfterEnd)
export type ActivityMetadata = z.infer<typeof ActivityMetadata>

/** Distance aggregates of a workout. */
export const DistanceDataSummary = z.strictObject({
  distance_meters: z.number().nullish(),
  elevation: ElevationData.nullish(),
  floors_climbed: z.number().int().nullish(),
  steps: z.number().int().nullish(),
  swimming: SwimmingData.nullish(),
})
export type DistanceDataSummary = z.infer<typeof DistanceDataSummary>

/** Activity `distance_data`, split into summary and samples (Daily's is flat). */
export const DistanceData = z.strictObject({
  detailed: DistanceDataDetailed.nullish(),
  summary: DistanceDataSummary.nullish(),
})
export type DistanceData = z.infer<typeof DistanceData>

/** `energy_data`, in kilojoules. */
export const EnergyData = z.strictObject({
  energy_kilojoules: z.number().nullish(),
  energy_planned_kilojoules: z.number().nullish(),
})
export type EnergyData = z.infer<typeof EnergyData>

/**
 * One lap. `stroke_type` and `trigger_method` are free strings in Terra's schema (the latter is
 * documented as MANUAL, TIME, DISTANCE, POSITION_START, ...), so no enum is enforced.
 */
export const LapSample = z.strictObject({
  calories: z.number().nullish(),
  avg_hr_bpm: z.number().nullish(),
  start_time: Timestamp.nullish(),
  avg_speed_meters_per_second: z.number().nullish(),
  distance_meters: z.number().nullish(),
  total_strokes: z.number().int().nullish(),
  end_time: Timestamp.nullish(),
  stroke_type: z.string().nullish(),
  avg_watts: z.number().nullish(),
  active_duration_seconds: z.number().int().nullish(),
  trigger_method: z.string().nullish(),
})
export type LapSample = z.infer<typeof LapSample>

/** `lap_data`. */
export const LapData = z.strictObject({
  laps: z.array(LapSample).nullish(),
})
export type LapData = z.infer<typeof LapData>

/** Cadence at a point in time. */
export const CadenceSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  cadence_rpm: z.number().nullish(),
  timer_duration_seconds: z.number().nullish(),
})
export type CadenceSample = z.infer<typeof CadenceSample>

/** Speed at a point in time. */
export const SpeedSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  speed_meters_per_second: z.number().nullish(),
  timer_duration_seconds: z.number().nullish(),
})
export type SpeedSample = z.infer<typeof SpeedSample>

/** Torque at a point in time. */
export const TorqueSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  timer_duration_seconds: z.number().nullish(),
  torque_newton_meters: z.number().nullish(),
})
export type TorqueSample = z.infer<typeof TorqueSample>

/** `movement_data`: speed, pace, cadence and torque. */
export const MovementData = z.strictObject({
  adjusted_max_speed_meters_per_second: z.number().nullish(),
  avg_cadence_rpm: z.number().nullish(),
  avg_pace_minutes_per_kilometer: z.number().nullish(),
  avg_speed_meters_per_second: z.number().nullish(),
  avg_torque_newton_meters: z.number().nullish(),
  avg_velocity_meters_per_second: z.number().nullish(),
  cadence_samples: z.array(CadenceSample).nullish(),
  max_cadence_rpm: z.number().nullish(),
  max_pace_minutes_per_kilometer: z.number().nullish(),
  max_speed_meters_per_second: z.number().nullish(),
  max_torque_newton_meters: z.number().nullish(),
  max_velocity_meters_per_second: z.number().nullish(),
  normalized_speed_meters_per_second: z.number().nullish(),
  speed_samples: z.array(SpeedSample).nullish(),
  torque_samples: z.array(TorqueSample).nullish(),
})
export type MovementData = z.infer<typeof MovementData>

/** `polyline_map_data`: the route as an encoded polyline. */
export const PolylineMapData = z.strictObject({
  summary_polyline: z.string().nullish(),
})
export type PolylineMapData = z.infer<typeof PolylineMapData>

/**
 * A position `[latitude, longitude]` in degrees.
 *
 * Terra writes this as `prefixItems: [number, number]` with no length limit, which also lets `[]`,
 * `[52.1]` and `[52.1, 4.3, "x"]` through. We require exactly the pair the field name promises.
 */
export const LatLng = z.tuple([z.number(), z.number()])
export type LatLng = z.infer<typeof LatLng>

/** A position along the route. */
export const PositionSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  coords_lat_lng_deg: LatLng.nullish(),
  timer_duration_seconds: z.number().nullish(),
})
export type PositionSample = z.infer<typeof PositionSample>

/**
 * `position_data`. The start, center and end positions are plain number arrays in Terra's schema
 * (unlike the samples' pair), and are kept so.
 */
export const PositionData = z.strictObject({
  center_pos_lat_lng_deg: z.array(z.number()).nullish(),
  end_pos_lat_lng_deg: z.array(z.number()).nullish(),
  position_samples: z.array(PositionSample).nullish(),
  start_pos_lat_lng_deg: z.array(z.number()).nullish(),
})
export type PositionData = z.infer<typeof PositionData>

/** Power output at a point in time. */
export const PowerSample = z.strictObject({
  timestamp: Timestamp.nullish(),
  watts: z.number().nullish(),
  timer_duration_seconds: z.number().nullish(),
})
export type PowerSample = z.infer<typeof PowerSample>

/** `power_data`. */
export const PowerData = z.strictObject({
  avg_watts: z.number().nullish(),
  max_watts: z.number().nullish(),
  power_samples: z.array(PowerSample).nullish(),
})
export type PowerData = z.infer<typeof PowerData>

/** One Training Stress Score entry. Despite the name, these entries carry no timestamp. */
export const TSSSample = z.strictObject({
  planned: z.number().nullish(),
  actual: z.number().nullish(),
  method: z.string().nullish(),
  intensity_factor_planned: z.number().nullish(),
  intensity_factor_actual: z.number().nullish(),
  normalized_power_watts: z.number().nullish(),
})
export type TSSSample = z.infer<typeof TSSSample>

/** `TSS_data` (Terra's capitalisation). */
export const TSSData = z.strictObject({
  TSS_samples: z.array(TSSSample).nullish(),
})
export type TSSData = z.infer<typeof TSSData>

/** `work_data`, in kilojoules. */
export const WorkData = z.strictObject({
  work_kilojoules: z.number().nullish(),
})
export type WorkData = z.infer<typeof WorkData>

/**
 * Terra's own computed workout scores. Terra fills these in; they are accepted (as Terra defines
 * them) because a provider may pass them through.
 */
export const DataEnrichment = z.strictObject({
  efficiency_score: z.number().nullish(),
  efficiency_contributors: RecordFloat.nullish(),
  strain_score: z.number().nullish(),
  strain_contributors: RecordFloat.nullish(),
  rcrs_score: z.number().nullish(),
  rcrs_contributors: RecordFloat.nullish(),
  trimp_score: z.number().nullish(),
  trimp_contributors: RecordFloat.nullish(),
})
export type DataEnrichment = z.infer<typeof DataEnrichment>

/**
 * A workout in Terra's `Activity` model. Only `metadata` is required; every other block may be null
 * or left out.
 */
export const ActivityRecord = z.strictObject({
  metadata: ActivityMetadata,
  active_durations_data: ActiveDurationsData.nullish(),
  calories_data: CaloriesData.nullish(),
  /** Terra's "cheat detection flag", typed as a number (for example 0). */
  cheat_detection: z.number().nullish(),
  data_enrichment: DataEnrichment.nullish(),
  device_data: DeviceData.nullish(),
  distance_data: DistanceData.nullish(),
  energy_data: EnergyData.nullish(),
  heart_rate_data: HeartRateData.nullish(),
  lap_data: LapData.nullish(),
  MET_data: METData.nullish(),
  movement_data: MovementData.nullish(),
  oxygen_data: OxygenData.nullish(),
  polyline_map_data: PolylineMapData.nullish(),
  position_data: PositionData.nullish(),
  power_data: PowerData.nullish(),
  strain_data: StrainData.nullish(),
  TSS_data: TSSData.nullish(),
  work_data: WorkData.nullish(),
})
export type ActivityRecord = z.infer<typeof ActivityRecord>
