import type { KitContext } from './context.ts'

/**
 * One named check. `run` throws to fail (its message is the reason) and may return a short note
 * for the report when it passes. A check whose `needs` did not all pass is not run: it is reported
 * failed with "skipped: depends on …".
 */
export interface Check {
  name: string
  needs?: readonly string[]
  run: (ctx: KitContext) => Promise<string | undefined>
}
