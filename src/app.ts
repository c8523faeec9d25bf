import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { routePath } from 'hono/route'
import { adminRoutes } from './admin/routes.ts'
import { memoryRateLimiter } from './data/rate-limit.ts'
import { dataRoutes } from './data/routes.ts'
import { docsRoutes } from './docs/routes.ts'
import type { AppEnv, Deps } from './http/env.ts'
import { OAuthError, PageError, Problem } from './http/errors.ts'
import { problemResponse } from './http/problem.ts'
import { ingestRoutes } from './ingest/routes.ts'
import { demoRoutes } from './mock/demo-callback.tsx'
import { injectFaults } from './mock/faults.ts'
import { accountRoutes } from './oauth/account.ts'
import { authorizeRoutes } from './oauth/authorize.ts'
import { introspectRoutes } from './oauth/introspect.ts'
import { loginRoutes } from './oauth/login.tsx'
import { metadataRoutes } from './oauth/metadata.ts'
import { revokeRoutes } from './oauth/revoke.ts'
import { tokenRoutes } from './oauth/token-endpoint.ts'
import { UNMATCHED_ROUTE } from './observe/metrics.ts'
import { operateRoutes } from './observe/routes.ts'
import { renderErrorPage } from './views/error-page.tsx'

/**
 * The whole HTTP surface, independent of the runtime: the Node and Workers entries build `deps`
 * and call this.
 */
export function createApp(deps: Deps) {
  const app = new Hono<AppEnv>()

  app.use(async (c, next) => {
    c.set('deps', deps)
    const incoming = c.req.header('x-request-id')
    const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : crypto.randomUUID()
    c.set('requestId', requestId)
    // Set before the handler: a header added afterwards makes Hono rebuild the response, which
    // sends it down @hono/node-server's slow path (measured: ~30% of a data request's CPU).
    c.header('x-request-id', requestId)
    const started = performance.now()
    await next()
    const seconds = (performance.now() - started) / 1000
    const route = routeLabel(c)
    const status = c.res.status
    deps.metrics?.httpRequest(c.req.method, route, status, seconds)
    // The path only: queries carry states, codes and (from careless clients) tokens. Probes and
    // scrapes that succeed come every few seconds and say nothing: debug.
    deps.log(QUIET_ROUTES.has(route) && status < 400 ? 'debug' : 'info', {
      msg: 'request',
      request_id: requestId,
      method: c.req.method,
      route,
      path: c.req.path,
      status,
      duration_ms: Math.round(seconds * 1000),
    })
  })

  // Mock mode's fault injection, ahead of the targets it breaks (a no-op outside mock mode).
  app.use('/v1/*', injectFaults('data'))
  app.use('/oauth/token', injectFaults('token'))
  app.use('/oauth/authorize', injectFaults('authorize'))

  app.route('/', operateRoutes)
  app.route('/', metadataRoutes)
  app.route('/', authorizeRoutes)
  app.route('/', loginRoutes)
  app.route('/', tokenRoutes)
  app.route('/', revokeRoutes)
  app.route('/', introspectRoutes)
  app.route('/', accountRoutes)
  app.route('/admin/v1', adminRoutes)
  // Mounted after adminRoutes, whose `/admin/v1/*` key check therefore guards it too (tested).
  app.route('/admin/v1', ingestRoutes)
  app.route('/', dataRoutes(deps.rateLimiter ?? memoryRateLimiter()))
  app.route('/', docsRoutes)
  app.route('/', demoRoutes)

  app.notFound((c) => {
    return problemResponse(
      c,
      new Problem(404, 'Not Found', `There is no ${c.req.method} ${c.req.path}. See /docs.`),
    )
  })

  app.onError((err, c) => {
    if (err instanceof OAuthError) {
      return c.json({ error: err.error, error_description: err.description }, err.status, {
        'cache-control': 'no-store',
        pragma: 'no-cache',
        ...err.options.headers,
      })
    }
    if (err instanceof Problem) return problemResponse(c, err)
    if (err instanceof PageError) return renderErrorPage(c, err)
    if (err instanceof HTTPException && err.status < 500) {
      return problemResponse(
        c,
        new Problem(err.status, 'Bad Request', err.message || 'Bad request.'),
      )
    }
    deps.log('error', {
      msg: 'unhandled error',
      request_id: c.get('requestId'),
      path: c.req.path,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      stack: err instanceof Error ? err.stack : undefined,
    })
    return problemResponse(
      c,
      new Problem(
        500,
        'Internal Server Error',
        'Something went wrong on our side; it has been logged.',
      ),
    )
  })

  return app
}

export type App = ReturnType<typeof createApp>

const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics'])

/**
 * The matched route pattern of a request, for metrics and logs: the last route matched (the
 * handler's, even when a middleware answered first, e.g. the admin key check), or
 * {@link UNMATCHED_ROUTE} when only wildcard middleware matched (404s, and requests refused
 * before any route: `/admin/v1/anything` without a key). `c.req.routePath` would name the
 * middleware that answered (`/admin/v1/*`), and raw paths would make every id a new series.
 */
function routeLabel(c: Parameters<typeof routePath>[0]): string {
  const route = routePath(c, -1)
  return route === '' || route.endsWith('*') ? UNMATCHED_ROUTE : route
}
