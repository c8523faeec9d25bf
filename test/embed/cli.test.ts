import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyPassword, verifySecret } from '../../src/crypto.ts'
import { DEMO_USERS } from '../../src/mock/demo.ts'
import { startMockProvider } from '../../src/testing.ts'
import { closedPort } from '../helpers/receiver.ts'
import { cleanEnv, ROOT, run } from './run.ts'

/*
 * The `partner-gateway` command from its source (src/cli/main.ts through tsx), as real child
 * processes on real SQLite files: output, exit codes and what ends up in the database. The pack
 * test runs the built package the same way.
 */

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'partner-gateway-cli-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const TSX = ['--import', 'tsx']

/** Runs `partner-gateway <args>` with only `env` as its environment. */
function cli(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [...TSX, 'src/cli/main.ts', ...args], {
    env: cleanEnv(env),
    timeoutMs: 60_000,
  })
}

const JOURNAL = JSON.parse(readFileSync(join(ROOT, 'drizzle/meta/_journal.json'), 'utf8')) as {
  entries: { tag: string }[]
}
const TAGS = JOURNAL.entries.map((e) => e.tag)

function query<T>(path: string, sql: string): T[] {
  const db = new Database(path, { readonly: true })
  try {
    return db.prepare(sql).all() as T[]
  } finally {
    db.close()
  }
}

