import type { Benchmark } from './benchmark.ts'
import { runLoad } from './load.ts'
import { detail } from './report.ts'
import { startServerProcess } from './server-process.ts'

const WARMUP_SECONDS = 1
const SECONDS = 5

/** The baseline every figure is divided by: a bare Hono app on @hono/node-server answering GET /. */
export const helloWorld: Benchmark = {
  id: 'hello-world',
  name: 'hello-world',
  run: async () => {
    const server = await startServerProcess({
      name: 'hello-world server',
      script: 'bench/servers/hello-world.ts',
    })
    try {
      await runLoad({ url: server.url, seconds: WARMUP_SECONDS })
      const result = await runLoad({ url: server.url, seconds: SECONDS })
      return { result, notes: [detail('hello-world GET /', result)] }
    } finally {
      await server.stop()
    }
  },
}
