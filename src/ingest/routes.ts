import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { z } from 'zod'
import { readJsonBody } from '../admin/json-body.ts'
import { formatTerraTimestamp, localDay, localMidnight, timestampToMs } from '../data/date-range.ts'
import {
  DATA_RECORD_SCHEMAS,
  type DataType,
  recordKey,
  stripSamples,
} from '../data/models/index.ts'
import {
  deleteRecord,
  type PreparedRecord,
  type UpsertCounts,
  upsertRecords,
} from '../data/store.ts'
import { users } from '../db/schema.ts'
import type { AppEnv, Deps } from '../http/env.ts'
import { fieldErrors, Problem, type ProblemFieldError } from '../http/errors.ts'
import { kickNotifier } from '../notify/kick.ts'

/** Contract limits for one ingest request. */
export const MAX_INGEST_RECORDS = 1000
export const MAX_INGEST_BYTES = 10 * 1024 * 1024

const DataTypeParam = z.enum(['sleep', 'activity', 'daily'])
const Envelope = z.strictObject({ data: z.array(z.unknown()) })

async function loadUser(c: { var: AppEnv['Variables'] }, userId: string) {
  const user = await c.var.deps.db.select().from(users).where(eq(users.id, userId)).get()
  if (!user) throw new Problem(404, 'Not Found', `There is no user ${userId}.`)
  return user
}

function parseType(value: string): DataType {
  const parsed = DataTypeParam.safeParse(value)
  if (!parsed.success) {
    throw new Problem(
      404,
      'Not Found',
      `There is no data type "${value}"; use sleep, activity or daily.`,
    )
  }
  return parsed.data
}

/**
 * Validates every record (all-or-nothing) and serialises each once, with and without samples.
 * Returns the prepared batch or the list of every problem found.
 */
export function prepareBatch(
  type: DataType,
  items: unknown[],
  timezone: string,
): { ok: true; records: PreparedRecord[] } | { ok: false; errors: ProblemFieldError[] } {
  const schema = DATA_RECORD_SCHEMAS[type]
  const errors: ProblemFieldError[] = []
  const prepared: PreparedRecord[] = []
  const seen = new Map<string, number>()
  items.forEach((item, index) => {
    const result = schema.safeParse(item)
    if (!result.success) {
      for (const e of fieldErrors(result.error)) errors.push({ index, ...e })
      return
    }
    const record = result.data
    const key = recordKey(type, record as never)
    const first = seen.get(key)
    if (first !== undefined) {
      errors.push({
        index,
        path: type === 'daily' ? 'metadata.start_time' : 'metadata.summary_id',
        message: `has the same key (${key}) as the record at index ${first}; send one version per record`,
      })
      return
    }
    seen.set(key, index)
    const startMs = timestampToMs(record.metadata.start_time)
    // A daily is keyed by the date of its start_time and found by ranges through the instant, so
    // the two must agree: its start must be local midnight in the user's zone.
    if (type === 'daily' && startMs !== localMidnight(key, timezone)) {
      const expected = formatTerraTimestamp(localMidnight(key, timezone), timezone)
      errors.push({
        index,
        path: 'metadata.start_time',
        message: `must be local midnight of ${key} in the user's time zone ${timezone}, i.e. ${expected}`,
      })
      return
    }
    prepared.push({
      key,
      startMs,
      localDay: type === 'daily' ? key : localDay(startMs, timezone),
      bodyFull: JSON.stringify(record),
      bodyLite: JSON.stringify(stripSamples(record)),
    })
  })
  return errors.length > 0 ? { ok: false, errors } : { ok: true, records: prepared }
}

/** The provider's back end feeds device syncs in (under the admin key, mounted at /admin/v1). */
export const ingestRoutes = new Hono<AppEnv>()

ingestRoutes.put('/users/:userId/:type', async (c) => {
  const type = parseType(c.req.param('type'))
  const user = await loadUser(c, c.req.param('userId'))
  const body = await readJsonBody(c, Envelope, { maxBytes: MAX_INGEST_BYTES, what: 'ingest body' })
  if (body.data.length > MAX_INGEST_RECORDS) {
    throw new Problem(
      413,
      'Content Too Large',
      `A request may carry at most ${MAX_INGEST_RECORDS} records; this one has ${body.data.length}. Split it.`,
    )
  }
  return c.json(await ingestRecords(c.var.deps, user, type, body.data))
})

export type IngestCounts = UpsertCounts & { received: number }

/**
 * Validates a batch for one user and type (all-or-nothing: 422 listing every problem), upserts
 * it with its outbox rows in one transaction, then wakes the notifier. The ingest endpoint and
 * the mock provider's sync both come through here.
 */
export async function ingestRecords(
  deps: Deps,
  user: { id: string; timezone: string },
  type: DataType,
  items: unknown[],
): Promise<IngestCounts> {
  const batch = prepareBatch(type, items, user.timezone)
  if (!batch.ok) {
    deps.metrics?.ingested(type, { rejected: items.length })
    throw new Problem(
      422,
      'Unprocessable Content',
      'Some records do not follow the model; nothing was stored.',
      {
        errors: batch.errors,
      },
    )
  }
  const counts = await upsertRecords(deps.db, user.id, type, batch.records, deps.now())
  deps.metrics?.ingested(type, {
    inserted: counts.inserted,
    updated: counts.updated,
    unchanged: counts.unchanged,
  })
  // After the commit: the outbox rows are durable, the notifier picks them up now.
  if (counts.events > 0) kickNotifier(deps)
  return { received: items.length, ...counts }
}

ingestRoutes.delete('/users/:userId/:type/:key', async (c) => {
  const type = parseType(c.req.param('type'))
  const user = await loadUser(c, c.req.param('userId'))
  const key = c.req.param('key')
  const { deps } = c.var
  if (!(await deleteRecord(deps.db, user.id, type, key, deps.now()))) {
    throw new Problem(404, 'Not Found', `User ${user.id} has no ${type} record ${key}.`)
  }
  kickNotifier(deps)
  return c.body(null, 204)
})