describe('partner-gateway (dispatcher)', () => {
  it('--help lists every command and exits 0', async () => {
    const { code, stdout, stderr } = await cli(['--help'])
    expect(code).toBe(0)
    expect(stderr).toBe('')
    expect(stdout).toMatch(/^Usage: partner-gateway <command> \[options\]\n/)
    const listed = [...stdout.matchAll(/^ {2}([a-z]+(?: create)?) {2,}/gm)].map((m) => m[1])
    expect(listed).toStrictEqual([
      'start',
      'migrate',
      'seed',
      'client create',
      'user create',
      'doctor',
      'conformance',
    ])
    expect(stdout).toContain(
      'Exit codes: 0 success, 1 failure, 2 usage error, 78 invalid configuration.',
    )
  })

  it('names what is wrong with a command line and exits 2', async () => {
    const [none, unknown, group, sub] = await Promise.all([
      cli([]),
      cli(['serve']),
      cli(['client']),
      cli(['client', 'delete']),
    ])
    expect(none.code).toBe(2)
    expect(none.stdout).toBe('')
    expect(none.stderr).toMatch(/^Usage: partner-gateway <command>/)
    expect(unknown).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'partner-gateway: unknown command "serve"\nRun `partner-gateway --help` for the commands.\n',
    })
    expect(group.stderr).toBe(
      'partner-gateway: "client" needs a subcommand: "client create"\nRun `partner-gateway --help` for the commands.\n',
    )
    expect(sub.stderr).toMatch(
      /^partner-gateway: unknown command "client delete" \(the known ones: "client create"\)\n/,
    )
    expect([group.code, sub.code]).toStrictEqual([2, 2])
  })

  it('gives every command its own --help (and `help <command>`), exit 0', async () => {
    const names = ['start', 'migrate', 'seed', 'client create', 'user create']
    const answers = await Promise.all([
      ...names.map((name) => cli([...name.split(' '), '--help'])),
      cli(['help', 'client', 'create']),
      cli(['conformance', '--help']),
    ])
    for (const [i, name] of names.entries()) {
      expect(answers[i]?.code).toBe(0)
      expect(answers[i]?.stdout).toMatch(new RegExp(`^Usage: partner-gateway ${name}\\b`))
    }
    expect(answers[names.length]?.stdout).toBe(answers[3]?.stdout)
    const conformance = answers[names.length + 1]
    expect(conformance?.code).toBe(0)
    expect(conformance?.stdout).toMatch(/^Usage: partner-gateway conformance --issuer <url>/)
  })

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` })
  })
})

describe('partner-gateway migrate', () => {
  it('creates the database, lists what it applied, and is idempotent', async () => {
    const path = join(dir, 'migrate.sqlite')
    const first = await cli(['migrate'], { DATABASE_PATH: path })
    expect(first).toMatchObject({ code: 0, stderr: '' })
    expect(first.stdout).toBe(
      `${path}: applied ${TAGS.length} of ${TAGS.length} migrations\n${TAGS.map((t) => `  ${t}\n`).join('')}`,
    )
    expect(
      query<{ n: number }>(path, 'SELECT COUNT(*) AS n FROM __drizzle_migrations'),
    ).toStrictEqual([{ n: TAGS.length }])
    const again = await cli(['migrate'], { DATABASE_PATH: path })
    expect(again).toMatchObject({
      code: 0,
      stdout: `${path} is up to date: ${TAGS.length} migrations, the latest ${TAGS.at(-1)}. Nothing applied.\n`,
    })
  })

  it('refuses a file that is not a SQLite database (exit 1) and leaves it alone', async () => {
    const path = join(dir, 'not-a-database.sqlite')
    writeFileSync(path, 'these are notes, not a database\n')
    const { code, stdout, stderr } = await cli(['migrate'], { DATABASE_PATH: path })
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toBe(
      `partner-gateway migrate: DATABASE_PATH=${path} is not a SQLite database this gateway can migrate (file is not a database). Point DATABASE_PATH at the gateway database, or at a new file to create one.\n`,
    )
    expect(readFileSync(path, 'utf8')).toBe('these are notes, not a database\n')
  })

  it('stops on an invalid environment with exit 78, naming the variable', async () => {
    const { code, stderr } = await cli(['migrate'], {
      PORT: 'eighty',
      DATABASE_PATH: join(dir, 'x'),
    })
    expect(code).toBe(78)
    expect(stderr).toMatch(/^partner-gateway: invalid configuration:\n {2}PORT: /)
  })

  it('exits 2 for an option it does not know', async () => {
    const { code, stderr } = await cli(['migrate', '--force'])
    expect(code).toBe(2)
    expect(stderr).toBe(
      "partner-gateway migrate: Unknown option '--force'\nRun `partner-gateway migrate --help` for usage.\n",
    )
  })
})

describe('partner-gateway seed', () => {
  it('seeds the demo cast and --days of data once, printing the credentials', async () => {
    const path = join(dir, 'seed.sqlite')
    const { code, stdout } = await cli(['seed', '--days', '2'], { DATABASE_PATH: path })
    expect(code).toBe(0)
    for (const user of DEMO_USERS)
      expect(stdout).toMatch(new RegExp(`${user.email} .* ${user.timezone}`))
    expect(stdout).toMatch(/client_secret {3}pgs_demo_/)
    const adminKey = /Admin API key {2}(pgadm_\S+)/.exec(stdout)?.[1]
    const [stored] = query<{ value: string }>(
      path,
      "SELECT value FROM settings WHERE key = 'mock_admin_key'",
    )
    expect(adminKey).toBe(stored?.value)
    const [live] = query<{ n: number }>(
      path,
      'SELECT COUNT(*) AS n FROM records WHERE deleted_at IS NULL',
    )
    expect(stdout).toContain(`Seeded ${path}: ${live?.n} records added.\n`)
    const dailies = query<{ n: number }>(
      path,
      "SELECT COUNT(*) AS n FROM records WHERE type = 'daily'",
    )
    expect(dailies).toStrictEqual([{ n: DEMO_USERS.length * 2 }])

    const again = await cli(['seed'], { DATABASE_PATH: path })
    expect(again.code).toBe(0)
    expect(again.stdout).toContain(`${path} was already seeded: no records added.\n`)
  })

  it('refuses production (MOCK=0) with exit 78 and writes nothing', async () => {
    const path = join(dir, 'production.sqlite')
    const { code, stderr } = await cli(['seed'], {
      MOCK: '0',
      ISSUER: 'https://auth.example.com',
      ADMIN_API_KEY: 'a-production-admin-key-0123456789',
      DATABASE_PATH: path,
    })
    expect(code).toBe(78)
    expect(stderr).toBe(
      'partner-gateway: seed writes demo accounts with published passwords, so it refuses MOCK=0 (production). Unset MOCK (or set MOCK=1) to seed a mock-mode database.\n',
    )
    expect(() => readFileSync(path)).toThrow(/ENOENT/)
  })

  it('exits 2 for a --days that is not a whole number of days', async () => {
    const { code, stderr } = await cli(['seed', '--days', 'a week'])
    expect(code).toBe(2)
    expect(stderr).toMatch(
      /^partner-gateway seed: --days must be a whole number from 0 to 1826, not "a week"\n/,
    )
  })
})

describe('partner-gateway client create', () => {
  it('registers the client and prints it once with both secrets, as the admin API does', async () => {
    const path = join(dir, 'clients.sqlite')
    const { code, stdout, stderr } = await cli(
      [
        'client',
        'create',
        '--name',
        'Terra',
        '--redirect-uri',
        'https://terra.example/cb',
        '--redirect-uri',
        'http://localhost:3000/cb',
        '--webhook-url',
        'https://terra.example/hooks',
        '--signature-scheme',
        'standard',
        '--payload-mode',
        'ping',
      ],
      { DATABASE_PATH: path },
    )
    expect(code).toBe(0)
    expect(stderr).toBe('Store client_secret and webhook_secret now: they are not shown again.\n')
    const created = JSON.parse(stdout)
    expect(created).toStrictEqual({
      client_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      client_secret: expect.stringMatching(/^pgs_/),
      webhook_secret: expect.stringMatching(/^whsec_/),
      name: 'Terra',
      redirect_uris: ['https://terra.example/cb', 'http://localhost:3000/cb'],
      webhook_url: 'https://terra.example/hooks',
      signature_scheme: 'standard',
      payload_mode: 'ping',
      webhook_status: 'active',
      created_at: expect.any(String),
      updated_at: created.created_at,
    })
    const rows = query<{ id: string; secret_hash: string; redirect_uris: string }>(
      path,
      'SELECT id, secret_hash, redirect_uris FROM clients',
    )
    expect(rows.map((r) => r.id)).toStrictEqual([created.client_id])
    expect(await verifySecret(created.client_secret, String(rows[0]?.secret_hash))).toBe(true)
    expect(query(path, 'SELECT secret FROM webhook_secrets')).toStrictEqual([
      { secret: created.webhook_secret },
    ])
  })

  it('refuses invalid values with the admin API messages (exit 2), storing nothing', async () => {
    const path = join(dir, 'invalid-client.sqlite')
    const { code, stdout, stderr } = await cli(
      [
        'client',
        'create',
        '--name',
        ' ',
        '--redirect-uri',
        'http://terra.example/cb',
        '--redirect-uri',
        'https://a.example/cb',
        '--redirect-uri',
        'https://a.example/cb',
        '--signature-scheme',
        'hmac',
      ],
      { DATABASE_PATH: path },
    )
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toBe(
      [
        'partner-gateway client create: the client is not valid:',
        '  name (--name): Must not be empty.',
        '  redirect_uris[0] (--redirect-uri): Must use https; http is allowed only for loopback hosts (127.0.0.1, localhost, [::1]).',
        '  redirect_uris[2] (--redirect-uri): Is listed twice.',
        '  signature_scheme (--signature-scheme): Invalid option: expected one of "terra"|"standard"',
        'Run `partner-gateway client create --help` for usage.',
        '',
      ].join('\n'),
    )
    // Validation comes first: the database was not even created.
    expect(() => readFileSync(path)).toThrow(/ENOENT/)
    const missing = await cli(['client', 'create', '--webhook-url', 'https://x.example'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(
      /^partner-gateway client create: missing --name, --redirect-uri\n/,
    )
  })
})

describe('partner-gateway user create', () => {
  it('creates the user and prints it; the password signs in', async () => {
    const path = join(dir, 'users.sqlite')
    const { code, stdout } = await cli(
      [
        'user',
        'create',
        '--email',
        'Ana@Example.com',
        '--timezone',
        'europe/madrid',
        '--password',
        'a-long-password',
        '--reference',
        'crm-42',
      ],
      { DATABASE_PATH: path },
    )
    expect(code).toBe(0)
    const created = JSON.parse(stdout)
    expect(created).toStrictEqual({
      user_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: 'ana@example.com',
      timezone: 'Europe/Madrid',
      reference: 'crm-42',
      display_name: null,
      created_at: expect.any(String),
    })
    const [row] = query<{ id: string; password_hash: string }>(
      path,
      'SELECT id, password_hash FROM users',
    )
    expect(row?.id).toBe(created.user_id)
    expect(await verifyPassword('a-long-password', String(row?.password_hash))).toBe(true)

    const taken = await cli(['user', 'create', '--email', 'ana@example.com', '--timezone', 'UTC'], {
      DATABASE_PATH: path,
    })
    expect(taken).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        'partner-gateway user create: A user with the email ana@example.com already exists.\n',
    })
  })

  it('refuses invalid values with the admin API messages (exit 2)', async () => {
    const { code, stderr } = await cli(
      [
        'user',
        'create',
        '--email',
        'ana',
        '--timezone',
        'Mars/Olympus_Mons',
        '--password',
        'short',
      ],
      { DATABASE_PATH: join(dir, 'invalid-user.sqlite') },
    )
    expect(code).toBe(2)
    expect(stderr).toBe(
      [
        'partner-gateway user create: the user is not valid:',
        '  email (--email): Must be an email address.',
        '  password (--password): Must be at least 8 characters.',
        '  timezone (--timezone): Must be an IANA time zone such as Europe/Berlin.',
        'Run `partner-gateway user create --help` for usage.',
        '',
      ].join('\n'),
    )
  })
})

/** A long-running child: collects output, resolves `exited` with its code or signal. */
function serve(entry: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [...TSX, ...entry], {
    cwd: ROOT,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  return { child, exited, stdout: () => stdout, stderr: () => stderr }
}

async function waitForLine(read: () => string, pattern: RegExp, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const match = pattern.exec(read())
    if (match) return match
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${read()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe.each([
  { entry: ['src/cli/main.ts', 'start'], name: 'partner-gateway start' },
  { entry: ['src/node.ts'], name: 'npm start (src/node.ts)' },
])('$name', ({ entry }) => {
  it('serves until SIGTERM, then exits 0', async () => {
    const port = await closedPort()
    const issuer = `http://127.0.0.1:${port}`
    const gateway = serve(entry, {
      MOCK: '0',
      PORT: String(port),
      ISSUER: issuer,
      ADMIN_API_KEY: 'cli-test-admin-key-0123456789',
      DATABASE_PATH: join(dir, `serve-${port}.sqlite`),
    })
    const listening = await waitForLine(gateway.stdout, /^\{.*"msg":"listening".*\}$/m)
    expect(JSON.parse(listening[0])).toMatchObject({ url: issuer, issuer })
    const metadata = await fetch(`${issuer}/.well-known/oauth-authorization-server`)
    expect((await metadata.json()).issuer).toBe(issuer)
    gateway.child.kill('SIGTERM')
    expect(await gateway.exited).toBe(0)
    expect(gateway.stdout()).toMatch(/"msg":"shutting down","signal":"SIGTERM"/)
  })

  it('says which port is taken and exits 1', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const address = blocker.address()
    const port = typeof address === 'object' && address ? address.port : 0
    try {
      const gateway = serve(entry, {
        PORT: String(port),
        DATABASE_PATH: join(dir, `busy-${port}.sqlite`),
      })
      expect(await gateway.exited).toBe(1)
      // `partner-gateway start: …` from the CLI, `partner-gateway: …` from npm start.
      expect(gateway.stderr()).toMatch(
        new RegExp(
          `^partner-gateway( start)?: cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use\\. Stop what is using it, or set PORT to another port \\(PORT=0 picks a free one\\)\\.\n$`,
        ),
      )
    } finally {
      blocker.close()
    }
  })

  it('refuses production without its settings, exit 78', async () => {
    const gateway = serve(entry, { MOCK: '0' })
    expect(await gateway.exited).toBe(78)
    expect(gateway.stderr()).toBe(
      'partner-gateway: invalid configuration: MOCK=0 (production) requires ISSUER, ADMIN_API_KEY, DATABASE_PATH to be set; there are no defaults in production\n',
    )
  })
})

