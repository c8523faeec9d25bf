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
  /** For readiness and diagnostics: whether the runner is alive and when it last ticked. */
  status(): NotifierRunnerStatus
}

export interface NotifierRunnerStatus {
  /** False once `stop()` was called. */
  running: boolean
  /** When the last tick started (`deps.now()`); `null` before the first. */
  lastTickAt: number | null
  /** When the last tick finished without an error; `null` if none has. */
  lastSuccessAt: number | null
  /** The last tick's error, if it failed. */
  lastError: string | null
  /** A tick is due at least this often; one older than a few of these means the runner is stuck. */
  intervalMs: number
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
  let lastTickAt: number | null = null
  let lastSuccessAt: number | null = null
  let lastError: string | null = null

  const tick = async () => {
    timer = undefined
    if (stopped) return
    lastTickAt = deps.now()
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
      lastSuccessAt = deps.now()
      lastError = null
      schedule(Math.max(MIN_WAKE_MS, Math.min(untilSweep, untilDue)))
    } catch (err) {
      lastError = String(err)
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
    status: () => ({
      running: !stopped,
      lastTickAt,
      lastSuccessAt,
      lastError,
      intervalMs: interval,
    }),
  }
}
