import type { Config } from './config.ts'
import type { Db } from './db/index.ts'
import type { Deps, LogFn } from './http/env.ts'

/**
 * Deps on Node: the real clock, randomness and network, and deferred work run at once and tracked
 * so that whoever owns the process can wait for it (`settled()`) before closing the database.
 * `src/server.ts` adds what serving needs (peer address, spec, metrics, probes); the CLI's
 * one-off commands use it as is.
 */
export function nodeDeps(
  db: Db,
  config: Config,
  log: LogFn,
): { deps: Deps; settled: () => Promise<void> } {
  const pending = new Set<Promise<unknown>>()
  const deps: Deps = {
    db,
    config,
    now: Date.now,
    random: Math.random,
    fetch: globalThis.fetch,
    defer: (work) => {
      const tracked = Promise.resolve()
        .then(work)
        .catch((err) => log('error', { msg: 'deferred work failed', error: String(err) }))
      pending.add(tracked)
      void tracked.finally(() => pending.delete(tracked))
    },
    log,
    remoteAddress: () => undefined,
    openapiYaml: '',
  }
  return {
    deps,
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending])
    },
  }
}
