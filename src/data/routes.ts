import { eq, sql } from 'drizzle-orm'
import type { Context } from 'hono'
import { Hono } from 'hono'
import { z } from 'zod'
import type { Scope } from '../config.ts'
import { prepared } from '../db/index.ts'
import { users } from '../db/schema.ts'
import { Problem, parseOrProblem } from '../http/errors.ts'
import { repeatedQueryParam } from '../http/form.ts'
import { type DataEnv, requireBearer, requireScope } from './bearer.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'
import { parseDateRange, parseInstant } from './date-range.ts'
import type { DataType } from './models/index.ts'
import { pageBody } from './page.ts'
import type { RateLimiter } from './rate-limit.ts'
import { changesSince, recordsInRange } from './store.ts'

const SCOPE_OF: Record<DataType, Scope> = {
  sleep: 'sleep:read',
  activity: 'activity:read',
  daily: 'daily:read',
}

const QUERY_PARAMS = [
  'start_date',
  'end_date',
  'with_samples',
  'limit',
  'next_token',
  'updated_since',
]

const PullQuery = z.object({
  start_date: z.string().optional(),
  end_date: z.string().optional(),
  with_samples: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  limit: z
    .string()
    .regex(/^\d+$/, 'must be an integer from 1 to 500')
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, 'must be an integer from 1 to 500')
        .max(500, 'must be an integer from 1 to 500'),
    )
    .default(100),
  next_token: z.string().optional(),
  updated_since: z.string().optional(),
})

/**
 * IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers): one policy per client and one per
 * (client, user); 429 with Retry-After when either is spent.
 */
async function applyRateLimits(c: Context<DataEnv>, limiter: RateLimiter) {
  const { config, now } = c.var.deps
  const { clientId, userId } = c.var.principal
  const at = now()
  const client = await limiter.hit(`client:${clientId}`, config.rateLimitClientPerMinute, 60, at)
  const user = await limiter.hit(
    `user:${clientId}:${userId}`,
    config.rateLimitUserPerMinute,
    60,
    at,
  )
  const headers = {
    'ratelimit-policy': `"client";q=${client.limit};w=60, "user";q=${user.limit};w=60`,
    ratelimit: `"client";r=${client.remaining};t=${client.resetSeconds}, "user";r=${user.remaining};t=${user.resetSeconds}`,
  }
  const spent = [client, user].filter((s) => !s.allowed)
  if (spent.length > 0) {
    const retryAfter = Math.max(...spent.map((s) => s.resetSeconds))
    throw new Problem(429, 'Too Many Requests', `Rate limit reached; retry in ${retryAfter} s.`, {
      headers: { ...headers, 'retry-after': String(retryAfter) },
    })
  }
  return headers
}

/** The pull API Terra calls with a user's access token. */
export function dataRoutes(limiter: RateLimiter) {
  const routes = new Hono<DataEnv>()
  routes.use('/v1/*', requireBearer)
  routes.use('/v1/*', async (c, next) => {
    const headers = await applyRateLimits(c, limiter)
    await next()
    // Set after the handler so that error responses (400, 403, rendered by onError) carry them too.
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value)
  })

  routes.get('/v1/user', async (c) => {
    const { principal } = c.var
    const user = await c.var.deps.db
      .select()
      .from(users)
      .where(eq(users.id, principal.userId))
      .get()
    if (!user) throw new Problem(404, 'Not Found', 'The user no longer exists.')
    const profile = principal.scopes.includes('profile:read')
    return c.json(
      {
        user_id: user.id,
        provider: c.var.deps.config.providerSlug,
        timezone: user.timezone,
        scopes: principal.scopes,
        created_at: new Date(user.createdAt).toISOString(),
        ...(profile ? { email: user.email, display_name: user.displayName } : {}),
      },
      200,
      { 'cache-control': 'no-store' },
    )
  })

  for (const type of ['sleep', 'activity', 'daily'] as const) {
    routes.get(`/v1/${type}`, async (c) => {
      requireScope(c, SCOPE_OF[type])
      return pull(c, type)
    })
  }
  return routes
}

