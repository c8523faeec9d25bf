import { describe, expect, it } from 'vitest'
import { DATA_RECORD_SCHEMAS, stripSamples } from '../../src/data/models/index.ts'
import {
  BEGIN_MARKER,
  END_MARKER,
  generateModelComponents,
  updateModelsSection,
} from '../../src/docs/generate-models.ts'
import { makeActivity, makeDaily, makeSleep } from '../fixtures/records.ts'
import { read } from '../helpers/app.ts'
import { spec, validatorFor } from '../helpers/openapi.ts'

/*
 * openapi.yaml's record schemas are generated from the zod models (src/docs/generate-models.ts,
 * `npm run openapi:models`). These tests regenerate them in memory: the file must hold exactly
 * that, and the schemas must accept and refuse the same records as the models.
 */

const file = read('openapi.yaml')

/** The generated section of `text`, markers included. */
function section(text: string): string {
  const lines = text.split('\n')
  const begin = lines.findIndex((line) => line.trimStart().startsWith(BEGIN_MARKER))
  const end = lines.findIndex((line) => line.trim() === END_MARKER)
  return lines.slice(begin, end + 1).join('\n')
}

describe('the generated models in openapi.yaml', () => {
  it('are up to date with src/data/models (else: npm run openapi:models)', () => {
    expect(section(file), 'run `npm run openapi:models` and commit openapi.yaml').toBe(
      section(updateModelsSection(file)),
    )
    expect(updateModelsSection(file)).toBe(file)
  })

  it('are the only part of the file the generator rewrites', () => {
    const stale = file.replace(
      section(file),
      `    ${BEGIN_MARKER}\n    Stale:\n      type: object\n    ${END_MARKER}`,
    )
    expect(stale).not.toBe(file)
    expect(updateModelsSection(stale)).toBe(file)
  })

  it('refuses a file without exactly one pair of markers', () => {
    expect(() => updateModelsSection(file.replace(END_MARKER, '# the end'))).toThrow(
      /markers|needs/,
    )
    expect(() => updateModelsSection(`${file}\n    ${BEGIN_MARKER}\n`)).toThrow(/needs/)
  })

  it('open with Sleep, Activity and Daily, and name every part they use', () => {
    const components = generateModelComponents()
    expect(Object.keys(components).slice(0, 3)).toStrictEqual(['Sleep', 'Activity', 'Daily'])
    const schemas = spec.components.schemas as Record<string, unknown>
    for (const name of Object.keys(components)) expect(schemas[name], name).toBeDefined()
    expect(components.SleepUploadType).toMatchObject({ type: 'integer', enum: [0, 1, 2, 3, 4] })
    expect(components.SleepUploadType?.description).toContain('`1` MANUAL, `2` AUTOMATIC')
    expect(components.UploadType?.description).toContain('`1` AUTOMATIC, `2` MANUAL')
  })
})

type Json = Record<string, unknown>

/** A copy of `record` with the value at `path` (dot-separated) set, or removed when `undefined`. */
function withValue(record: unknown, path: string, value: unknown): Json {
  const copy = structuredClone(record) as Json
  const keys = path.split('.')
  let node: Json = copy
  for (const key of keys.slice(0, -1)) node = node[key] as Json
  const last = keys.at(-1) as string
  if (value === undefined) delete node[last]
  else node[last] = value
  return copy
}

const RECORDS = {
  sleep: makeSleep(),
  activity: makeActivity(),
  daily: makeDaily(),
}

/** Records both the zod model and the generated schema must accept. */
const VALID: [string, keyof typeof RECORDS, unknown][] = [
  ...Object.entries(RECORDS).flatMap(([type, record]) => [
    [`a full ${type} record`, type, record] as [string, keyof typeof RECORDS, unknown],
    [`a ${type} record without samples`, type, stripSamples(record)] as [
      string,
      keyof typeof RECORDS,
      unknown,
    ],
    [`${type} with only metadata`, type, { metadata: record.metadata }] as [
      string,
      keyof typeof RECORDS,
      unknown,
    ],
    [`${type} with a null block`, type, withValue(record, 'heart_rate_data', null)] as [
      string,
      keyof typeof RECORDS,
      unknown,
    ],
  ]),
  ['activity type 0 (IN_VEHICLE)', 'activity', withValue(RECORDS.activity, 'metadata.type', 0)],
  [
    'a timestamp in UTC with Z',
    'sleep',
    withValue(RECORDS.sleep, 'device_data.last_upload_date', '2026-03-08T12:11:00Z'),
  ],
]

