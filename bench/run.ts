import { dataPull } from './data-pull.ts'
import { dataIngest } from './ingest.ts'
import type { Benchmark, FigureBenchmark } from './lib/benchmark.ts'
import { helloWorld } from './lib/hello-world.ts'
import { ratioLine } from './lib/report.ts'
import { dataMemory } from './memory.ts'
import { notifier } from './notifier.ts'
import { oauthRefresh } from './oauth-refresh.ts'
import { workerBuild } from './worker.ts'

/*
 * `npm run bench [-- <id> …]`: every benchmark (or the ones named) prints its figure as a ratio
 * to the hello-world baseline measured in the same run, on the same machine. Nothing is asserted:
 * the numbers depend on the machine; only the ratio is meant to be compared across runs.
 */

const BENCHMARKS: (Benchmark | FigureBenchmark)[] = [
  oauthRefresh,
  dataPull,
  dataIngest,
  dataMemory,
  notifier,
  workerBuild,
]

const wanted = process.argv.slice(2)
const unknown = wanted.filter((id) => !BENCHMARKS.some((b) => b.id === id))
if (unknown.length > 0) {
  console.error(
    `unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.id).join(', ')}`,
  )
  process.exit(2)
}
const selected = wanted.length > 0 ? BENCHMARKS.filter((b) => wanted.includes(b.id)) : BENCHMARKS

const isFigures = (b: Benchmark | FigureBenchmark): b is FigureBenchmark =>
  'kind' in b && b.kind === 'figures'
// The HTTP baseline only when an HTTP benchmark runs; figure benchmarks bring their own.
const baseline = selected.some((b) => !isFigures(b)) ? await helloWorld.run() : undefined
for (const benchmark of selected) {
  if (isFigures(benchmark)) {
    for (const line of (await benchmark.run()).lines) console.log(line)
    continue
  }
  if (!baseline) continue
  const { result, notes } = await benchmark.run()
  console.log(ratioLine(benchmark.name, result, helloWorld.name, baseline.result))
  for (const note of [...notes, ...baseline.notes]) console.log(note)
}
