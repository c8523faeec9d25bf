import { and, asc, eq, gt, sql } from 'drizzle-orm'
import type { MiddlewareHandler } from 'hono'
import { Hono } from 'hono'
import { z } from 'zod'
import { readJsonBody } from '../admin/json-body.ts'
import type { Db } from '../db/index.ts'
import { mockFaults } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { OAuthError, PageError, Problem } from '../http/errors.ts'

/**
 * Fault injection for the mock provider: the next `count` requests to a target fail with a
 * chosen status, or stall for `delay_ms` first. Kept in the database, not in memory, so that it
 * holds across processes and Workers isolates, and is consumed exactly `count` times.
 */
export const FAULT_TARGETS = ['data', 'token', 'authorize'] as const
export type FaultTarget = (typeof FAULT_TARGETS)[number]

const FaultBody = z
  .strictObject({
    target: z.enum(FAULT_TARGETS, { error: 'must be data, token or authorize' }),
    status: z
      .union([z.literal(429), z.literal(500), z.literal(502), z.literal(503), z.literal(504)], {
        error: 'must be 429, 500, 502, 503 or 504',
      })
      .optional(),
    count: z.number().int().min(1).max(10_000).default(1),
    delay_ms: z.number().int().min(0).max(60_000).default(0),
    retry_after: z.number().int().min(1).max(3600).default(1),
  })
  .refine((f) => f.status !== undefined || f.delay_ms > 0, {
    error: 'give a status to fail with, a delay_ms to stall for, or both',
    path: ['status'],
  })

const STATUS_TITLES: Record<number, string> = {
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

/** Takes one fault for `target`, if any is armed: decrements it atomically and returns it. */
async function takeFault(db: Db, target: FaultTarget) {
  const next = db
    .select({ id: mockFaults.id })
    .from(mockFaults)
    .where(and(eq(mockFaults.target, target), gt(mockFaults.remaining, 0)))
    .orderBy(asc(mockFaults.id))
    .limit(1)
  const [fault] = await db
    .update(mockFaults)
    .set({ remaining: sql`${mockFaults.remaining} - 1` })
    .where(and(eq(mockFaults.id, sql`(${next})`), gt(mockFaults.remaining, 0)))
    .returning()
    .all()
  return fault
}

/**
 * Applies armed faults to one target. Each target answers in its own error format: the data API
 * with problem+json, the token endpoint with an OAuth error, the authorization endpoint with a page.
 */
export function injectFaults(target: FaultTarget): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { config, db } = c.var.deps
    if (!config.mock) return next()
    const fault = await takeFault(db, target)
    if (!fault) return next()
    if (fault.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.delayMs))
    if (fault.status === null) return next()
    const headers: Record<string, string> =
      fault.status === 429 ? { 'retry-after': String(fault.retryAfter) } : {}
    const detail = `Injected fault (mock mode): ${target} answers ${fault.status}.`
    if (target === 'token') {
      const error = fault.status === 429 ? 'slow_down' : 'temporarily_unavailable'
      throw new OAuthError(error, detail, fault.status as 429 | 500 | 503, { headers })
    }
    if (target === 'authorize')
      throw new PageError(fault.status, 'Temporarily unavailable', detail, headers)
    throw new Problem(fault.status, STATUS_TITLES[fault.status] ?? 'Error', detail, {
      headers,
    })
  }
}

/** `/admin/v1/mock/faults`: arm (POST), list (GET) and clear (DELETE) faults. */
export const faultRoutes = new Hono<AppEnv>()

faultRoutes.post('/', async (c) => {
  const body = await readJsonBody(c, FaultBody, { what: 'fault' })
  const { db, now } = c.var.deps
  const [row] = await db
    .insert(mockFaults)
    .values({
      target: body.target,
      status: body.status ?? null,
      delayMs: body.delay_ms,
      retryAfter: body.retry_after,
      remaining: body.count,
      createdAt: now(),
    })
    .returning()
    .all()
  return c.json(row ? faultView(row) : null, 201)
})

faultRoutes.get('/', async (c) => {
  const rows = await c.var.deps.db
    .select()
    .from(mockFaults)
    .where(gt(mockFaults.remaining, 0))
    .all()
  return c.json({ data: rows.map(faultView) })
})

faultRoutes.delete('/', async (c) => {
  await c.var.deps.db.delete(mockFaults)
  return c.body(null, 204)
})

function faultView(row: typeof mockFaults.$inferSelect) {
  return {
    id: row.id,
    target: row.target,
    status: row.status,
    delay_ms: row.delayMs,
    retry_after: row.retryAfter,
    remaining: row.remaining,
  }
}