describe('partner-gateway conformance', () => {
  it('plays Terra against a mock provider and passes every check, webhooks included', async () => {
    const provider = await startMockProvider({ days: 3 })
    try {
      const [alice] = provider.users
      const { code, stdout, stderr } = await run(
        process.execPath,
        [
          ...TSX,
          'src/cli/main.ts',
          'conformance',
          '--issuer',
          provider.issuer,
          '--client-id',
          provider.client.id,
          '--client-secret',
          provider.client.secret,
          '--redirect-uri',
          'http://localhost:3000/callback',
          '--user',
          String(alice?.email),
          '--password',
          String(alice?.password),
          '--admin-key',
          provider.adminKey,
          '--webhook-secret',
          provider.client.webhookSecret,
          '--days',
          '3',
        ],
        { env: cleanEnv(), timeoutMs: 120_000 },
      )
      expect(code, `${stdout}\n${stderr}`).toBe(0)
      expect(stdout).toMatch(/^\d+ passed, 0 failed$/m)
    } finally {
      await provider.close()
    }
  }, 150_000)

  it('exits 2 with the kit usage for a missing option', async () => {
    const { code, stderr } = await cli(['conformance', '--issuer', 'http://127.0.0.1:9'])
    expect(code).toBe(2)
    expect(stderr).toMatch(
      /^conformance: missing --client-id, --client-secret, --redirect-uri, --user, --password\n\nUsage: partner-gateway conformance /,
    )
  })
})
