import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  ACTIVITY_LEVEL,
  ACTIVITY_TYPE,
  ActivityRecord,
  DailyRecord,
  epochMicros,
  HEART_RATE_CONTEXT,
  isLocalMidnight,
  OXYGEN_SATURATION_TYPE,
  recordKey,
  SLEEP_LEVEL,
  SLEEP_UPLOAD_TYPE,
  SleepRecord,
  STRESS_LEVEL,
  stripSamples,
  TIMESTAMP_LOCALIZATION,
  Timestamp,
  UPLOAD_TYPE,
} from '../../src/data/models/index.ts'
import { makeActivity, makeDaily, makeSleep } from '../fixtures/records.ts'
import {
  loadTerraSchemas,
  type TerraSchemas,
  terraSchemasMissingMessage,
} from '../helpers/terra-schemas.ts'

/*
 * A differential test: every record in the corpus goes through Terra's own JSON Schemas (ajv) and
 * through our zod models, and each verdict is asserted. Both must accept what is valid; both must
 * reject what Terra rejects; and where we are stricter on purpose (unknown keys, sleep summary_id,
 * timestamps with offsets, daily midnight, start <= end, lat/lng pairs) Terra must accept and we
 * must reject, so the list of differences is exactly the intended one.
 */

const schemas = loadTerraSchemas()
if (!schemas) console.warn(terraSchemasMissingMessage())

function terra(): TerraSchemas {
  if (!schemas) throw new Error(terraSchemasMissingMessage())
  return schemas
}

type Kind = 'sleep' | 'activity' | 'daily'
type Path = readonly (string | number)[]

const MODELS = {
  sleep: { terra: 'Sleep', zod: SleepRecord, make: () => makeSleep() },
  activity: { terra: 'Activity', zod: ActivityRecord, make: () => makeActivity() },
  daily: { terra: 'Daily', zod: DailyRecord, make: () => makeDaily() },
} as const satisfies Record<Kind, { terra: string; zod: z.ZodType; make: () => unknown }>
const KINDS = Object.keys(MODELS) as Kind[]

type Verdict = 'accepts' | 'rejects'

interface Case {
  kind: Kind
  name: string
  value: unknown
  terra: Verdict
  ours: Verdict
  /** A path our zod error must report, for the cases we reject. */
  path?: Path
  /** For unknown keys: the key our error must name. */
  unknownKey?: string
}

/** A deep copy of `value` with `path` set to `replacement` (creating objects on the way). */
function setAt(value: unknown, path: Path, replacement: unknown): unknown {
  const copy = structuredClone(value)
  let node = copy as Record<string | number, unknown>
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = replacement
      return
    }
    if (node[key] === null || typeof node[key] !== 'object') node[key] = {}
    node = node[key] as Record<string | number, unknown>
  })
  return copy
}

/** A deep copy of `value` without the key at `path`. */
function deleteAt(value: unknown, path: Path): unknown {
  const copy = structuredClone(value)
  let node = copy as Record<string | number, unknown>
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>
  const last = path[path.length - 1]
  if (last !== undefined) delete node[last]
  return copy
}

/** Sets each key of each top-level block (and the blocks themselves, in a second record) to null. */
function nullEveryBlock(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [key, key === 'metadata' ? value : null]),
  )
}

function nullEveryField(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record).map(([key, block]) => {
      if (key === 'metadata' || block === null || typeof block !== 'object') return [key, block]
      return [key, Object.fromEntries(Object.keys(block).map((field) => [field, null]))]
    }),
  )
}

const MINIMAL = {
  sleep: {
    metadata: {
      summary_id: 'slp_min',
      start_time: '2026-03-07T23:12:00.000000-05:00',
      end_time: '2026-03-08T07:02:00.000000-05:00',
      upload_type: SLEEP_UPLOAD_TYPE.MANUAL,
    },
  },
  activity: {
    metadata: {
      summary_id: 'act_min',
      start_time: '2026-03-07T07:30:00.000000-05:00',
      end_time: '2026-03-07T08:15:12.000000-05:00',
      type: ACTIVITY_TYPE.RUNNING,
      upload_type: UPLOAD_TYPE.MANUAL,
    },
  },
  daily: {
    metadata: {
      start_time: '2026-03-07T00:00:00.000000-05:00',
      end_time: '2026-03-08T00:00:00.000000-05:00',
      upload_type: UPLOAD_TYPE.UNKNOWN,
    },
  },
} as const

const ENRICHMENT = {
  sleep: {
    sleep_score: 84.2,
    sleep_contributors: { duration: 0.91, efficiency: 0.94, deep_sleep: 0.8 },
    readiness_score: 76,
    readiness_contributors: { hrv_balance: 0.7, resting_hr: 0.85 },
    sleep_score_v2: 82,
    sleep_score_v2_contributors: {},
    respiratory_score_v2: 91,
    respiratory_score_v2_contributors: { breathing_rate: 0.97 },
  },
  activity: {
    efficiency_score: 71.5,
    efficiency_contributors: { pace_consistency: 0.8 },
    strain_score: 12.9,
    strain_contributors: { hr_load: 0.74 },
    rcrs_score: 64,
    rcrs_contributors: null,
    trimp_score: 118.2,
    trimp_contributors: { duration: 0.6 },
  },
  daily: {
    total_stress_score: 31,
    stress_contributors: { hrv: 0.4 },
    respiratory_score: 90,
    respiratory_contributors: { spo2: 0.96 },
    immune_index: 3,
    immune_contributors: {},
    resilience_score: 72,
    resilience_contributors: { sleep: 0.8 },
    strain_index: 14.1,
    strain_traffic_light: 'green',
    strain_contributors: null,
    total_stress_score_v2: 29.5,
    total_stress_score_v2_contributors: { daytime_stress: 0.3 },
  },
} as const

/** A pool swim: the swimming block, stroke counts on laps, no GPS. */
function poolSwim() {
  return makeActivity({
    metadata: {
      summary_id: 'act_20260307_1800',
      name: 'Pool Swim',
      type: ACTIVITY_TYPE.SWIMMING_IN_POOL,
      start_time: '2026-03-07T18:00:00.000000-05:00',
      end_time: '2026-03-07T18:41:30.000000-05:00',
    },
    distance_data: {
      summary: {
        distance_meters: 1500,
        steps: null,
        floors_climbed: null,
        elevation: null,
        swimming: { num_laps: 60, num_strokes: 1260, pool_length_meters: 25 },
      },
      detailed: null,
    },
    lap_data: {
      laps: [
        {
          start_time: '2026-03-07T18:00:00.000000-05:00',
          end_time: '2026-03-07T18:00:41.000000-05:00',
          distance_meters: 25,
          total_strokes: 21,
          stroke_type: 'freestyle',
          active_duration_seconds: 41,
          trigger_method: 'MANUAL',
        },
      ],
    },
    position_data: null,
    polyline_map_data: null,
    power_data: null,
    TSS_data: null,
  })
}

