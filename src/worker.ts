import { waitUntil } from 'cloudflare:workers'
import openapiYaml from '../openapi.yaml'
import { createWorker } from './workers/gateway.ts'

/*
 * The Cloudflare Workers entry (wrangler.toml `main`): the same app on D1. `waitUntil` from
 * `cloudflare:workers` keeps deferred work (webhook kicks) alive past the response of whichever
 * request or cron event started it.
 */
const worker = createWorker(openapiYaml, { waitUntil })

export default {
  fetch: worker.fetch,
  scheduled: worker.scheduled,
}
