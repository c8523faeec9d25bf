import { dataPull } from './data-pull.ts'
import { dataIngest } from './ingest.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { helloWorld } from './lib/hello-world.ts'
import { ratioLine } from './lib/report.ts'
import { dataMemory } from './memory.ts'
import { notifier } from './notifier.ts'
import { oauthRefresh } from './oauth-refresh.ts'

/*
 * `npm run bench [-- <id> …]`: every benchmark (or the ones named) prints its figure as a ratio
 * to the hello-world baseline measured in the same run, on the same machine. Nothing is asserted:
 * the numbers depend on the machine; only the ratio is meant to be compared across runs.
 */

const BENCHMARKS: Benchmark[] = [oauthRefresh]
BENCHMARKS.push(dataPull)
BENCHMARKS.push(dataIngest)
BENCHMARKS.push(dataMemory)
BENCHMARKS.push(notifier)

const wanted = process.argv.slice(2)
const unknown = wanted.filter((id) => !BENCHMARKS.some((b) => b.id === id))
if (unknown.length > 0) {
  console.error(
    `unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.id).join(', ')}`,
  )
  process.exit(2)
}
const selected = wanted.length > 0 ? BENCHMARKS.filter((b) => wanted.includes(b.id)) : BENCHMARKS

const baseline = await helloWorld.run()
for (const benchmark of selected) {
  const { result, notes } = await benchmark.run()
  console.log(ratioLine(benchmark.name, result, helloWorld.name, baseline.result))
  for (const note of [...notes, ...baseline.notes]) console.log(note)
}