const valid = (kind: Kind, name: string, value: unknown): Case => ({
  kind,
  name,
  value,
  terra: 'accepts',
  ours: 'accepts',
})
const bothReject = (kind: Kind, name: string, value: unknown, path: Path): Case => ({
  kind,
  name,
  value,
  terra: 'rejects',
  ours: 'rejects',
  path,
})
const onlyOursRejects = (
  kind: Kind,
  name: string,
  value: unknown,
  path: Path,
  unknownKey?: string,
): Case => ({
  kind,
  name,
  value,
  terra: 'accepts',
  ours: 'rejects',
  path,
  ...(unknownKey === undefined ? {} : { unknownKey }),
})

function validCases(): Case[] {
  const cases: Case[] = []
  for (const kind of KINDS) {
    const full = MODELS[kind].make() as Record<string, unknown>
    cases.push(
      valid(kind, 'the fixture, fully populated', full),
      valid(kind, 'only metadata', MINIMAL[kind]),
      valid(kind, 'every block null', nullEveryBlock(full)),
      valid(kind, 'every field of every block null', nullEveryField(full)),
      valid(kind, 'heart rate summary and detailed null', {
        ...MINIMAL[kind],
        heart_rate_data: { summary: null, detailed: null },
      }),
      valid(kind, 'a sample whose every field is null', {
        ...MINIMAL[kind],
        heart_rate_data: {
          detailed: {
            hr_samples: [
              { timestamp: null, bpm: null, timer_duration_seconds: null, context: null },
            ],
          },
        },
      }),
      valid(kind, 'empty sample arrays', {
        ...MINIMAL[kind],
        heart_rate_data: {
          detailed: { hr_samples: [], hrv_samples_rmssd: [], hrv_samples_sdnn: [] },
        },
      }),
      valid(kind, 'data_enrichment filled in', { ...full, data_enrichment: ENRICHMENT[kind] }),
      valid(kind, 'data_enrichment null', { ...full, data_enrichment: null }),
      valid(
        kind,
        'timestamp_localization null',
        setAt(full, ['metadata', 'timestamp_localization'], null),
      ),
      valid(
        kind,
        'timestamp_localization UTC',
        setAt(full, ['metadata', 'timestamp_localization'], 0),
      ),
      valid(kind, 'device_data all null', {
        ...MINIMAL[kind],
        device_data: {
          name: null,
          manufacturer: null,
          hardware_version: null,
          software_version: null,
          serial_number: null,
          activation_timestamp: null,
          last_upload_date: null,
          data_provided: null,
          other_devices: null,
        },
      }),
      valid(kind, 'start_time equal to end_time', {
        metadata: { ...MINIMAL[kind].metadata, end_time: MINIMAL[kind].metadata.start_time },
      }),
    )
  }

  for (const value of Object.values(SLEEP_UPLOAD_TYPE)) {
    cases.push(
      valid(
        'sleep',
        `SleepUploadType ${value}`,
        setAt(MINIMAL.sleep, ['metadata', 'upload_type'], value),
      ),
    )
  }
  for (const kind of ['activity', 'daily'] as const) {
    for (const value of Object.values(UPLOAD_TYPE)) {
      cases.push(
        valid(
          kind,
          `UploadType ${value}`,
          setAt(MINIMAL[kind], ['metadata', 'upload_type'], value),
        ),
      )
    }
  }
  for (const value of Object.values(ACTIVITY_TYPE)) {
    cases.push(
      valid(
        'activity',
        `ActivityType ${value}`,
        setAt(MINIMAL.activity, ['metadata', 'type'], value),
      ),
    )
  }
  for (const level of Object.values(SLEEP_LEVEL)) {
    cases.push(
      valid('sleep', `SleepLevel ${level}`, {
        ...MINIMAL.sleep,
        sleep_durations_data: {
          hypnogram_samples: [{ timestamp: '2026-03-08T01:00:00.000000-05:00', level }],
        },
      }),
    )
  }
  for (const context of Object.values(HEART_RATE_CONTEXT)) {
    cases.push(
      valid('activity', `HeartRateContext ${context}`, {
        ...MINIMAL.activity,
        heart_rate_data: { detailed: { hr_samples: [{ bpm: 150, context }] } },
      }),
    )
  }
  for (const activity_level of Object.values(ACTIVITY_LEVEL)) {
    cases.push(
      valid('daily', `ActivityLevel ${activity_level}`, {
        ...MINIMAL.daily,
        active_durations_data: { activity_levels_samples: [{ activity_level }] },
      }),
    )
  }
  for (const type of Object.values(OXYGEN_SATURATION_TYPE)) {
    cases.push(
      valid('sleep', `OxygenSaturationType ${type}`, {
        ...MINIMAL.sleep,
        respiration_data: { oxygen_saturation_data: { samples: [{ percentage: 95, type }] } },
      }),
    )
  }
  for (const stress_rating of Object.values(STRESS_LEVEL)) {
    cases.push(
      valid('daily', `StressLevel ${stress_rating}`, {
        ...MINIMAL.daily,
        stress_data: { stress_rating },
      }),
    )
  }

  cases.push(
    valid(
      'activity',
      'type 0 (IN_VEHICLE), which is falsy',
      setAt(makeActivity(), ['metadata', 'type'], 0),
    ),
    valid('activity', 'a pool swim', poolSwim()),
    valid('sleep', 'a nap with is_nap null', setAt(makeSleep(), ['metadata', 'is_nap'], null)),
    valid('sleep', 'timestamps in Z, with and without fractions', {
      metadata: {
        ...MINIMAL.sleep.metadata,
        start_time: '2026-03-08T04:12:00Z',
        end_time: '2026-03-08T12:02:00.5Z',
      },
    }),
    valid('activity', 'location fields null', {
      metadata: {
        ...MINIMAL.activity.metadata,
        name: null,
        city: null,
        state: null,
        country: null,
      },
    }),
    valid('daily', 'midnight at +05:30', {
      metadata: {
        ...MINIMAL.daily.metadata,
        start_time: '2026-03-07T00:00:00.000000+05:30',
        end_time: '2026-03-08T00:00:00.000000+05:30',
      },
    }),
    valid('daily', 'midnight in UTC, written as Z', {
      metadata: {
        ...MINIMAL.daily.metadata,
        start_time: '2026-03-07T00:00:00Z',
        end_time: '2026-03-08T00:00:00Z',
      },
    }),
    valid('daily', 'a 23-hour DST day (New York, 8 March 2026)', {
      metadata: {
        ...MINIMAL.daily.metadata,
        start_time: '2026-03-08T00:00:00.000000-05:00',
        end_time: '2026-03-09T00:00:00.000000-04:00',
      },
    }),
    valid('daily', 'a tag list', {
      ...MINIMAL.daily,
      tag_data: {
        tags: [{ timestamp: '2026-03-07T21:40:00.000000-05:00', tag_name: 'alcohol', notes: '' }],
      },
    }),
  )
  return cases
}

