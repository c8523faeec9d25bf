import type { Deps } from '../http/env.ts'

/**
 * Tells the in-process notifier (if this runtime has one) that outbox rows were just committed,
 * so they go out within moments instead of at the next sweep. The work outlives the response
 * through `deps.defer`.
 */
export function kickNotifier(deps: Deps): void {
  const notifier = deps.notifier
  if (notifier) deps.defer(() => notifier.kick())
}
