import type { Context } from 'hono'
import { createFactory } from 'hono/factory'
import type { Config } from '../config.ts'
import type { RateLimiter } from '../data/rate-limit.ts'
import type { Db } from '../db/index.ts'

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
  /** Keeps work alive after the response (Workers' waitUntil; a tracked promise on Node). */
  defer: (work: Promise<unknown>) => void
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
   * commits an outbox row kicks it with `deps.defer(deps.notifier.kick())`; without it the rows
   * wait for the next sweep.
   */
  notifier?: { kick(): Promise<void> }
}

export interface AppEnv {
  Variables: {
    deps: Deps
    requestId: string
  }
}

export const factory = createFactory<AppEnv>()