function terraRejectsCases(): Case[] {
  const sleep = makeSleep()
  const activity = makeActivity()
  const daily = makeDaily()
  return [
    // Enum integers outside the enum.
    bothReject('sleep', 'SleepUploadType 5', setAt(sleep, ['metadata', 'upload_type'], 5), [
      'metadata',
      'upload_type',
    ]),
    bothReject('activity', 'UploadType 7', setAt(activity, ['metadata', 'upload_type'], 7), [
      'metadata',
      'upload_type',
    ]),
    bothReject('daily', 'UploadType -1', setAt(daily, ['metadata', 'upload_type'], -1), [
      'metadata',
      'upload_type',
    ]),
    bothReject('activity', 'ActivityType 2 (a gap)', setAt(activity, ['metadata', 'type'], 2), [
      'metadata',
      'type',
    ]),
    bothReject('activity', 'ActivityType 72 (a gap)', setAt(activity, ['metadata', 'type'], 72), [
      'metadata',
      'type',
    ]),
    bothReject(
      'activity',
      'ActivityType 155 (past the end)',
      setAt(activity, ['metadata', 'type'], 155),
      ['metadata', 'type'],
    ),
    bothReject('activity', 'ActivityType 8.5', setAt(activity, ['metadata', 'type'], 8.5), [
      'metadata',
      'type',
    ]),
    bothReject(
      'sleep',
      'SleepLevel 7 in the hypnogram',
      setAt(sleep, ['sleep_durations_data', 'hypnogram_samples', 0, 'level'], 7),
      ['sleep_durations_data', 'hypnogram_samples', 0, 'level'],
    ),
    bothReject(
      'activity',
      'HeartRateContext 3',
      setAt(activity, ['heart_rate_data', 'detailed', 'hr_samples', 2, 'context'], 3),
      ['heart_rate_data', 'detailed', 'hr_samples', 2, 'context'],
    ),
    bothReject('daily', 'StressLevel 5', setAt(daily, ['stress_data', 'stress_rating'], 5), [
      'stress_data',
      'stress_rating',
    ]),
    bothReject(
      'daily',
      'TimestampLocalization 2',
      setAt(daily, ['metadata', 'timestamp_localization'], 2),
      ['metadata', 'timestamp_localization'],
    ),
    bothReject(
      'sleep',
      'OxygenSaturationType 2',
      setAt(sleep, ['respiration_data', 'oxygen_saturation_data', 'samples', 0, 'type'], 2),
      ['respiration_data', 'oxygen_saturation_data', 'samples', 0, 'type'],
    ),
    // Enums sent as names or strings instead of integers.
    bothReject(
      'activity',
      'upload_type as the name AUTOMATIC',
      setAt(activity, ['metadata', 'upload_type'], 'AUTOMATIC'),
      ['metadata', 'upload_type'],
    ),
    bothReject(
      'activity',
      'type as the name RUNNING',
      setAt(activity, ['metadata', 'type'], 'RUNNING'),
      ['metadata', 'type'],
    ),
    bothReject(
      'sleep',
      'upload_type as the string "1"',
      setAt(sleep, ['metadata', 'upload_type'], '1'),
      ['metadata', 'upload_type'],
    ),
    bothReject(
      'daily',
      'DeviceDataType in lower case',
      setAt(daily, ['device_data', 'data_provided', 0], 'steps'),
      ['device_data', 'data_provided', 0],
    ),
    // Wrong primitive types.
    bothReject(
      'activity',
      'a number sent as a string',
      setAt(activity, ['heart_rate_data', 'summary', 'avg_hr_bpm'], '148.2'),
      ['heart_rate_data', 'summary', 'avg_hr_bpm'],
    ),
    bothReject('daily', 'steps as a string', setAt(daily, ['distance_data', 'steps'], '11894'), [
      'distance_data',
      'steps',
    ]),
    bothReject(
      'sleep',
      'an integer field with a fraction',
      setAt(sleep, ['sleep_durations_data', 'asleep', 'num_REM_events'], 2.5),
      ['sleep_durations_data', 'asleep', 'num_REM_events'],
    ),
    bothReject(
      'daily',
      'immune_index with a fraction',
      { ...daily, data_enrichment: { immune_index: 3.5 } },
      ['data_enrichment', 'immune_index'],
    ),
    bothReject('sleep', 'is_nap as a string', setAt(sleep, ['metadata', 'is_nap'], 'false'), [
      'metadata',
      'is_nap',
    ]),
    bothReject(
      'activity',
      'summary_id as a number',
      setAt(activity, ['metadata', 'summary_id'], 42),
      ['metadata', 'summary_id'],
    ),
    bothReject(
      'sleep',
      'start_time as epoch seconds',
      setAt(sleep, ['metadata', 'start_time'], 1772943120),
      ['metadata', 'start_time'],
    ),
    bothReject(
      'activity',
      'a contributor score as a string',
      { ...activity, data_enrichment: { strain_contributors: { hr_load: 'high' } } },
      ['data_enrichment', 'strain_contributors', 'hr_load'],
    ),
    // Missing metadata, or a required metadata field.
    bothReject('sleep', 'no metadata', deleteAt(sleep, ['metadata']), ['metadata']),
    bothReject('daily', 'metadata null', setAt(daily, ['metadata'], null), ['metadata']),
    bothReject('activity', 'an empty object', {}, ['metadata']),
    bothReject('sleep', 'no upload_type', deleteAt(sleep, ['metadata', 'upload_type']), [
      'metadata',
      'upload_type',
    ]),
    bothReject('sleep', 'no end_time', deleteAt(sleep, ['metadata', 'end_time']), [
      'metadata',
      'end_time',
    ]),
    bothReject('activity', 'no type', deleteAt(activity, ['metadata', 'type']), [
      'metadata',
      'type',
    ]),
    bothReject('activity', 'no summary_id', deleteAt(activity, ['metadata', 'summary_id']), [
      'metadata',
      'summary_id',
    ]),
    bothReject('activity', 'summary_id null', setAt(activity, ['metadata', 'summary_id'], null), [
      'metadata',
      'summary_id',
    ]),
    bothReject('daily', 'no start_time', deleteAt(daily, ['metadata', 'start_time']), [
      'metadata',
      'start_time',
    ]),
    bothReject('daily', 'upload_type null', setAt(daily, ['metadata', 'upload_type'], null), [
      'metadata',
      'upload_type',
    ]),
    bothReject('daily', 'a tag without notes', deleteAt(daily, ['tag_data', 'tags', 0, 'notes']), [
      'tag_data',
      'tags',
      0,
      'notes',
    ]),
    // Wrong nested types.
    bothReject('sleep', 'heart_rate_data as an array', setAt(sleep, ['heart_rate_data'], []), [
      'heart_rate_data',
    ]),
    bothReject(
      'activity',
      'a summary as a string',
      setAt(activity, ['heart_rate_data', 'summary'], 'n/a'),
      ['heart_rate_data', 'summary'],
    ),
    bothReject(
      'sleep',
      'hypnogram_samples as an object',
      setAt(sleep, ['sleep_durations_data', 'hypnogram_samples'], {}),
      ['sleep_durations_data', 'hypnogram_samples'],
    ),
    bothReject(
      'activity',
      'a sample that is null',
      setAt(activity, ['heart_rate_data', 'detailed', 'hr_samples', 0], null),
      ['heart_rate_data', 'detailed', 'hr_samples', 0],
    ),
    bothReject(
      'activity',
      'coordinates as strings',
      setAt(
        activity,
        ['position_data', 'position_samples', 0, 'coords_lat_lng_deg'],
        ['4.6', '-74.0'],
      ),
      ['position_data', 'position_samples', 0, 'coords_lat_lng_deg', 0],
    ),
    bothReject('daily', 'a record that is an array', [], []),
    bothReject('sleep', 'a record that is null', null, []),
    // Ranges Terra states.
    bothReject(
      'sleep',
      'sleep_efficiency 101',
      setAt(sleep, ['sleep_durations_data', 'sleep_efficiency'], 101),
      ['sleep_durations_data', 'sleep_efficiency'],
    ),
    bothReject(
      'sleep',
      'a negative sleep_efficiency',
      setAt(sleep, ['sleep_durations_data', 'sleep_efficiency'], -0.1),
      ['sleep_durations_data', 'sleep_efficiency'],
    ),
    bothReject('sleep', 'readiness 150', setAt(sleep, ['readiness_data', 'readiness'], 150), [
      'readiness_data',
      'readiness',
    ]),
    bothReject('daily', 'a daily score above 100', setAt(daily, ['scores', 'activity'], 100.5), [
      'scores',
      'activity',
    ]),
    bothReject(
      'activity',
      'a negative heart rate',
      setAt(activity, ['heart_rate_data', 'summary', 'avg_hr_bpm'], -1),
      ['heart_rate_data', 'summary', 'avg_hr_bpm'],
    ),
    bothReject(
      'activity',
      'an HR zone starting at 120 % of max',
      setAt(activity, ['heart_rate_data', 'summary', 'hr_zone_data', 0, 'start_percentage'], 120),
      ['heart_rate_data', 'summary', 'hr_zone_data', 0, 'start_percentage'],
    ),
    bothReject('daily', 'negative floors', setAt(daily, ['distance_data', 'floors_climbed'], -1), [
      'distance_data',
      'floors_climbed',
    ]),
    bothReject(
      'activity',
      'negative active seconds',
      setAt(activity, ['active_durations_data', 'activity_seconds'], -60),
      ['active_durations_data', 'activity_seconds'],
    ),
    bothReject(
      'activity',
      'negative elevation gain',
      setAt(activity, ['distance_data', 'summary', 'elevation', 'gain_actual_meters'], -3),
      ['distance_data', 'summary', 'elevation', 'gain_actual_meters'],
    ),
    bothReject(
      'activity',
      'negative lap count',
      setAt(poolSwim(), ['distance_data', 'summary', 'swimming', 'num_laps'], -1),
      ['distance_data', 'summary', 'swimming', 'num_laps'],
    ),
    bothReject(
      'daily',
      'negative stress duration',
      setAt(daily, ['stress_data', 'high_stress_duration_seconds'], -1),
      ['stress_data', 'high_stress_duration_seconds'],
    ),
    bothReject(
      'daily',
      'negative MET minutes',
      setAt(daily, ['MET_data', 'num_inactive_minutes'], -5),
      ['MET_data', 'num_inactive_minutes'],
    ),
  ]
}

