import type { Deps } from '../http/env.ts'
import type { Notifier } from './worker.ts'

/*
 * Drives a notifier inside a long-running process (the Node entry): a sweep at start-up (which
 * also dispatches whatever a previous process left in the outbox) and every few seconds, a
 * timer for the next retry that falls due before that, and kicks from the request handlers.
 * Timers only decide *when* to look; *what* is due always comes from the database.
 */

export const SWEEP_INTERVAL_MS = 5000
/** Never wake more often than this when something is due but cannot be claimed yet. */
const MIN_WAKE_MS = 100

export interface NotifierRunner {
  kick(): Promise<void>
  /** Stops the timers and waits for the sends in flight to be recorded. */
  stop(): Promise<void>
}

export function startNotifierRunner(
  deps: Pick<Deps, 'now' | 'log'>,
  notifier: Notifier,
  options: { sweepIntervalMs?: number } = {},
): NotifierRunner {
  const interval = options.sweepIntervalMs ?? SWEEP_INTERVAL_MS
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  let lastSweep = Number.NEGATIVE_INFINITY
  let running: Promise<void> = Promise.resolve()

  const tick = async () => {
    timer = undefined
    if (stopped) return
    try {
      if (deps.now() - lastSweep >= interval) {
        lastSweep = deps.now()
        await notifier.sweep()
      } else {
        await notifier.kick()
      }
      const due = await notifier.nextDueAt()
      const untilSweep = lastSweep + interval - deps.now()
      const untilDue = due === null ? Number.POSITIVE_INFINITY : due - deps.now()
      schedule(Math.max(MIN_WAKE_MS, Math.min(untilSweep, untilDue)))
    } catch (err) {
      deps.log('error', { msg: 'webhook runner failed', error: String(err) })
      schedule(interval)
    }
  }

  const schedule = (ms: number) => {
    if (stopped) return
    timer = setTimeout(() => {
      running = tick()
    }, ms)
    // A pending retry must not keep a process alive that is otherwise done (tests, scripts).
    ;(timer as { unref?: () => void }).unref?.()
  }

  running = tick()

  return {
    kick: () => notifier.kick(),
    async stop() {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      await running.catch(() => {})
      await notifier.stop()
    },
  }
}
