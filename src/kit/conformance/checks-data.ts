import type { z } from 'zod'
import { DATA_RECORD_SCHEMAS, type DataType } from '../../data/models/index.ts'
import type { Check } from './check.ts'
import { TOKEN } from './checks-oauth.ts'
import { DATA_TYPES, type KitContext, SCOPE_OF } from './context.ts'
import { bodySummary, expect, fail, firstDifference, isRecord, listSome } from './util.ts'

/*
 * The data API as Terra pulls it: every type over the kit's range (the last 30 days), page by
 * page with a small `limit`, with and without samples, every record checked against the models,
 * and `/v1/user`.
 */

export const USER = 'data: user'
export const pagination = (type: DataType) => `data: ${type} pagination`
export const samples = (type: DataType) => `data: ${type} with_samples`
export const schema = (type: DataType) => `data: ${type} schema`

/** How a record is known: `summary_id`, or the local date of a daily. */
export function recordLabel(type: DataType, record: unknown): string {
  const metadata = isRecord(record) && isRecord(record.metadata) ? record.metadata : {}
  if (type === 'daily') {
    return typeof metadata.start_time === 'string'
      ? `daily ${metadata.start_time.slice(0, 10)}`
      : 'daily (no metadata.start_time)'
  }
  return typeof metadata.summary_id === 'string'
    ? `${type} ${metadata.summary_id}`
    : `${type} (no metadata.summary_id)`
}

function identity(type: DataType, record: unknown): string {
  const label = recordLabel(type, record)
  return label.includes('(no ') ? JSON.stringify(record) : label
}

interface Pulled {
  records: unknown[]
  pages: number
}

/** Fetches every page of a type over the kit's range, checking each page's envelope. */
async function pullAll(
  ctx: KitContext,
  type: DataType,
  options: { limit: number; withSamples: boolean },
): Promise<Pulled> {
  const tokens = ctx.tokens ?? fail('no tokens')
  const base = new URLSearchParams({
    start_date: ctx.range.start,
    end_date: ctx.range.end,
    limit: String(options.limit),
    with_samples: String(options.withSamples),
  })
  const records: unknown[] = []
  let nextToken: string | null = null
  let pages = 0
  do {
    const query = new URLSearchParams(base)
    if (nextToken !== null) query.set('next_token', nextToken)
    const path = `/v1/${type}?${query}`
    const response = await ctx.bearer(path)
    const text = await response.text()
    const where = `GET /v1/${type} (page ${pages + 1}, limit ${options.limit}, with_samples=${options.withSamples})`
    if (response.status !== 200) fail(`${where} answered ${response.status}: ${bodySummary(text)}`)
    const contentType = response.headers.get('content-type') ?? ''
    expect(/^application\/json\b/i.test(contentType), `${where}: Content-Type is ${contentType}`)
    for (const header of ['ratelimit-policy', 'ratelimit']) {
      expect(response.headers.has(header), `${where}: no ${header} header`)
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      fail(`${where}: the body is not JSON`)
    }
    expect(isRecord(body), `${where}: the body is not a JSON object`)
    expect(body.type === type, `${where}: type is ${JSON.stringify(body.type)}`)
    expect(isRecord(body.user), `${where}: no user object`)
    expect(
      body.user.user_id === tokens.userId,
      `${where}: user.user_id is ${JSON.stringify(body.user.user_id)}, the token's user is ${tokens.userId}`,
    )
    expect(
      typeof body.user.provider === 'string' && body.user.provider !== '',
      `${where}: no user.provider`,
    )
    expect(Array.isArray(body.data), `${where}: data is not an array`)
    expect(
      body.data.length <= options.limit,
      `${where}: ${body.data.length} records, more than limit=${options.limit}`,
    )
    expect(
      body.next_token === null || (typeof body.next_token === 'string' && body.next_token !== ''),
      `${where}: next_token is ${JSON.stringify(body.next_token)}, not a string or null`,
    )
    records.push(...body.data)
    nextToken = body.next_token as string | null
    pages += 1
    expect(pages < 2000, `GET /v1/${type}: still a next_token after 2000 pages`)
  } while (nextToken !== null)
  return { records, pages }
}