function stricterCases(): Case[] {
  const sleep = makeSleep()
  const activity = makeActivity()
  const daily = makeDaily()
  return [
    // Terra's schemas set no additionalProperties, so misspelled and unknown keys pass there.
    onlyOursRejects(
      'activity',
      'a misspelled top-level block',
      { ...activity, heart_rate: {} },
      [],
      'heart_rate',
    ),
    onlyOursRejects(
      'daily',
      'an unknown top-level block',
      { ...daily, body_data: { weight_kg: 70 } },
      [],
      'body_data',
    ),
    onlyOursRejects(
      'sleep',
      'a misspelled nested field',
      setAt(sleep, ['heart_rate_data', 'summary', 'avg_hr'], 55),
      ['heart_rate_data', 'summary'],
      'avg_hr',
    ),
    onlyOursRejects(
      'activity',
      'a misspelled metadata field',
      setAt(activity, ['metadata', 'upload-type'], 1),
      ['metadata'],
      'upload-type',
    ),
    onlyOursRejects(
      'sleep',
      'duration_REM_sleep_state_seconds in lower case',
      setAt(sleep, ['sleep_durations_data', 'asleep', 'duration_rem_sleep_state_seconds'], 3600),
      ['sleep_durations_data', 'asleep'],
      'duration_rem_sleep_state_seconds',
    ),
    onlyOursRejects(
      'activity',
      'an unknown key inside a sample',
      setAt(activity, ['heart_rate_data', 'detailed', 'hr_samples', 0, 'rr_ms'], 412),
      ['heart_rate_data', 'detailed', 'hr_samples', 0],
      'rr_ms',
    ),
    onlyOursRejects(
      'daily',
      'summary_id on a daily (Terra has none)',
      setAt(daily, ['metadata', 'summary_id'], 'd1'),
      ['metadata'],
      'summary_id',
    ),
    // summary_id: Terra allows null or absent on sleep, and an empty string anywhere.
    onlyOursRejects(
      'sleep',
      'sleep without summary_id',
      deleteAt(sleep, ['metadata', 'summary_id']),
      ['metadata', 'summary_id'],
    ),
    onlyOursRejects(
      'sleep',
      'sleep with summary_id null',
      setAt(sleep, ['metadata', 'summary_id'], null),
      ['metadata', 'summary_id'],
    ),
    onlyOursRejects(
      'activity',
      'an empty summary_id',
      setAt(activity, ['metadata', 'summary_id'], ''),
      ['metadata', 'summary_id'],
    ),
    // Timestamps: Terra types them as bare strings.
    onlyOursRejects(
      'sleep',
      'a start_time without an offset',
      setAt(sleep, ['metadata', 'start_time'], '2026-03-07T23:12:00.000000'),
      ['metadata', 'start_time'],
    ),
    onlyOursRejects(
      'activity',
      'a date-only end_time',
      setAt(activity, ['metadata', 'end_time'], '2026-03-07'),
      ['metadata', 'end_time'],
    ),
    onlyOursRejects(
      'activity',
      'an offset without a colon',
      setAt(activity, ['metadata', 'start_time'], '2026-03-07T07:30:00.000000-0500'),
      ['metadata', 'start_time'],
    ),
    onlyOursRejects(
      'daily',
      'a sample timestamp without an offset',
      setAt(
        daily,
        ['heart_rate_data', 'detailed', 'hr_samples', 3, 'timestamp'],
        '2026-03-07T03:00:00.000000',
      ),
      ['heart_rate_data', 'detailed', 'hr_samples', 3, 'timestamp'],
    ),
    onlyOursRejects(
      'sleep',
      'a non-date in a hypnogram',
      setAt(sleep, ['sleep_durations_data', 'hypnogram_samples', 1, 'timestamp'], 'yesterday'),
      ['sleep_durations_data', 'hypnogram_samples', 1, 'timestamp'],
    ),
    onlyOursRejects(
      'activity',
      'an impossible date',
      setAt(activity, ['lap_data', 'laps', 0, 'end_time'], '2026-02-30T07:35:29.000000-05:00'),
      ['lap_data', 'laps', 0, 'end_time'],
    ),
    onlyOursRejects(
      'daily',
      'a date-only last_upload_date',
      setAt(daily, ['device_data', 'last_upload_date'], '2026-03-07'),
      ['device_data', 'last_upload_date'],
    ),
    // Daily at local midnight; start not after end.
    onlyOursRejects(
      'daily',
      'a daily starting at 09:00',
      setAt(daily, ['metadata', 'start_time'], '2026-03-07T09:00:00.000000-05:00'),
      ['metadata', 'start_time'],
    ),
    onlyOursRejects(
      'daily',
      'a daily starting one microsecond after midnight',
      setAt(daily, ['metadata', 'start_time'], '2026-03-07T00:00:00.000001-05:00'),
      ['metadata', 'start_time'],
    ),
    onlyOursRejects(
      'activity',
      'end_time before start_time',
      setAt(activity, ['metadata', 'end_time'], '2026-03-07T07:29:59.000000-05:00'),
      ['metadata', 'end_time'],
    ),
    onlyOursRejects(
      'sleep',
      'end_time one microsecond before start_time, in another offset',
      setAt(sleep, ['metadata', 'end_time'], '2026-03-08T04:11:59.999999Z'),
      ['metadata', 'end_time'],
    ),
    // Terra's prefixItems lets any length through; we want the [lat, lng] pair the name promises.
    onlyOursRejects(
      'activity',
      'an empty coordinate pair',
      setAt(activity, ['position_data', 'position_samples', 0, 'coords_lat_lng_deg'], []),
      ['position_data', 'position_samples', 0, 'coords_lat_lng_deg'],
    ),
    onlyOursRejects(
      'activity',
      'a coordinate with latitude only',
      setAt(activity, ['position_data', 'position_samples', 0, 'coords_lat_lng_deg'], [4.6486]),
      ['position_data', 'position_samples', 0, 'coords_lat_lng_deg'],
    ),
  ]
}

