import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cleanEnv, ROOT, run } from '../embed/run.ts'

/* `npm run dev:worker`'s own arguments: refused with a message and exit 2 before wrangler starts. */

const TSX = join(ROOT, 'node_modules/.bin/tsx')
const devWorker = (args: string[]) => run(TSX, ['src/workers/dev.ts', ...args], { env: cleanEnv() })

describe('npm run dev:worker arguments', () => {
  it('prints its usage with --help', async () => {
    const { code, stdout } = await devWorker(['--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('usage: npm run dev:worker -- [--port 8787]')
  })

  it('refuses an unknown option, a bad port and a bad cron interval with exit 2', async () => {
    const unknown = await devWorker(['--bogus'])
    expect({ code: unknown.code, stderr: unknown.stderr }).toStrictEqual({
      code: 2,
      stderr: `dev:worker: Unknown option '--bogus'\nusage: npm run dev:worker -- [--port 8787] [--persist-to <dir>] [--cron-seconds 60]\n`,
    })
    const port = await devWorker(['--port', 'abc'])
    expect({ code: port.code, stderr: port.stderr }).toStrictEqual({
      code: 2,
      stderr: 'dev:worker: --port must be a port number, not "abc"\n',
    })
    const cron = await devWorker(['--cron-seconds=-5'])
    expect(cron.code).toBe(2)
    expect(cron.stderr).toContain('--cron-seconds must be a number of seconds')
  })
})
