import { Hono } from 'hono'
import type { AppEnv } from '../http/env.ts'
import { Problem } from '../http/errors.ts'
import { faultRoutes } from './faults.ts'
import { syncRoutes } from './sync.ts'

/** `/admin/v1/mock/*`: the mock provider's controls, which exist only in mock mode. */
export const mockRoutes = new Hono<AppEnv>()

mockRoutes.use('*', async (c, next) => {
  if (!c.var.deps.config.mock) {
    throw new Problem(
      404,
      'Not Found',
      'The mock provider controls exist only in mock mode (MOCK=1).',
    )
  }
  await next()
})
mockRoutes.route('/sync', syncRoutes)
mockRoutes.route('/faults', faultRoutes)