const CORPUS: Case[] = [...validCases(), ...terraRejectsCases(), ...stricterCases()]

function zodIssues(kind: Kind, value: unknown) {
  const result = MODELS[kind].zod.safeParse(value)
  return result.success ? [] : result.error.issues
}

describe.skipIf(!schemas)("differential: our zod models against Terra's JSON Schemas", () => {
  it.each(CORPUS)('$kind: $name (Terra $terra, ours $ours)', (c) => {
    const terraResult = terra().validate(MODELS[c.kind].terra, c.value)
    const issues = zodIssues(c.kind, c.value)
    const details = JSON.stringify({
      terraErrors: terraResult.errors.slice(0, 6),
      zodIssues: issues.slice(0, 6),
    })

    expect(
      {
        terra: terraResult.valid ? 'accepts' : 'rejects',
        ours: issues.length === 0 ? 'accepts' : 'rejects',
      },
      details,
    ).toStrictEqual({ terra: c.terra, ours: c.ours })
    if (c.path)
      expect(
        issues.map((issue) => issue.path),
        details,
      ).toContainEqual(c.path)
    if (c.unknownKey) {
      expect(issues, details).toContainEqual(
        expect.objectContaining({ code: 'unrecognized_keys', path: c.path, keys: [c.unknownKey] }),
      )
    }
  })

  it('covers every kind of verdict for every record type', () => {
    for (const kind of KINDS) {
      const verdicts = new Set(
        CORPUS.filter((c) => c.kind === kind).map((c) => `${c.terra}/${c.ours}`),
      )
      expect([...verdicts].sort()).toStrictEqual([
        'accepts/accepts',
        'accepts/rejects',
        'rejects/rejects',
      ])
    }
  })
})