/** Records both must refuse. */
const INVALID: [string, keyof typeof RECORDS, unknown][] = [
  ['no metadata', 'sleep', withValue(RECORDS.sleep, 'metadata', undefined)],
  ['an unknown upload_type', 'sleep', withValue(RECORDS.sleep, 'metadata.upload_type', 9)],
  [
    'an activity type that does not exist',
    'activity',
    withValue(RECORDS.activity, 'metadata.type', 2),
  ],
  ['no summary_id', 'activity', withValue(RECORDS.activity, 'metadata.summary_id', undefined)],
  ['an empty summary_id', 'sleep', withValue(RECORDS.sleep, 'metadata.summary_id', '')],
  ['an unknown top-level field', 'daily', withValue(RECORDS.daily, 'steps', 1200)],
  [
    'a misspelled nested field',
    'sleep',
    withValue(RECORDS.sleep, 'heart_rate_data.summary.avg_hr', 55),
  ],
  [
    'a string for a number',
    'activity',
    withValue(RECORDS.activity, 'heart_rate_data.summary.avg_hr_bpm', '159'),
  ],
  [
    'a negative heart rate',
    'daily',
    withValue(RECORDS.daily, 'heart_rate_data.summary.min_hr_bpm', -1),
  ],
  [
    'a timestamp without an offset',
    'sleep',
    withValue(RECORDS.sleep, 'metadata.start_time', '2026-03-07T23:12:00.000000'),
  ],
  [
    'a daily start_time that is not a local midnight',
    'daily',
    withValue(RECORDS.daily, 'metadata.start_time', '2026-03-07T06:00:00.000000-05:00'),
  ],
  [
    'a position that is not a pair',
    'activity',
    withValue(RECORDS.activity, 'position_data.position_samples', [
      { coords_lat_lng_deg: [4.6, -74.06, 2600] },
    ]),
  ],
  [
    'a percentage over 100',
    'sleep',
    withValue(RECORDS.sleep, 'sleep_durations_data.sleep_efficiency', 101),
  ],
  [
    'a string enum value that does not exist',
    'sleep',
    withValue(RECORDS.sleep, 'device_data.data_provided', ['STEP']),
  ],
]

const COMPONENT = { sleep: 'Sleep', activity: 'Activity', daily: 'Daily' } as const

describe('the generated schemas and the zod models agree', () => {
  it.each(VALID)('both accept %s', (_, type, record) => {
    expect(DATA_RECORD_SCHEMAS[type].safeParse(record).success).toBe(true)
    const validate = validatorFor(`#/components/schemas/${COMPONENT[type]}`)
    expect(validate(record), JSON.stringify(validate.errors)).toBe(true)
  })

  it.each(INVALID)('both refuse %s', (_, type, record) => {
    expect(DATA_RECORD_SCHEMAS[type].safeParse(record).success).toBe(false)
    expect(validatorFor(`#/components/schemas/${COMPONENT[type]}`)(record)).toBe(false)
  })

  it('differ only where JSON Schema cannot follow: an end before the start (described instead)', () => {
    const reversed = withValue(
      RECORDS.sleep,
      'metadata.end_time',
      '2026-03-07T22:00:00.000000-05:00',
    )
    expect(DATA_RECORD_SCHEMAS.sleep.safeParse(reversed).success).toBe(false)
    expect(validatorFor('#/components/schemas/Sleep')(reversed)).toBe(true)
    const metadata = generateModelComponents().SleepMetadata as {
      properties: { end_time: { description: string } }
    }
    expect(metadata.properties.end_time.description).toBe('Not before `start_time`.')
  })
})
