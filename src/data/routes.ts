import { eq } from 'drizzle-orm'
import type { Context } from 'hono'
import { Hono } from 'hono'
import { z } from 'zod'
import type { Scope } from '../config.ts'
import { users } from '../db/schema.ts'
import { Problem, parseOrProblem } from '../http/errors.ts'
import { repeatedQueryParam } from '../http/form.ts'
import { type DataEnv, requireBearer, requireScope } from './bearer.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'
import { parseDateRange, parseInstant } from './date-range.ts'
import type { DataType } from './models/index.ts'
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
  const user = await db
    .select({ timezone: users.timezone })
    .from(users)
    .where(eq(users.id, userId))
    .get()
  if (!user) throw new Problem(404, 'Not Found', 'The user no longer exists.')
  const cursor = query.next_token
    ? await decodeCursor(db, query.next_token, { type, userId })
    : null

  let data: string[]
  let deleted: string[] | null = null
  let next: string | null = null
  if (cursor?.m === 'changes' || (!cursor && query.updated_since !== undefined)) {
    const sinceMs =
      cursor?.m === 'changes'
        ? cursor.since
        : parseInstant(query.updated_since as string, 'updated_since')
    const afterSeq = cursor?.m === 'changes' ? cursor.q : 0
    const rows = await changesSince(db, {
      userId,
      type,
      sinceMs,
      afterSeq,
      limit: query.limit,
      withSamples,
    })
    const page = rows.slice(0, query.limit)
    data = page.filter((r) => r.deletedAt === null && r.body !== null).map((r) => r.body as string)
    deleted = page.filter((r) => r.deletedAt !== null).map((r) => r.key)
    const last = page.at(-1)
    if (rows.length > query.limit && last) {
      next = await encodeCursor(db, {
        m: 'changes',
        t: type,
        u: userId,
        since: sinceMs,
        q: last.seq,
      })
    }
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
    const after = cursor?.m === 'range' ? { startMs: cursor.a, key: cursor.k } : null
    const rows = await recordsInRange(db, {
      userId,
      type,
      startMs,
      endMs,
      after,
      limit: query.limit,
      withSamples,
    })
    const page = rows.slice(0, query.limit)
    data = page.map((r) => r.body as string)
    const last = page.at(-1)
    if (rows.length > query.limit && last) {
      next = await encodeCursor(db, {
        m: 'range',
        t: type,
        u: userId,
        s: startMs,
        e: endMs,
        a: last.startMs,
        k: last.key,
      })
    }
  }

  // Assembled from the stored JSON strings: no record is parsed or re-serialised on the way out.
  const head = JSON.stringify({ user: { user_id: userId, provider: config.providerSlug }, type })
  const tail = `${deleted ? `,"deleted":${JSON.stringify(deleted)}` : ''},"next_token":${JSON.stringify(next)}}`
  return c.body(`${head.slice(0, -1)},"data":[${data.join(',')}]${tail}`, 200, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
  })
}