async function pull(c: Context<DataEnv>, type: DataType): Promise<Response> {
  const { db, config, now } = c.var.deps
  const { userId } = c.var.principal
  const repeated = repeatedQueryParam(c.req.url, QUERY_PARAMS)
  if (repeated) {
    throw new Problem(400, 'Invalid request', `The parameter ${repeated} is repeated.`, {
      errors: [{ path: repeated, message: 'must appear at most once' }],
    })
  }
  const query = parseOrProblem(PullQuery, c.req.query(), 'query')
  if (
    query.updated_since !== undefined &&
    (query.start_date !== undefined || query.end_date !== undefined)
  ) {
    throw new Problem(
      400,
      'Invalid request',
      'Use either updated_since or a date range, not both.',
      {
        errors: [
          { path: 'updated_since', message: 'cannot be combined with start_date or end_date' },
        ],
      },
    )
  }
  const withSamples = query.with_samples === 'true'
  const user = await prepared(db, 'userTimezone', () =>
    db
      .select({ timezone: users.timezone })
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .prepare(),
  ).get({ id: userId })
  if (!user) throw new Problem(404, 'Not Found', 'The user no longer exists.')
  const cursor = query.next_token
    ? await decodeCursor(db, query.next_token, { type, userId })
    : null
  // Assembled from the stored JSON strings: no record is parsed or re-serialised on the way out.
  const head = JSON.stringify({
    user: { user_id: userId, provider: config.providerSlug },
    type,
  }).slice(0, -1)
  const common = {
    head,
    limit: query.limit,
    onError: (err: unknown) =>
      c.var.deps.log('error', {
        msg: 'page stream failed',
        request_id: c.var.requestId,
        error: String(err),
      }),
  }

  let body: string | ReadableStream<Uint8Array>
  if (cursor?.m === 'changes' || (!cursor && query.updated_since !== undefined)) {
    const sinceMs =
      cursor?.m === 'changes'
        ? cursor.since
        : parseInstant(query.updated_since as string, 'updated_since')
    type Change = Awaited<ReturnType<typeof changesSince>>[number]
    body = await pageBody<Change>(
      {
        fetch: (after, n) =>
          changesSince(db, {
            userId,
            type,
            sinceMs,
            afterSeq: after?.seq ?? 0,
            limit: n,
            withSamples,
          }),
        body: (row) => (row.deletedAt === null ? row.body : null),
        key: (row) => row.key,
        nextToken: (last) =>
          encodeCursor(db, { m: 'changes', t: type, u: userId, since: sinceMs, q: last.seq }),
      },
      {
        ...common,
        withDeleted: true,
        after:
          cursor?.m === 'changes' ? { seq: cursor.q, key: '', body: null, deletedAt: null } : null,
      },
    )
  } else {
    let startMs: number
    let endMs: number
    if (cursor?.m === 'range') {
      startMs = cursor.s
      endMs = cursor.e
    } else {
      if (query.start_date === undefined) {
        throw new Problem(
          400,
          'Invalid request',
          'start_date is required unless updated_since is given.',
          {
            errors: [
              {
                path: 'start_date',
                message: 'is required (YYYY-MM-DD, unix seconds or an RFC 3339 date-time)',
              },
            ],
          },
        )
      }
      ;({ startMs, endMs } = parseDateRange(query, user.timezone, now()))
    }
    type Row = Awaited<ReturnType<typeof recordsInRange>>[number]
    body = await pageBody<Row>(
      {
        fetch: (after, n) =>
          recordsInRange(db, { userId, type, startMs, endMs, after, limit: n, withSamples }),
        body: (row) => row.body,
        key: (row) => row.key,
        nextToken: (last) =>
          encodeCursor(db, {
            m: 'range',
            t: type,
            u: userId,
            s: startMs,
            e: endMs,
            a: last.startMs,
            k: last.key,
          }),
      },
      {
        ...common,
        withDeleted: false,
        after: cursor?.m === 'range' ? { startMs: cursor.a, key: cursor.k, body: null } : null,
      },
    )
  }
  return c.body(body, 200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
}
