import { Hono } from 'hono'
import type { AppEnv } from '../http/env.ts'
import { mockRoutes } from '../mock/routes.ts'
import {
  clientDeliveryRoutes,
  deliveryRoutes,
  syncHeldAfterClientUpdate,
} from '../notify/routes.ts'
import { diagnosticsRoutes } from '../observe/routes.ts'
import { adminAuth } from './auth.ts'
import { clientRoutes } from './clients.ts'
import { userRoutes } from './users.ts'

/**
 * Everything under `/admin/v1`: the provider's back end (ingest, users) and its operators
 * (clients, deliveries). The key check comes first so that it guards every route below it, and
 * unknown admin paths too (they answer 401, not 404, to someone without the key).
 */
export const adminRoutes = new Hono<AppEnv>()

adminRoutes.use('*', adminAuth)
// Registered before the client routes so that it wraps their PATCH (see the middleware).
adminRoutes.patch('/clients/:id', syncHeldAfterClientUpdate)
adminRoutes.route('/clients', clientRoutes)
adminRoutes.route('/clients', clientDeliveryRoutes)
adminRoutes.route('/users', userRoutes)
adminRoutes.route('/deliveries', deliveryRoutes)
adminRoutes.route('/mock', mockRoutes)
adminRoutes.route('/diagnostics', diagnosticsRoutes)
