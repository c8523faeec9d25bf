import { serve } from '@hono/node-server'
import { Hono } from 'hono'

/** The baseline: the same framework and adapter as the gateway, doing nothing. */
const app = new Hono()
app.get('/', (c) => c.text('Hello, world!'))

const server = serve({
  fetch: app.fetch,
  port: Number(process.env.PORT),
  hostname: process.env.HOST ?? '127.0.0.1',
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
