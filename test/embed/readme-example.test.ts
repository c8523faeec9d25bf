import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanEnv, type Finished, ROOT, readmeExample, run } from './run.ts'

/*
 * The README's "Use it in your tests" example is run, verbatim, by a vitest of its own — as in a
 * user's project — with `partner-gateway/testing` resolved to src/testing.ts (the pack test runs
 * it again against the published package). It is type-checked with the repository's strict
 * options too. The scratch directory sits in the repository (gitignored `.cache/`) so that
 * `vitest` and `oauth4webapi` resolve from node_modules, and outside test/ and src/ so that the
 * repository's own tsc and vitest runs do not pick the copy up.
 */

let dir: string
let tests: Finished
let types: Finished

beforeAll(async () => {
  mkdirSync(join(ROOT, '.cache'), { recursive: true })
  dir = mkdtempSync(join(ROOT, '.cache', 'readme-example-'))
  writeFileSync(join(dir, 'example.test.ts'), readmeExample())
  const testing = join(ROOT, 'src/testing.ts')
  writeFileSync(
    join(dir, 'vitest.config.mjs'),
    `export default {
  resolve: { alias: { 'partner-gateway/testing': ${JSON.stringify(testing)} } },
  test: { include: ['example.test.ts'], testTimeout: 30000, hookTimeout: 30000 },
}\n`,
  )
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: { noEmit: true, paths: { 'partner-gateway/testing': [testing] } },
      files: ['example.test.ts'],
      include: [],
    }),
  )
  ;[tests, types] = await Promise.all([
    run(
      process.execPath,
      [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir, '--reporter=verbose'],
      { cwd: dir, env: cleanEnv({ CI: '1' }), timeoutMs: 120_000 },
    ),
    run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], {
      cwd: dir,
      timeoutMs: 120_000,
    }),
  ])
}, 180_000)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('the README example test', () => {
  it('passes, every test in it', () => {
    const output = tests.stdout + tests.stderr
    expect(tests.code, output).toBe(0)
    expect(output).toMatch(/Tests\s+3 passed \(3\)/)
    for (const name of [
      'connects a user and pulls a week of sleep',
      'sees an outage of the data API as problem+json, then recovers',
      'receives a signed webhook after a device sync',
    ]) {
      expect(output).toContain(`✓ example.test.ts > ${name}`)
    }
  })

  it('type-checks with the strict compiler options', () => {
    expect(types.stdout + types.stderr).toBe('')
    expect(types.code).toBe(0)
  })
})
