import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import packageJson from '../../package.json' with { type: 'json' }
import type { Db } from '../db/index.ts'
import type { LogFn } from '../http/env.ts'
import { type Metrics, methodLabel } from './metrics.ts'
import { errorLine } from './probes.ts'
import { OPEN_STATUSES, queueStats } from './queue-stats.ts'

/*
 * The Node runtime's metrics: prom-client, one registry per gateway (so that several gateways in
 * one process, as in the tests, never share or clash), plus prom-client's default process
 * metrics (CPU, memory, event-loop lag, file descriptors). Node only: imported from
 * src/server.ts, never from shared code.
 */

const PREFIX = 'partner_gateway_'

export interface PrometheusMetrics extends Metrics {
  registry: Registry
}

export function createPrometheusMetrics(options: {
  db: Db
  now: () => number
  log: LogFn
  /** prom-client's process metrics (default on). */
  processMetrics?: boolean
}): PrometheusMetrics {
  const registry = new Registry()
  const registers = [registry]
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry })

  new Gauge({
    name: `${PREFIX}build_info`,
    help: 'Always 1; the version label says which build is running.',
    labelNames: ['version'],
    registers,
  }).set({ version: packageJson.version }, 1)

  const httpRequests = new Counter({
    name: `${PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by method, matched route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers,
  })
  const httpDuration = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'Time from receiving a request to having its response (streamed bodies: until the stream starts).',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  })
  const tokenGrants = new Counter({
    name: `${PREFIX}token_grants_total`,
    help: 'Token endpoint calls by grant type and outcome (issued, or the OAuth error code).',
    labelNames: ['grant_type', 'outcome'],
    registers,
  })
  const ingestRecords = new Counter({
    name: `${PREFIX}ingest_records_total`,
    help: 'Ingested records by data type and outcome (inserted, updated, unchanged, rejected).',
    labelNames: ['type', 'outcome'],
    registers,
  })
  const deliveryAttempts = new Counter({
    name: `${PREFIX}webhook_delivery_attempts_total`,
    help: 'Webhook delivery attempts by outcome: succeeded, or the failure class (timeout, http_5xx, gone, ...).',
    labelNames: ['outcome'],
    registers,
  })

  // Read from the database at scrape time (see render): true across processes and restarts.
  // They live in a registry of their own, exported only when the read succeeded: a value left
  // from an earlier scrape would lie.
  const databaseUp = new Gauge({
    name: `${PREFIX}database_up`,
    help: '1 if the scrape could read the database-derived gauges, else 0 (they are then left out).',
    registers,
  })
  const fromDatabase = new Registry()
  const outboxDepth = new Gauge({
    name: `${PREFIX}outbox_depth`,
    help: 'Committed changes not yet fanned out into webhook deliveries.',
    registers: [fromDatabase],
  })
  const oldestChange = new Gauge({
    name: `${PREFIX}outbox_oldest_age_seconds`,
    help: 'How long the oldest change not yet fanned out has waited; 0 when there is none.',
    registers: [fromDatabase],
  })
  const deliveriesByStatus = new Gauge({
    name: `${PREFIX}webhook_deliveries`,
    help: 'Webhook deliveries by open status; status="failed" is the dead-letter count.',
    labelNames: ['status'],
    registers: [fromDatabase],
  })
  const dueNow = new Gauge({
    name: `${PREFIX}webhook_deliveries_due`,
    help: 'Pending deliveries whose time has come (waiting for a worker or an endpoint slot).',
    registers: [fromDatabase],
  })
  const oldestDue = new Gauge({
    name: `${PREFIX}webhook_oldest_due_age_seconds`,
    help: 'How long the oldest due delivery has waited past its due time; 0 when none is due.',
    registers: [fromDatabase],
  })
  const disabledEndpoints = new Gauge({
    name: `${PREFIX}webhook_endpoints_disabled`,
    help: 'Clients whose webhook is disabled (answered 410 Gone, or disabled by an operator).',
    registers: [fromDatabase],
  })

  /** Refreshes the database gauges; false (and logged) if the database could not be read. */
  async function readDatabase(): Promise<boolean> {
    try {
      const stats = await queueStats(options.db, options.now())
      databaseUp.set(1)
      outboxDepth.set(stats.outboxDepth)
      oldestChange.set(stats.oldestOutboxAgeSeconds)
      for (const status of OPEN_STATUSES) {
        deliveriesByStatus.set({ status }, stats.deliveries[status])
      }
      dueNow.set(stats.dueNow)
      oldestDue.set(stats.oldestDueAgeSeconds)
      disabledEndpoints.set(stats.disabledEndpoints)
      return true
    } catch (err) {
      databaseUp.set(0)
      options.log('warn', { msg: 'metrics: database gauges unavailable', error: errorLine(err) })
      return false
    }
  }

  return {
    registry,
    httpRequest(method, route, status, seconds) {
      const labels = { method: methodLabel(method), route, status: String(status) }
      httpRequests.inc(labels)
      httpDuration.observe(labels, seconds)
    },
    tokenGrant(grantType, outcome) {
      tokenGrants.inc({ grant_type: grantType, outcome })
    },
    ingested(type, outcomes) {
      for (const [outcome, n] of Object.entries(outcomes)) {
        if (n !== undefined && n > 0) ingestRecords.inc({ type, outcome }, n)
      }
    },
    deliveryAttempt(outcome) {
      deliveryAttempts.inc({ outcome })
    },
    async render() {
      const exported = (await readDatabase()) ? Registry.merge([registry, fromDatabase]) : registry
      return { contentType: registry.contentType, body: await exported.metrics() }
    },
  }
}
