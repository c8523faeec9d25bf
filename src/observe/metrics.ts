import type { DataType } from '../data/models/index.ts'

/*
 * What the shared code reports to a metrics backend: one call per event, no I/O. The interface
 * is runtime-agnostic; the Node entry implements it with prom-client (src/observe/prometheus.ts,
 * which shared code must never import: it pulls Node modules into the Workers bundle). Where
 * `deps.metrics` is absent, instrumentation is a no-op and `/metrics` says so.
 *
 * Label values are bounded here, before they reach a backend: a label taken from a request (a
 * grant type, a method) would otherwise let any caller mint new time series.
 */

export interface IngestOutcomes {
  inserted: number
  updated: number
  unchanged: number
  /** Records of a batch refused as a whole (422): nothing of it was stored. */
  rejected: number
}

export interface Metrics {
  /**
   * One answered HTTP request. `route` is the matched route pattern (`/admin/v1/users/:userId`,
   * or {@link UNMATCHED_ROUTE}), never the raw path, so that ids do not become series.
   */
  httpRequest(method: string, route: string, status: number, seconds: number): void
  /** One call of the token endpoint: `outcome` is `issued` or the OAuth error code. */
  tokenGrant(grantType: string, outcome: string): void
  /** One ingest batch (the admin API or the mock provider's sync), by record outcome. */
  ingested(type: DataType, outcomes: Partial<IngestOutcomes>): void
  /** One webhook attempt: `succeeded`, or the failure class of the attempt log. */
  deliveryAttempt(outcome: string): void
  /**
   * The exposition text, with the database-derived gauges (outbox depth, backlog, dead letters,
   * disabled endpoints) read at this moment.
   */
  render(): Promise<{ contentType: string; body: string }>
}

/** The `route` label of a request that matched no route (404s, refused before routing). */
export const UNMATCHED_ROUTE = 'unmatched'

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/** The request method as a label: the standard ones, else `other`. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other'
}

/** The `grant_type` as a label: the two the server supports, `missing`, or `other`. */
export function grantTypeLabel(grantType: string | null | undefined): string {
  if (grantType === 'authorization_code' || grantType === 'refresh_token') return grantType
  return grantType === null || grantType === undefined || grantType === '' ? 'missing' : 'other'
}