/*
 * Structural parity: walk Terra's schema from Sleep, Activity and Daily through every $ref, walk
 * our zod schema alongside it, and list every difference in field names, types, enum values,
 * integer-ness, ranges, nullability and required-ness. The list must be exactly our intended
 * deviations, so a field added to or missing from either side fails here even if no fixture uses it.
 */
type Shape =
  | { kind: 'object'; fields: Record<string, Field> }
  | { kind: 'record'; value: Shape }
  | { kind: 'array'; items: Shape }
  | { kind: 'tuple'; items: Shape[] }
  | { kind: 'number'; int: boolean; min: number | null; max: number | null }
  | { kind: 'string' }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: (string | number)[] }
interface Field {
  shape: Shape
  nullable: boolean
  required: boolean
}

type JsonSchema = Record<string, unknown>

function terraShape(node: JsonSchema, file: string, t: TerraSchemas): Shape {
  const ref = node.$ref
  if (typeof ref === 'string') {
    if (ref.startsWith('#/')) {
      let target: unknown = t.schema(file)
      for (const part of ref.slice(2).split('/')) target = (target as JsonSchema)[part]
      return terraShape(target as JsonSchema, file, t)
    }
    return terraShape(t.schema(ref), ref, t)
  }
  if (Array.isArray(node.oneOf)) {
    return {
      kind: 'enum',
      values: (node.oneOf as JsonSchema[]).map((member) => member.const as string | number),
    }
  }
  if (Array.isArray(node.enum)) return { kind: 'enum', values: node.enum as (string | number)[] }
  switch (node.type) {
    case 'object': {
      if (node.unevaluatedProperties) {
        return {
          kind: 'record',
          value: terraShape(node.unevaluatedProperties as JsonSchema, file, t),
        }
      }
      const required = new Set((node.required as string[] | undefined) ?? [])
      const fields: Record<string, Field> = {}
      for (const [name, raw] of Object.entries(
        (node.properties as Record<string, JsonSchema>) ?? {},
      )) {
        const anyOf = raw.anyOf as JsonSchema[] | undefined
        const nonNull = anyOf?.filter((member) => member.type !== 'null')
        const nullable = anyOf !== undefined && nonNull?.length === 1
        // Constraints such as minimum sit next to anyOf in Terra's files; they apply to the number.
        const { anyOf: _, ...siblings } = raw
        const inner = nullable && nonNull?.[0] ? { ...siblings, ...nonNull[0] } : raw
        fields[name] = { shape: terraShape(inner, file, t), nullable, required: required.has(name) }
      }
      return { kind: 'object', fields }
    }
    case 'array':
      if (Array.isArray(node.prefixItems)) {
        return {
          kind: 'tuple',
          items: (node.prefixItems as JsonSchema[]).map((item) => terraShape(item, file, t)),
        }
      }
      return { kind: 'array', items: terraShape(node.items as JsonSchema, file, t) }
    case 'number':
    case 'integer':
      return {
        kind: 'number',
        int: node.type === 'integer',
        min: typeof node.minimum === 'number' ? node.minimum : null,
        max: typeof node.maximum === 'number' ? node.maximum : null,
      }
    case 'string':
      return { kind: 'string' }
    case 'boolean':
      return { kind: 'boolean' }
    default:
      throw new Error(`unhandled Terra schema in ${file}: ${JSON.stringify(node).slice(0, 200)}`)
  }
}

function zodShape(schema: z.ZodType): Shape {
  if (schema instanceof z.ZodObject) {
    const fields: Record<string, Field> = {}
    for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      let inner = field
      let nullable = false
      let required = true
      for (;;) {
        if (inner instanceof z.ZodOptional) {
          required = false
          inner = inner.unwrap() as z.ZodType
        } else if (inner instanceof z.ZodNullable) {
          nullable = true
          inner = inner.unwrap() as z.ZodType
        } else break
      }
      fields[name] = { shape: zodShape(inner), nullable, required }
    }
    return { kind: 'object', fields }
  }
  if (schema instanceof z.ZodRecord)
    return { kind: 'record', value: zodShape(schema.valueType as z.ZodType) }
  if (schema instanceof z.ZodArray)
    return { kind: 'array', items: zodShape(schema.element as z.ZodType) }
  if (schema instanceof z.ZodTuple) {
    return { kind: 'tuple', items: (schema.def.items as z.ZodType[]).map((item) => zodShape(item)) }
  }
  if (schema instanceof z.ZodNumber) {
    const bound = (v: number | null) =>
      v === null || !Number.isFinite(v) || Math.abs(v) === Number.MAX_SAFE_INTEGER ? null : v
    return {
      kind: 'number',
      int: schema.isInt,
      min: bound(schema.minValue),
      max: bound(schema.maxValue),
    }
  }
  if (schema instanceof z.ZodLiteral)
    return { kind: 'enum', values: [...schema.values] as number[] }
  if (schema instanceof z.ZodEnum) return { kind: 'enum', values: schema.options as string[] }
  if (schema instanceof z.ZodBoolean) return { kind: 'boolean' }
  if (schema._zod.def.type === 'string') return { kind: 'string' }
  throw new Error(`unhandled zod schema ${schema._zod.def.type}`)
}

function shapeDiffs(terraSide: Shape, ours: Shape, at: string): string[] {
  if (terraSide.kind !== ours.kind) return [`${at}: Terra ${terraSide.kind}, ours ${ours.kind}`]
  switch (terraSide.kind) {
    case 'object': {
      const o = ours as Extract<Shape, { kind: 'object' }>
      const diffs: string[] = []
      const names = new Set([...Object.keys(terraSide.fields), ...Object.keys(o.fields)])
      for (const name of [...names].sort()) {
        const a = terraSide.fields[name]
        const b = o.fields[name]
        const where = `${at}.${name}`
        if (!a) diffs.push(`${where}: only ours`)
        else if (!b) diffs.push(`${where}: missing from ours`)
        else {
          if (a.nullable !== b.nullable)
            diffs.push(`${where}: nullable Terra ${a.nullable}, ours ${b.nullable}`)
          if (a.required !== b.required)
            diffs.push(`${where}: required Terra ${a.required}, ours ${b.required}`)
          diffs.push(...shapeDiffs(a.shape, b.shape, where))
        }
      }
      return diffs
    }
    case 'record':
      return shapeDiffs(
        terraSide.value,
        (ours as Extract<Shape, { kind: 'record' }>).value,
        `${at}{}`,
      )
    case 'array':
      return shapeDiffs(
        terraSide.items,
        (ours as Extract<Shape, { kind: 'array' }>).items,
        `${at}[]`,
      )
    case 'tuple': {
      const o = ours as Extract<Shape, { kind: 'tuple' }>
      if (terraSide.items.length !== o.items.length) return [`${at}: tuple length differs`]
      return terraSide.items.flatMap((item, i) =>
        shapeDiffs(item, o.items[i] as Shape, `${at}[${i}]`),
      )
    }
    case 'number': {
      const o = ours as Extract<Shape, { kind: 'number' }>
      const same = terraSide.int === o.int && terraSide.min === o.min && terraSide.max === o.max
      return same ? [] : [`${at}: Terra ${JSON.stringify(terraSide)}, ours ${JSON.stringify(o)}`]
    }
    case 'enum': {
      const o = ours as Extract<Shape, { kind: 'enum' }>
      const sort = (values: (string | number)[]) => [...values].map(String).sort()
      return JSON.stringify(sort(terraSide.values)) === JSON.stringify(sort(o.values))
        ? []
        : [`${at}: enum values differ`]
    }
    default:
      return []
  }
}

