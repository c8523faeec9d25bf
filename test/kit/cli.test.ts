import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ROOT, run } from '../embed/run.ts'
import { type KitFixture, kitFixture } from './harness.ts'

/* `npm run conformance` is `tsx src/kit/cli.ts`: run as a child process, against a real server. */

const TSX = join(ROOT, 'node_modules/.bin/tsx')

/** The kit's command as CI runs it, through tsx. */
function cli(args: string[]) {
  return run(TSX, ['src/kit/cli.ts', ...args], {
    env: { ...process.env, NO_COLOR: '1' } as Record<string, string>,
  })
}

let fx: KitFixture | undefined
afterEach(async () => {
  await fx?.close()
  fx = undefined
})

describe('the conformance CLI', () => {
  it('--help prints the usage and exits 0', async () => {
    const { code, stdout } = await cli(['--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^Usage: npm run conformance -- --issuer <url>/)
    for (const option of ['--client-id', '--admin-key', '--webhook-secret', '--json']) {
      expect(stdout).toContain(option)
    }
  })

  it('exits 2 with a message for missing or unknown options', async () => {
    const missing = await cli(['--issuer', 'http://127.0.0.1:9'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(
      /^conformance: missing --client-id, --client-secret, --redirect-uri, --user, --password\n/,
    )
    expect(missing.stderr).toContain('Usage:')
    expect(missing.stdout).toBe('')

    const unknown = await cli(['--bogus'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/^conformance: Unknown option '--bogus'/)
  })

  it('runs against a server: one line per check, the summary, exit 0, and --json', async () => {
    fx = await kitFixture()
    const json = join(mkdtempSync(join(tmpdir(), 'kit-')), 'report.json')
    const { code, stdout, stderr } = await cli([
      '--issuer',
      fx.url,
      '--client-id',
      fx.clientId,
      '--client-secret',
      fx.clientSecret,
      '--redirect-uri',
      fx.options().redirectUri,
      '--user',
      fx.email,
      '--password',
      fx.options().password,
      '--json',
      json,
    ])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split('\n')
    expect(lines.at(-1)).toBe('20 passed, 0 failed')
    expect(lines).toHaveLength(21)
    expect(lines[0]).toMatch(/^✔ discovery: metadata — issuer http:\/\/127\.0\.0\.1:\d+/)
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^✔ [a-z]+: /)

    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      checks: { name: string; ok: boolean; detail: string; ms: number }[]
      passed: number
      failed: number
    }
    expect(report.passed).toBe(20)
    expect(report.failed).toBe(0)
    expect(Object.keys(report.checks[0] ?? {})).toEqual(['name', 'ok', 'detail', 'ms'])
  })

  it('exits 1 when a check fails, with ✘ and the reason', async () => {
    fx = await kitFixture()
    const { code, stdout } = await cli([
      '--issuer',
      fx.url,
      '--client-id',
      fx.clientId,
      '--client-secret',
      'wrong',
      '--redirect-uri',
      fx.options().redirectUri,
      '--user',
      fx.email,
      '--password',
      fx.options().password,
    ])
    expect(code).toBe(1)
    expect(stdout).toMatch(/^✘ oauth: token exchange — the server answered 401/m)
    expect(stdout).toMatch(/^4 passed, 16 failed$/m)
  })
})
