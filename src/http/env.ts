import type { Context } from 'hono'
import { createFactory } from 'hono/factory'
import type { Config } from '../config.ts'
import type { RateLimiter } from '../data/rate-limit.ts'
import type { Db } from '../db/index.ts'
import type { Metrics } from '../observe/metrics.ts'
import type { RuntimeProbes } from '../observe/probes.ts'

/** Log lines are JSON objects; the Node entry writes them to stdout. */
export type LogFn = (
  level: 'debug' | 'info' | 'warn' | 'error',
  fields: Record<string, unknown>,
) => void

/**
 * Everything the app needs from its runtime. Handlers reach it through `c.var.deps`; nothing in
 * shared code imports a runtime module.
 */
export interface Deps {
  db: Db
  config: Config
  /** Milliseconds since the epoch. Tests inject a controllable clock. */
  now: () => number
  /** Uniform in [0, 1); injected so tests can assert jitter exactly. */
  random: () => number
  /** The network, for outgoing webhooks; tests may inject a recording one. */
  fetch: typeof fetch
  /**
   * Runs work after the response and keeps it alive (a tracked promise on Node; `waitUntil` on
   * Workers). It takes a function, not a promise, so that the runtime decides whether the work
   * starts at all: tests simulate a runtime that drops it.
   */
  defer: (work: () => Promise<unknown>) => void
  log: LogFn
  /** The client's network address, for throttling sign-in; `undefined` if unknown. */
  remoteAddress: (c: Context) => string | undefined
  /** `openapi.yaml`, served at /openapi.yaml and rendered at /docs. */
  openapiYaml: string
  /** Data API rate limits; in memory (one process) unless the runtime shares one across instances. */
  rateLimiter?: RateLimiter
  /** PBKDF2 iterations for new password hashes (lower only in tests that create many users). */
  passwordIterations?: number
  /**
   * The webhook notifier, when this runtime runs one in process (the Node entry does). Code that
   * commits an outbox row kicks it with `deps.defer(() => deps.notifier.kick())`; without it the rows
   * wait for the next sweep.
   */
  notifier?: { kick(): Promise<void> }
  /**
   * Metrics, where the runtime exports them (Node: prom-client, src/observe/prometheus.ts).
   * Shared code reports through it with one call per event; without it `/metrics` answers 501.
   */
  metrics?: Metrics
  /**
   * Readiness checks only the runtime can make (storage, migrations, the in-process worker,
   * shutdown): used by `/readyz` and the diagnostics. See src/observe/probes.ts.
   */
  probes?: RuntimeProbes
}

export interface AppEnv {
  Variables: {
    deps: Deps
    requestId: string
  }
}

export const factory = createFactory<AppEnv>()
