import { Hono } from 'hono'
import { adminAuth } from '../admin/auth.ts'
import type { AppEnv } from '../http/env.ts'
import { Problem } from '../http/errors.ts'
import { diagnose } from './diagnostics.ts'
import { checkReadiness } from './probes.ts'

/*
 * What the provider's operators and their orchestrator call: liveness, readiness, Prometheus
 * metrics (behind the admin key), and the diagnostics report (under /admin/v1, mounted by the
 * admin routes).
 */

const NO_STORE = { 'cache-control': 'no-store' }

export const operateRoutes = new Hono<AppEnv>()

/** Liveness: the process answers. Nothing else is checked, so that a restart never fixes a dependency. */
operateRoutes.get('/healthz', (c) => c.json({ status: 'ok' }, 200, NO_STORE))

/** Readiness: this instance can do its work now; 503 names every failing part. */
operateRoutes.get('/readyz', async (c) => {
  const checks = await checkReadiness(c.var.deps)
  const failing = checks.filter((check) => check.status === 'fail')
  if (failing.length === 0) return c.json({ status: 'ready', checks }, 200, NO_STORE)
  const detail = failing
    .map((check) => `${check.name}: ${check.detail}${check.action ? ` (${check.action})` : ''}`)
    .join('; ')
  // problem+json with the checks as an extension member (RFC 9457 §3.2).
  const body = {
    type: 'about:blank',
    title: 'Not Ready',
    status: 503,
    detail: `Not ready: ${detail}.`,
    checks,
    request_id: c.var.requestId,
  }
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: {
      'content-type': 'application/problem+json',
      'x-request-id': c.var.requestId,
      ...NO_STORE,
    },
  })
})

operateRoutes.use('/metrics', adminAuth)
operateRoutes.get('/metrics', async (c) => {
  const { metrics } = c.var.deps
  if (!metrics) {
    throw new Problem(
      501,
      'Not Implemented',
      "Prometheus metrics are served by the Node runtime only. On this runtime, use GET /admin/v1/diagnostics for the notifier's state, and the platform's analytics for request rates.",
    )
  }
  const { contentType, body } = await metrics.render()
  return c.body(body, 200, { 'content-type': contentType, ...NO_STORE })
})

/** `GET /admin/v1/diagnostics` (behind the admin key: it names clients and their endpoints). */
export const diagnosticsRoutes = new Hono<AppEnv>()

diagnosticsRoutes.get('/', async (c) => c.json(await diagnose(c.var.deps), 200, NO_STORE))