describe.skipIf(!schemas)("structure: every field of Terra's schemas, with the same types", () => {
  it('differs from Terra only where we chose to be stricter', () => {
    const diffs = KINDS.flatMap((kind) => {
      const name = MODELS[kind].terra
      return shapeDiffs(
        terraShape(terra().schema(name), `${name}.yaml`, terra()),
        zodShape(MODELS[kind].zod),
        name,
      )
    })
    expect(diffs).toStrictEqual([
      'Sleep.metadata.summary_id: nullable Terra true, ours false',
      'Sleep.metadata.summary_id: required Terra false, ours true',
    ])
  })

  it('walks a real schema (a sanity check of the walker itself)', () => {
    const sleep = terraShape(terra().schema('Sleep'), 'Sleep.yaml', terra())
    expect(sleep.kind === 'object' && Object.keys(sleep.fields).sort()).toStrictEqual(
      Object.keys(SleepRecord.shape).sort(),
    )
    const broken = z.strictObject({ metadata: SleepRecord.shape.metadata })
    expect(shapeDiffs(sleep, zodShape(broken), 'Sleep')).toContain(
      'Sleep.heart_rate_data: missing from ours',
    )
  })
})

/** mulberry32: a tiny seeded PRNG, so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const REQUIRED_KEYS = new Set(['start_time', 'end_time', 'upload_type', 'summary_id', 'type'])

function enumAt(kind: Kind, keys: string[]): readonly number[] | undefined {
  const [parent, key] = keys.slice(-2)
  if (parent === 'metadata' && key === 'upload_type') {
    return Object.values(kind === 'sleep' ? SLEEP_UPLOAD_TYPE : UPLOAD_TYPE)
  }
  if (parent === 'metadata' && key === 'type') return Object.values(ACTIVITY_TYPE)
  if (key === 'timestamp_localization') return Object.values(TIMESTAMP_LOCALIZATION)
  if (parent === 'hypnogram_samples' && key === 'level') return Object.values(SLEEP_LEVEL)
  if (key === 'context') return Object.values(HEART_RATE_CONTEXT)
  if (key === 'activity_level') return Object.values(ACTIVITY_LEVEL)
  if (key === 'type') return Object.values(OXYGEN_SATURATION_TYPE)
  if (key === 'stress_rating') return Object.values(STRESS_LEVEL)
  return undefined
}

/**
 * A random variation of a valid record that stays valid: optional fields become null or vanish,
 * arrays shrink, numbers scale towards 0 (so minimums and maximums still hold, and integers stay
 * integers), enums take another allowed value, booleans flip. Timestamps and ids are kept.
 */
function randomize(kind: Kind, value: unknown, random: () => number, keys: string[] = []): unknown {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T
  if (typeof value === 'number') {
    const allowed = enumAt(kind, keys)
    if (allowed) return pick(allowed)
    const scaled = value * random()
    return Number.isInteger(value) ? Math.round(scaled) : Math.round(scaled * 100) / 100
  }
  if (typeof value === 'boolean') return random() < 0.5
  if (Array.isArray(value)) {
    const key = keys[keys.length - 1] ?? ''
    const kept = key.endsWith('coords_lat_lng_deg')
      ? value
      : value.slice(0, Math.floor(random() * (value.length + 1)))
    return kept.map((item) => randomize(kind, item, random, keys))
  }
  if (value === null || typeof value !== 'object') return value
  const parent = keys[keys.length - 1] ?? ''
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    const required =
      key === 'metadata' || (parent === 'metadata' && REQUIRED_KEYS.has(key)) || parent === 'tags'
    const roll = random()
    if (!required && roll < 0.1) continue
    if (!required && roll < 0.2 && !parent.endsWith('_contributors')) {
      out[key] = null
      continue
    }
    out[key] = randomize(kind, child, random, [...keys, key])
  }
  return out
}

describe.skipIf(!schemas)('randomized records from the builders', () => {
  it('are accepted by both Terra and us (seeded, 300 records)', () => {
    const random = prng(20260307)
    const bases: { kind: Kind; record: unknown }[] = [
      { kind: 'sleep', record: makeSleep() },
      { kind: 'sleep', record: makeSleep({ data_enrichment: ENRICHMENT.sleep }) },
      { kind: 'activity', record: makeActivity() },
      { kind: 'activity', record: makeActivity({ data_enrichment: ENRICHMENT.activity }) },
      { kind: 'activity', record: poolSwim() },
      { kind: 'daily', record: makeDaily() },
      { kind: 'daily', record: makeDaily({ data_enrichment: ENRICHMENT.daily }) },
    ]
    const failures: unknown[] = []
    let nulls = 0
    for (let i = 0; i < 300; i++) {
      const base = bases[i % bases.length] as (typeof bases)[number]
      const record = randomize(base.kind, base.record, random)
      const json = JSON.stringify(record)
      nulls += json.split(':null').length - 1
      const terraResult = terra().validate(MODELS[base.kind].terra, record)
      const issues = zodIssues(base.kind, record)
      if (!terraResult.valid || issues.length > 0) {
        failures.push({
          i,
          kind: base.kind,
          terra: terraResult.errors.slice(0, 3),
          ours: issues.slice(0, 3),
        })
      }
    }
    expect(failures).toStrictEqual([])
    // The generator must actually vary things, or this test could not fail.
    expect(nulls).toBeGreaterThan(300)
  })
})

