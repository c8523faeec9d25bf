import { Hono } from 'hono'

/** The Workers baseline: the same framework as the gateway, doing nothing. */
const app = new Hono()
app.get('/', (c) => c.text('Hello, world!'))

export default app
