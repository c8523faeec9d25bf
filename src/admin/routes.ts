import { Hono } from 'hono'
import type { AppEnv } from '../http/env.ts'
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
adminRoutes.route('/clients', clientRoutes)
adminRoutes.route('/users', userRoutes)
