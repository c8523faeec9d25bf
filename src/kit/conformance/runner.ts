import type { Check } from './check.ts'
import { dataChecks } from './checks-data.ts'
import { oauthChecks, revocationChecks } from './checks-oauth.ts'
import { webhookChecks } from './checks-webhooks.ts'
import {
  type CheckResult,
  type ConformanceOptions,
  type ConformanceReport,
  KitContext,
} from './context.ts'
import { explainError } from './util.ts'

/** The checks of a run, in order: the webhook ones only with an admin key. */
export function conformanceChecks(options: Pick<ConformanceOptions, 'adminKey'>): Check[] {
  return [
    ...oauthChecks,
    ...dataChecks,
    ...(options.adminKey ? webhookChecks : []),
    // Last: revocation ends the session the other checks use.
    ...revocationChecks,
  ]
}

/**
 * Plays Terra against a deployment over HTTP and reports each check. A check throwing fails that
 * check only; a check whose prerequisites did not pass is reported failed with "skipped: depends
 * on …" (skips count as failures, so the summary never looks better than what was verified).
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const ctx = new KitContext(options)
  const passed = new Set<string>()
  const checks: CheckResult[] = []
  try {
    for (const check of conformanceChecks(options)) {
      const started = performance.now()
      const blocked = (check.needs ?? []).filter((name) => !passed.has(name))
      let result: CheckResult
      if (blocked.length > 0) {
        result = {
          name: check.name,
          ok: false,
          detail: `skipped: depends on ${blocked.join(', ')}`,
          ms: 0,
        }
      } else {
        try {
          const note = await check.run(ctx)
          result = { name: check.name, ok: true, detail: note ?? '', ms: 0 }
        } catch (err) {
          result = { name: check.name, ok: false, detail: await explainError(err), ms: 0 }
        }
        result.ms = Math.round(performance.now() - started)
      }
      if (result.ok) passed.add(check.name)
      checks.push(result)
      options.onResult?.(result)
    }
  } finally {
    for (const cleanup of ctx.cleanups.reverse()) {
      await cleanup().catch(() => {})
    }
  }
  const ok = checks.filter((c) => c.ok).length
  return { checks, passed: ok, failed: checks.length - ok }
}
