import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanEnv, type Finished, ROOT, readmeExample, run } from './run.ts'

/*
 * The published package, as a user gets it: `npm pack` (which runs the build), then an empty
 * project installs the tarball and uses the `partner-gateway` bin and `partner-gateway/testing`.
 * One install (better-sqlite3 compiles from source here: a minute or two), several checks.
 *
 * Needs the npm registry or a warm npm cache (`--prefer-offline`) for the dependencies.
 */

const INSTALL_TIMEOUT_MS = 8 * 60_000

let work: string
let project: string
let tarball: string
let packed: Finished
let installed: Finished

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'partner-gateway-pack-'))
  project = join(work, 'project')
  mkdirSync(project)
  packed = await run('npm', ['pack', '--pack-destination', work, '--no-fund'], {
    env: cleanEnv(),
    timeoutMs: 120_000,
  })
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stdout}\n${packed.stderr}`)
  const name = readdirSync(work).find((f) => f.endsWith('.tgz'))
  if (!name) throw new Error(`npm pack wrote no tarball:\n${packed.stdout}`)
  tarball = join(work, name)
  // better-sqlite3 builds its native module in an install script, which npm wants the project to
  // approve (npm 11 warns without it, npm 12 skips the script). The README tells users the same.
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'embed-check',
      private: true,
      type: 'module',
      allowScripts: { 'better-sqlite3': true },
    }),
  )
  installed = await run(
    'npm',
    ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'],
    { cwd: project, env: cleanEnv(), timeoutMs: INSTALL_TIMEOUT_MS },
  )
  if (installed.code !== 0) {
    throw new Error(`npm install of the tarball failed:\n${installed.stdout}\n${installed.stderr}`)
  }
}, INSTALL_TIMEOUT_MS + 180_000)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

/** `npx partner-gateway <args>` in the project. */
function npx(args: string[], env: Record<string, string> = {}) {
  return run('npx', ['--no-install', 'partner-gateway', ...args], {
    cwd: project,
    env: cleanEnv(env),
    timeoutMs: 60_000,
  })
}

/** A server process started in its own process group (so a signal can reach all of it). */
function startServer(command: string, args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(command, args, {
    cwd: project,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  const waitFor = async (pattern: RegExp, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = pattern.exec(stdout)
      if (match) return match
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`no ${pattern} from ${command} ${args.join(' ')}:\n${stdout}\n${stderr}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  /** Cleanup after a failed test: SIGKILL whatever of the group is still running. */
  const kill = () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    try {
      process.kill(-(child.pid as number), 'SIGKILL')
    } catch {
      // already gone
    }
  }
  return { child, exited, waitFor, kill, stdout: () => stdout, stderr: () => stderr }
}