function outOfRange(ctx: KitContext, type: DataType, records: unknown[]): string[] {
  const problems: string[] = []
  for (const record of records) {
    const metadata = isRecord(record) && isRecord(record.metadata) ? record.metadata : {}
    const start = typeof metadata.start_time === 'string' ? Date.parse(metadata.start_time) : NaN
    if (Number.isNaN(start)) {
      problems.push(`${recordLabel(type, record)} has no parseable metadata.start_time`)
    } else if (start < ctx.range.startMs || start >= ctx.range.endMs) {
      problems.push(
        `${recordLabel(type, record)} starts at ${metadata.start_time as string}, outside [${ctx.range.start}, ${ctx.range.end})`,
      )
    }
  }
  return problems
}

function duplicates(type: DataType, records: unknown[]): string[] {
  const seen = new Map<string, number>()
  for (const record of records) {
    const id = identity(type, record)
    seen.set(id, (seen.get(id) ?? 0) + 1)
  }
  return [...seen].filter(([, n]) => n > 1).map(([id, n]) => `${id.slice(0, 80)} ×${n}`)
}

function requireScope(ctx: KitContext, type: DataType): void {
  const scope = SCOPE_OF[type]
  expect(ctx.tokens?.scopes.includes(scope), `the token lacks ${scope}`)
}

function paginationCheck(type: DataType): Check {
  return {
    name: pagination(type),
    needs: [TOKEN],
    async run(ctx) {
      requireScope(ctx, type)
      const paged = await pullAll(ctx, type, { limit: ctx.pageSize, withSamples: false })
      const dupes = duplicates(type, paged.records)
      expect(dupes.length === 0, `records repeated across pages: ${listSome(dupes)}`)
      const outside = outOfRange(ctx, type, paged.records)
      expect(outside.length === 0, listSome(outside))
      const whole = await pullAll(ctx, type, { limit: 500, withSamples: false })
      const pagedIds = paged.records.map((r) => identity(type, r)).sort()
      const wholeIds = whole.records.map((r) => identity(type, r)).sort()
      if (pagedIds.join('\n') !== wholeIds.join('\n')) {
        const missing = wholeIds.filter((id) => !pagedIds.includes(id))
        const extra = pagedIds.filter((id) => !wholeIds.includes(id))
        fail(
          `pages of ${ctx.pageSize} gave ${pagedIds.length} records, limit=500 gave ${wholeIds.length}` +
            (missing.length > 0 ? `; missing from the pages: ${listSome(missing)}` : '') +
            (extra.length > 0 ? `; only in the pages: ${listSome(extra)}` : ''),
        )
      }
      ctx.data[type] = { records: whole.records }
      if (paged.records.length === 0) {
        return `no records between ${ctx.range.start} and ${ctx.range.end}: pagination not exercised`
      }
      const pages = paged.pages === 1 ? '1 page' : `${paged.pages} pages`
      return `${paged.records.length} records in ${pages} of ≤${ctx.pageSize}, same as with limit=500`
    },
  }
}

/** Paths of the array fields whose name contains `samples`. */
function samplePaths(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => samplePaths(v, `${path}[${i}]`))
  if (!isRecord(value)) return []
  return Object.entries(value).flatMap(([key, child]) => {
    const at = path ? `${path}.${key}` : key
    if (key.includes('samples') && Array.isArray(child)) return [at]
    return samplePaths(child, at)
  })
}

/** A record without its `*samples*` fields (arrays or null), as `with_samples=false` must give. */
function stripSamples(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSamples)
  if (!isRecord(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    if (key.includes('samples') && (child === null || Array.isArray(child))) continue
    out[key] = stripSamples(child)
  }
  return out
}

