import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.ts'
import { type RunningGateway, startGateway } from '../../src/server.ts'

/*
 * The gateway as `npm start` runs it (src/server.ts: SQLite file, prom-client metrics, the Node
 * probes, the webhook runner), in this process, on a free port and a fresh file, in production
 * mode. For the tests that need the real Node wiring rather than the in-memory test app.
 */

export const NODE_ADMIN_KEY = 'observe-Kq7vX2pL9rT4wZ8mN3bC6hJ1sD5f'

export interface NodeGateway {
  gateway: RunningGateway
  url: string
  databasePath: string
  logs: Record<string, unknown>[]
  /** `fetch` on the gateway's URL, with the admin key when `admin` is set. */
  get(path: string, options?: { admin?: boolean }): Promise<Response>
  /** Stops the gateway (if still running) and removes its files. */
  dispose(): Promise<void>
}

export async function startNodeGateway(env: Record<string, string> = {}): Promise<NodeGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-observe-'))
  const databasePath = join(dir, 'gateway.sqlite')
  const config = loadConfig({
    MOCK: '0',
    PORT: '0',
    // Port 0: startGateway puts the real port into the default issuer.
    ISSUER: 'http://127.0.0.1:0',
    ADMIN_API_KEY: NODE_ADMIN_KEY,
    DATABASE_PATH: databasePath,
    ...env,
  })
  const logs: Record<string, unknown>[] = []
  const gateway = await startGateway(config, {
    log: (level, fields) => {
      logs.push({ level, ...fields })
    },
    shutdownTimeoutMs: 5000,
  })
  return {
    gateway,
    url: gateway.url,
    databasePath,
    logs,
    get: (path, options = {}) =>
      fetch(`${gateway.url}${path}`, {
        headers: options.admin ? { authorization: `Bearer ${NODE_ADMIN_KEY}` } : {},
      }),
    async dispose() {
      await gateway.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
