import { sql } from 'drizzle-orm'
import type { Deps } from '../http/env.ts'
import type { NotifierRunnerStatus } from '../notify/runner.ts'

/*
 * Readiness: can this instance do its work right now? The shared part is a query; the parts only
 * the runtime can see come through `deps.probes`, which each entry fills in:
 *
 * - Node (src/server.ts, src/observe/node-probes.ts): the SQLite file is still at its path (same
 *   inode) and writable, the applied drizzle migrations match drizzle/meta/_journal.json, the
 *   webhook runner has ticked recently, and no shutdown has begun.
 * - Workers: whatever it can tell (D1 migrations applied, say); a probe it leaves out is simply
 *   not part of its readiness. There is no in-process worker to check there (the cron drives it).
 *
 * Every probe answers quickly (a readiness probe that hangs is worse than one that fails) and
 * never throws: a failure is a result with the reason in words an operator can act on.
 */

export interface ProbeResult {
  ok: boolean
  /** What was found; for a failure, what is wrong. */
  detail: string
  /** For a failure: what the operator should do about it. */
  action?: string
}

export interface RuntimeProbes {
  /**
   * Storage checks beyond a query: on Node, that the file is still the one opened and that a
   * write would succeed (a rolled-back write). Runs after the shared `select 1` succeeded.
   */
  database?: () => Promise<ProbeResult>
  /** Whether the schema is the one this code was shipped with (no pending migrations). */
  migrations?: () => Promise<ProbeResult>
  /** Whether the in-process webhook worker is running (has ticked recently). */
  worker?: () => ProbeResult
  /** True once a graceful shutdown began: the instance is draining and should get no traffic. */
  shuttingDown?: () => boolean
}

export interface ReadinessCheck {
  name: 'shutdown' | 'database' | 'migrations' | 'worker'
  status: 'ok' | 'fail'
  detail: string
  action?: string
}

/**
 * An error and its causes, the first line of each message, for a probe's detail: drizzle wraps a
 * driver's error ("Failed to run the query …", then the bound values on the next lines), and the
 * cause says what happened. No stack, no values.
 */
export function errorLine(err: unknown): string {
  const lines: string[] = []
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 4; depth++) {
    const text = e instanceof Error ? e.message : String(e)
    lines.push(text.split('\n')[0] ?? text)
    e = e instanceof Error ? e.cause : undefined
  }
  return lines.join(': ')
}

/** The shared database check: one trivial query, then the runtime's storage probe. */
export async function probeDatabase(deps: Pick<Deps, 'db' | 'probes'>): Promise<ProbeResult> {
  try {
    await deps.db.run(sql`select 1`)
  } catch (err) {
    return {
      ok: false,
      detail: `the database does not answer a query (${errorLine(err)})`,
      action: 'check that the database exists and is reachable, then restart the gateway',
    }
  }
  if (!deps.probes?.database) return { ok: true, detail: 'answers queries' }
  try {
    return await deps.probes.database()
  } catch (err) {
    return {
      ok: false,
      detail: `the database probe failed: ${errorLine(err)}`,
      action: 'see the logs',
    }
  }
}

async function settle(
  probe: (() => Promise<ProbeResult> | ProbeResult) | undefined,
): Promise<ProbeResult | null> {
  if (!probe) return null
  try {
    return await probe()
  } catch (err) {
    return { ok: false, detail: `the probe failed: ${errorLine(err)}`, action: 'see the logs' }
  }
}

/** Every readiness check this runtime supports, in a fixed order. */
export async function checkReadiness(deps: Pick<Deps, 'db' | 'probes'>): Promise<ReadinessCheck[]> {
  const checks: ReadinessCheck[] = []
  const add = (name: ReadinessCheck['name'], result: ProbeResult | null) => {
    if (!result) return
    checks.push({
      name,
      status: result.ok ? 'ok' : 'fail',
      detail: result.detail,
      ...(result.action === undefined ? {} : { action: result.action }),
    })
  }
  if (deps.probes?.shuttingDown?.()) {
    add('shutdown', {
      ok: false,
      detail: 'shutting down: finishing the requests and deliveries in flight, taking no new work',
      action: 'send traffic to another instance; this one exits when the work in flight is done',
    })
  }
  add('database', await probeDatabase(deps))
  add('migrations', await settle(deps.probes?.migrations))
  add('worker', await settle(deps.probes?.worker))
  return checks
}

/** A runner that has not ticked for this many intervals is stuck (a tick is due every interval). */
const STALE_INTERVALS = 6

/** The worker probe for a runtime that runs the webhook worker in process (src/notify/runner.ts). */
export function workerProbe(
  status: () => NotifierRunnerStatus,
  now: () => number,
): () => ProbeResult {
  return () => {
    const s = status()
    if (!s.running) {
      return {
        ok: false,
        detail: 'the webhook worker is stopped',
        action: 'restart the gateway (the worker stops only when the gateway shuts down)',
      }
    }
    if (s.lastTickAt === null) {
      return {
        ok: false,
        detail: 'the webhook worker has not started yet',
        action: 'wait a moment',
      }
    }
    const age = now() - s.lastTickAt
    if (age > STALE_INTERVALS * s.intervalMs) {
      return {
        ok: false,
        detail: `the webhook worker has not run for ${Math.round(age / 1000)} s (it should every ${s.intervalMs / 1000} s)`,
        action: 'the process may be stuck: check the logs, then restart the gateway',
      }
    }
    if (s.lastError !== null) {
      return {
        ok: false,
        detail: `the webhook worker's last run failed (${s.lastError}); it tries again every ${s.intervalMs / 1000} s`,
        action: 'see the logs ("webhook runner failed"); the database is the usual cause',
      }
    }
    return { ok: true, detail: `running, last run ${Math.round(age / 1000)} s ago` }
  }
}
