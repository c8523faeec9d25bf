import type { LoadResult } from './load.ts'

function rate(value: number): string {
  return `${Math.round(value)} req/s`
}

function ratio(value: number): string {
  return value >= 0.1 ? value.toFixed(2) : value.toPrecision(2)
}

/**
 * One line per benchmark, its figure as a ratio to a baseline measured in the same run:
 * `oauth refresh grant: 1234 req/s vs hello-world 23456 req/s = 0.053x (p99 12 ms vs 3 ms)`.
 */
export function ratioLine(
  name: string,
  measured: LoadResult,
  baselineName: string,
  baseline: LoadResult,
): string {
  const line =
    `${name}: ${rate(measured.rps)} vs ${baselineName} ${rate(baseline.rps)} = ` +
    `${ratio(measured.rps / baseline.rps)}x (p99 ${measured.p99Ms} ms vs ${baseline.p99Ms} ms)`
  const problems = [
    measured.non2xx > 0 ? `${measured.non2xx} non-2xx responses` : '',
    measured.errors > 0 ? `${measured.errors} connection errors` : '',
  ].filter((p) => p !== '')
  return problems.length > 0 ? `${line} [WARNING: ${problems.join(', ')}]` : line
}

/** A short account of one load run, for the lines under the figure. */
export function detail(label: string, result: LoadResult): string {
  return (
    `  ${label}: ${result.ok} ok, ${result.non2xx} non-2xx, ${result.errors} errors ` +
    `in ${result.durationSeconds.toFixed(1)} s`
  )
}
