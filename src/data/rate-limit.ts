/**
 * Fixed-window request limits. The Node runtime keeps counters in memory (one process); a
 * multi-isolate runtime supplies a shared implementation of the same interface.
 */
export interface RateLimiter {
  /** Counts one request against `key`; returns what is left in the current window. */
  hit(key: string, limit: number, windowSeconds: number, nowMs: number): Promise<RateLimitState>
}

export interface RateLimitState {
  limit: number
  remaining: number
  /** Seconds until the window resets. */
  resetSeconds: number
  allowed: boolean
}

export function memoryRateLimiter(): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>()
  return {
    async hit(key, limit, windowSeconds, nowMs) {
      const windowMs = windowSeconds * 1000
      const start = Math.floor(nowMs / windowMs) * windowMs
      let w = windows.get(key)
      if (!w || w.start !== start) {
        if (windows.size > 100_000) windows.clear()
        w = { start, count: 0 }
        windows.set(key, w)
      }
      w.count++
      return {
        limit,
        remaining: Math.max(0, limit - w.count),
        resetSeconds: Math.max(1, Math.ceil((start + windowMs - nowMs) / 1000)),
        allowed: w.count <= limit,
      }
    },
  }
}