function samplesCheck(type: DataType): Check {
  return {
    name: samples(type),
    needs: [pagination(type)],
    async run(ctx) {
      const without = ctx.data[type]?.records ?? fail('no records')
      const leaked = without.flatMap((r) =>
        samplePaths(r).map((p) => `${recordLabel(type, r)}: ${p}`),
      )
      expect(leaked.length === 0, `sample arrays without with_samples=true: ${listSome(leaked)}`)
      const withSamples = (await pullAll(ctx, type, { limit: 500, withSamples: true })).records
      const a = without.map((r) => identity(type, r))
      const b = withSamples.map((r) => identity(type, r))
      expect(
        a.join('\n') === b.join('\n'),
        `with_samples=true gave ${b.length} records, without ${a.length}, or in another order`,
      )
      const differing: string[] = []
      let carrying = 0
      withSamples.forEach((record, i) => {
        if (samplePaths(record).length > 0) carrying += 1
        const difference = firstDifference(stripSamples(record), stripSamples(without[i]))
        if (difference !== null) differing.push(`${recordLabel(type, record)} at ${difference}`)
      })
      expect(
        differing.length === 0,
        `records differ beyond their samples between with_samples=true and false: ${listSome(differing)}`,
      )
      const data = ctx.data[type]
      if (data) data.withSamples = withSamples
      if (withSamples.length === 0) return 'no records in range'
      return carrying === 0
        ? `${withSamples.length} records, none with samples (with_samples=true could not be told apart)`
        : `${carrying} of ${withSamples.length} records carry samples with with_samples=true, none without`
    },
  }
}

function issueText(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.')
  return `${path || '(record)'}: ${issue.message}`
}

function schemaCheck(type: DataType): Check {
  return {
    name: schema(type),
    needs: [pagination(type)],
    async run(ctx) {
      const data = ctx.data[type] ?? fail('no records')
      const model = DATA_RECORD_SCHEMAS[type]
      const invalid: string[] = []
      const sets: [string, unknown[]][] = [['', data.records]]
      if (data.withSamples) sets.push([' (with samples)', data.withSamples])
      const reported = new Set<string>()
      for (const [variant, records] of sets) {
        for (const record of records) {
          const label = recordLabel(type, record)
          if (reported.has(label)) continue
          const result = model.safeParse(record)
          if (!result.success) {
            reported.add(label)
            const issues = result.error.issues
            const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : ''
            invalid.push(`${label}${variant}: ${issueText(issues[0] as z.core.$ZodIssue)}${more}`)
          }
        }
      }
      expect(
        invalid.length === 0,
        `${invalid.length} record(s) break the ${type} model: ${listSome(invalid)}`,
      )
      const total = data.records.length + (data.withSamples?.length ?? 0)
      return `${total} records valid${data.withSamples ? ' (with and without samples)' : ''}`
    },
  }
}

const user: Check = {
  name: USER,
  needs: [TOKEN],
  async run(ctx) {
    const tokens = ctx.tokens ?? fail('no tokens')
    const response = await ctx.bearer('/v1/user')
    const text = await response.text()
    if (response.status !== 200)
      fail(`GET /v1/user answered ${response.status}: ${bodySummary(text)}`)
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      fail('GET /v1/user: the body is not JSON')
    }
    expect(isRecord(body), 'GET /v1/user: not a JSON object')
    expect(
      body.user_id === tokens.userId,
      `user_id is ${JSON.stringify(body.user_id)}, the token's is ${tokens.userId}`,
    )
    expect(
      typeof body.provider === 'string' && /^[A-Z0-9_]+$/.test(body.provider),
      `provider ${JSON.stringify(body.provider)} is not an uppercase name`,
    )
    expect(typeof body.timezone === 'string', 'no timezone')
    try {
      new Intl.DateTimeFormat('en', { timeZone: body.timezone })
    } catch {
      fail(`timezone ${JSON.stringify(body.timezone)} is not an IANA time zone`)
    }
    expect(Array.isArray(body.scopes), 'scopes is not an array')
    const scopes = [...body.scopes].sort().join(' ')
    expect(
      scopes === [...tokens.scopes].sort().join(' '),
      `scopes ${JSON.stringify(body.scopes)} differ from the token's "${tokens.scopes.join(' ')}"`,
    )
    expect(
      typeof body.created_at === 'string' && !Number.isNaN(Date.parse(body.created_at)),
      `created_at ${JSON.stringify(body.created_at)} is not a date-time`,
    )
    if (tokens.scopes.includes('profile:read')) {
      expect(
        typeof body.email === 'string' &&
          body.email.toLowerCase() === ctx.options.user.toLowerCase(),
        `with profile:read, email is ${JSON.stringify(body.email)}, not ${ctx.options.user}`,
      )
      expect('display_name' in body, 'with profile:read, no display_name')
    }
    return `${body.provider} user ${tokens.userId} in ${body.timezone}`
  },
}

export const dataChecks: Check[] = [
  user,
  ...DATA_TYPES.flatMap((type) => [paginationCheck(type), samplesCheck(type), schemaCheck(type)]),
]