describe('the packed package', () => {
  it('contains the bundles, the declaration, the migrations and the spec, and no sources', async () => {
    const listing = await run('tar', ['-tzf', tarball])
    const files = listing.stdout
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, '').replace(/chunk-[A-Z0-9]+\.js$/, 'chunk-<hash>.js'))
      .sort()
    expect(files).toStrictEqual([
      'README.md',
      'dist/chunk-<hash>.js',
      'dist/cli.js',
      'dist/testing.d.ts',
      'dist/testing.js',
      'drizzle/0000_init.sql',
      'drizzle/0001_rate_limit_windows.sql',
      'drizzle/meta/_journal.json',
      'openapi.yaml',
      'package.json',
    ])
  })

  it('installs into an empty project with the partner-gateway bin', async () => {
    const { code, stdout, stderr } = await npx(['--help'])
    expect(code, stderr).toBe(0)
    expect(stdout).toMatch(/^Usage: partner-gateway <command> \[options\]\n/)
    for (const command of ['start', 'migrate', 'seed', 'client create', 'user create', 'doctor']) {
      expect(stdout).toMatch(new RegExp(`^ {2}${command} {2,}\\S`, 'm'))
    }
  })

  it('migrates from dist/ with the shipped migrations', async () => {
    const path = join(work, 'migrate.sqlite')
    const { code, stdout } = await npx(['migrate'], { DATABASE_PATH: path })
    expect(code).toBe(0)
    expect(stdout).toBe(
      `${path}: applied 2 of 2 migrations\n  0000_init\n  0001_rate_limit_windows\n`,
    )
  })

  it('fails clearly: an invalid value (exit 2), production without settings (exit 78)', async () => {
    const invalid = await npx(['client', 'create', '--name', 'T', '--redirect-uri', 'ftp://x'], {
      DATABASE_PATH: join(work, 'unused.sqlite'),
    })
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toContain(
      'partner-gateway client create: the client is not valid:\n  redirect_uris[0] (--redirect-uri): Must use https, http on a loopback host, or a reverse-domain private-use scheme such as com.example.app:/callback.\n',
    )
    const production = await npx(['start'], { MOCK: '0' })
    expect(production.code).toBe(78)
    expect(production.stderr).toContain(
      'partner-gateway: invalid configuration: MOCK=0 (production) requires ISSUER, ADMIN_API_KEY, DATABASE_PATH to be set',
    )
  })

  it('`npx partner-gateway start` serves the seeded mock provider and stops on a signal', async () => {
    const databasePath = join(work, 'gateway.sqlite')
    const gateway = startServer('npx', ['--no-install', 'partner-gateway', 'start'], {
      PORT: '0',
      DATABASE_PATH: databasePath,
    })
    try {
      const listening = await gateway.waitFor(/^\{.*"msg":"listening".*\}$/m)
      const { issuer } = JSON.parse(listening[0]) as { issuer: string }
      const banner = gateway.stdout()
      expect(banner).toContain(`  Issuer         ${issuer}\n`)
      const secret = /client_secret {3}(\S+)/.exec(banner)?.[1]
      const adminKey = /Admin API key {2}(\S+)/.exec(banner)?.[1]

      // A real endpoint, the spec (read from the package root by dist/), and the printed keys.
      const metadata = await fetch(`${issuer}/.well-known/oauth-authorization-server`)
      expect(metadata.status).toBe(200)
      expect((await metadata.json()).issuer).toBe(issuer)
      expect((await fetch(`${issuer}/openapi.yaml`)).status).toBe(200)
      const client = await fetch(`${issuer}/admin/v1/clients/demo-terra-client`, {
        headers: { authorization: `Bearer ${adminKey}` },
      })
      expect(client.status).toBe(200)
      expect((await client.json()).redirect_uris).toContain(`${issuer}/demo/callback`)
      const introspect = (clientSecret: string) =>
        fetch(`${issuer}/oauth/introspect`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${btoa(`demo-terra-client:${clientSecret}`)}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: 'token=not-a-token',
        })
      const answer = await introspect(String(secret))
      expect(answer.status).toBe(200)
      expect(await answer.json()).toStrictEqual({ active: false })
      expect((await introspect('pgs_not_the_secret')).status).toBe(401)

      // Ctrl-C signals the whole foreground process group: npm, its shell and the gateway.
      process.kill(-(gateway.child.pid as number), 'SIGINT')
      await gateway.exited
      expect(gateway.stdout()).toMatch(/"msg":"shutting down","signal":"SIGINT"/)
      await expect(fetch(`${issuer}/.well-known/oauth-authorization-server`)).rejects.toThrow()
    } finally {
      gateway.kill()
    }

    // The bin itself, on the database just seeded: SIGTERM, then exit code 0.
    const direct = startServer(join(project, 'node_modules/.bin/partner-gateway'), ['start'], {
      PORT: '0',
      DATABASE_PATH: databasePath,
    })
    try {
      await direct.waitFor(/"msg":"listening"/)
      expect(direct.stdout()).toMatch(/Demo users \(password: mockwear-demo\) — \d+ records/)
      direct.child.kill('SIGTERM')
      expect(await direct.exited).toStrictEqual({ code: 0, signal: null })
    } finally {
      direct.kill()
    }
  }, 180_000)

  it('runs the README example against partner-gateway/testing, and its types check', async () => {
    // The user's own test tools: vitest and TypeScript from this repository, linked in.
    symlinkSync(join(ROOT, 'node_modules/vitest'), join(project, 'node_modules/vitest'))
    const example = join(project, 'example')
    mkdirSync(example)
    writeFileSync(join(example, 'example.test.ts'), readmeExample())
    writeFileSync(
      join(example, 'vitest.config.mjs'),
      "export default { test: { include: ['example.test.ts'], testTimeout: 30000, hookTimeout: 30000 } }\n",
    )
    writeFileSync(
      join(example, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'preserve',
          moduleResolution: 'bundler',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: true,
          lib: ['ES2023', 'DOM'],
          types: [],
        },
        files: ['example.test.ts'],
      }),
    )
    const [tests, types] = await Promise.all([
      run(
        process.execPath,
        [join(project, 'node_modules/vitest/vitest.mjs'), 'run', '--root', example],
        { cwd: project, env: cleanEnv({ CI: '1' }), timeoutMs: 120_000 },
      ),
      run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(example, 'tsconfig.json')], {
        cwd: project,
        timeoutMs: 120_000,
      }),
    ])
    expect(tests.code, tests.stdout + tests.stderr).toBe(0)
    expect(tests.stdout).toMatch(/Tests\s+3 passed \(3\)/)
    expect(types.stdout + types.stderr).toBe('')
    expect(types.code).toBe(0)
  }, 180_000)
})
