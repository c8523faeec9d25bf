import autocannon from 'autocannon'

export interface LoadResult {
  /** Successful (2xx) responses per second. */
  rps: number
  /** 99th percentile latency in milliseconds. */
  p99Ms: number
  /** Responses by status class, and connection errors. */
  ok: number
  non2xx: number
  errors: number
  durationSeconds: number
}

export interface LoadOptions {
  url: string
  connections?: number
  /** Seconds to run; the run ends at whichever of `seconds` and `amount` comes first. */
  seconds: number
  /** Total requests to send at most. */
  amount?: number
  /** One request shape; `setupRequest` runs once per request sent. */
  request?: autocannon.Request
}

/**
 * Runs autocannon in this process against `url`. The run is always bounded by `seconds`, also
 * when an `amount` is given (autocannon ignores `duration` then, so a timer stops it).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const connections = options.connections ?? 50
  let timer: NodeJS.Timeout | undefined
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections,
        ...(options.amount !== undefined
          ? { amount: options.amount }
          : { duration: options.seconds }),
        ...(options.request ? { requests: [options.request] } : {}),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    )
    timer = setTimeout(() => instance.stop(), options.seconds * 1000)
  })
  clearTimeout(timer)
  const ok = result['2xx']
  return {
    rps: ok / result.duration,
    p99Ms: result.latency.p99,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    durationSeconds: result.duration,
  }
}
