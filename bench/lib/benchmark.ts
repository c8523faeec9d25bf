import type { LoadResult } from './load.ts'

/**
 * One benchmark: a figure measured over HTTP, reported as a ratio to the run's baseline. Each
 * lives in its own module under bench/ and is listed in bench/run.ts.
 */
export interface Benchmark {
  /** For `npm run bench -- <id>`. */
  id: string
  /** As printed, e.g. `oauth refresh grant`. */
  name: string
  run: () => Promise<BenchmarkResult>
}

/**
 * A benchmark whose figures are not request rates (sizes, start-up times): it measures its own
 * baseline in the same run and prints ready-made ratio lines.
 */
export interface FigureBenchmark {
  kind: 'figures'
  id: string
  name: string
  run: () => Promise<{ lines: string[] }>
}

export interface BenchmarkResult {
  result: LoadResult
  /** Extra lines printed under the figure (set-up cost, request counts, …). */
  notes: string[]
}