describe('zod error paths', () => {
  it('point at the offending field', () => {
    const issues = zodIssues('activity', setAt(makeActivity(), ['metadata', 'upload_type'], 9))
    expect(issues).toStrictEqual([
      expect.objectContaining({ code: 'invalid_value', path: ['metadata', 'upload_type'] }),
    ])
  })

  it('name the array index of a bad sample', () => {
    const record = setAt(
      makeSleep(),
      ['sleep_durations_data', 'hypnogram_samples', 3, 'level'],
      'DEEP',
    )
    expect(zodIssues('sleep', record).map((issue) => issue.path)).toStrictEqual([
      ['sleep_durations_data', 'hypnogram_samples', 3, 'level'],
    ])
  })

  it('report a missing metadata block at metadata', () => {
    expect(zodIssues('daily', {})).toStrictEqual([
      expect.objectContaining({ code: 'invalid_type', path: ['metadata'] }),
    ])
  })

  it('name an unknown key on its parent object', () => {
    const record = setAt(makeDaily(), ['calories_data', 'BMR'], 1698)
    expect(zodIssues('daily', record)).toStrictEqual([
      expect.objectContaining({
        code: 'unrecognized_keys',
        path: ['calories_data'],
        keys: ['BMR'],
      }),
    ])
  })
})

describe('our stricter rules (checked without Terra)', () => {
  it('require a summary_id on sleep', () => {
    expect(
      zodIssues('sleep', deleteAt(makeSleep(), ['metadata', 'summary_id'])).map((i) => i.path),
    ).toStrictEqual([['metadata', 'summary_id']])
  })

  it('require an offset on every timestamp', () => {
    expect(Timestamp.safeParse('2022-11-23T09:00:00.000000+02:00').success).toBe(true)
    expect(Timestamp.safeParse('2022-11-23T09:00:00+02:00').success).toBe(true)
    expect(Timestamp.safeParse('2022-11-23T07:00:00Z').success).toBe(true)
    expect(Timestamp.safeParse('2022-11-23T09:00:00.000000').success).toBe(false)
    expect(Timestamp.safeParse('2022-11-23').success).toBe(false)
    const record = setAt(
      makeActivity(),
      ['heart_rate_data', 'detailed', 'hr_samples', 0, 'timestamp'],
      '2026-03-07T07:30:00',
    )
    expect(zodIssues('activity', record).map((i) => i.path)).toStrictEqual([
      ['heart_rate_data', 'detailed', 'hr_samples', 0, 'timestamp'],
    ])
  })

  it('require a daily to start at local midnight', () => {
    const record = setAt(makeDaily(), ['metadata', 'start_time'], '2026-03-07T05:00:00.000000Z')
    expect(zodIssues('daily', record)).toStrictEqual([
      expect.objectContaining({
        path: ['metadata', 'start_time'],
        message: 'must be a local midnight (time part 00:00:00)',
      }),
    ])
    expect(isLocalMidnight('2026-03-07T00:00:00.000000+14:00')).toBe(true)
    expect(isLocalMidnight('2026-03-07T00:00:00Z')).toBe(true)
    expect(isLocalMidnight('2026-03-07T00:00:01.000000-05:00')).toBe(false)
  })

  it('compare start and end at microsecond precision, across offsets', () => {
    expect(
      epochMicros('2026-03-08T04:12:00.000001Z') - epochMicros('2026-03-07T23:12:00.000000-05:00'),
    ).toBe(1)
    expect(Number.isNaN(epochMicros('not a time'))).toBe(true)
  })
})

describe('stripSamples', () => {
  it('leaves out every samples array at any depth and keeps everything else', () => {
    const sleep = makeSleep()
    const stripped = stripSamples(sleep)
    expect(stripped.heart_rate_data).toStrictEqual({
      summary: sleep.heart_rate_data?.summary,
      detailed: {},
    })
    expect(stripped.respiration_data?.breaths_data).not.toHaveProperty('samples')
    expect(stripped.sleep_durations_data).not.toHaveProperty('hypnogram_samples')
    expect(stripped.sleep_durations_data?.asleep).toStrictEqual(sleep.sleep_durations_data?.asleep)
    expect(stripped.metadata).toStrictEqual(sleep.metadata)
  })

  it('finds no samples key left in any fixture, and the result is still a valid record', () => {
    const hasSamples = (value: unknown): boolean =>
      Array.isArray(value)
        ? value.some(hasSamples)
        : value !== null &&
          typeof value === 'object' &&
          Object.entries(value).some(([key, child]) => key.includes('samples') || hasSamples(child))
    for (const kind of KINDS) {
      const record = MODELS[kind].make()
      expect(hasSamples(record)).toBe(true)
      const stripped = stripSamples(record)
      expect(hasSamples(stripped)).toBe(false)
      expect(zodIssues(kind, stripped)).toStrictEqual([])
    }
    const activity = stripSamples(makeActivity())
    expect(activity.lap_data?.laps).toHaveLength(9)
    expect(activity.heart_rate_data?.summary?.hr_zone_data).toHaveLength(6)
    expect(activity.position_data?.start_pos_lat_lng_deg).toStrictEqual(
      makeActivity().position_data?.start_pos_lat_lng_deg,
    )
  })

  it('drops a samples key holding null, and copies rather than mutates', () => {
    const record = makeDaily({ stress_data: { samples: null } })
    const stripped = stripSamples(record)
    expect(stripped.stress_data).not.toHaveProperty('samples')
    expect(record.stress_data).toHaveProperty('samples', null)
    expect(record.heart_rate_data?.detailed?.hr_samples).toHaveLength(24)
    expect(stripped.device_data).not.toBe(record.device_data)
    expect(stripped.device_data).toStrictEqual(record.device_data)
  })
})

describe('recordKey', () => {
  it('is the summary_id for sleep and activity', () => {
    expect(recordKey('sleep', makeSleep())).toBe('slp_20260307_2312')
    expect(recordKey('activity', makeActivity())).toBe('act_20260307_0730')
  })

  it('is the local date of start_time for daily, before any time-zone conversion', () => {
    expect(recordKey('daily', makeDaily())).toBe('2026-03-07')
    const east = makeDaily({
      metadata: {
        start_time: '2026-03-07T00:00:00.000000+14:00',
        end_time: '2026-03-08T00:00:00.000000+14:00',
      },
    })
    expect(recordKey('daily', east)).toBe('2026-03-07')
  })
})
