import { spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { runDoctor } from '../../src/cli/doctor.ts'
import { runCli } from '../../src/cli/run.ts'
import { openSqlite } from '../../src/db/sqlite.ts'
import { shippedMigrations } from '../../src/observe/node-probes.ts'
import { sleepAt } from '../helpers/data.ts'
import { closedPort, type Receiver, startReceiver } from '../helpers/receiver.ts'
import { adminClient, connectOverHttp } from '../notify/child-gateway.ts'
import { NODE_ADMIN_KEY, type NodeGateway, startNodeGateway } from './node-gateway.ts'

/*
 * `partner-gateway doctor`, on a database file and against a running gateway: one line per item
 * with what to do, exit 1 on any FAIL. The failures are real: a removed file, a file SQLite
 * treats as read-only, missing migrations, a file that is not a database, a broken environment,
 * an unreachable gateway, a wrong key, a failing webhook endpoint.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'pgw-doctor-'))
const STRONG_KEY = 'doctor-Wm4Rt8Yq2Lp6Xz9Kc3Vb7Nh1Gs5'
const PRODUCTION = { MOCK: '0', ISSUER: 'https://auth.example.com', ADMIN_API_KEY: STRONG_KEY }
const MIGRATIONS = shippedMigrations().length

let running: NodeGateway | undefined
let receiver: Receiver | undefined
afterEach(async () => {
  await running?.dispose()
  running = undefined
  await receiver?.close()
  receiver = undefined
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let counter = 0
/** A fresh, migrated gateway database. */
function freshDatabase(): string {
  const path = join(dir, `gateway-${++counter}.sqlite`)
  openSqlite(path).close()
  return path
}

async function doctor(argv: string[], env: Record<string, string> = PRODUCTION) {
  const lines: string[] = []
  const code = await runDoctor(argv, { env, out: (line) => lines.push(line), fetch })
  return { code, lines }
}

/** The report lines without the header (which carries the time) and the closing note. */
const items = (lines: string[]) => lines.filter((l) => /^(OK|WARN|FAIL) /.test(l))

describe('doctor on a database file', () => {
  it('says OK item by item and exits 0 for a sound production setup', async () => {
    const path = freshDatabase()
    const { code, lines } = await doctor(['--database', path])
    expect(lines[0]).toMatch(
      new RegExp(
        `^partner-gateway doctor: ${path} \\(version 0\\.1\\.0, \\d{4}-\\d\\d-\\d\\dT.+Z\\)$`,
      ),
    )
    expect(lines.slice(1)).toStrictEqual([
      'OK    config.mode          production mode (MOCK=0)',
      'OK    config.issuer        the issuer https://auth.example.com uses https',
      `OK    config.admin_key     the admin key is strong: ${STRONG_KEY.length} characters, ${new Set(STRONG_KEY).size} distinct (ADMIN_API_KEY)`,
      `OK    database             ${path} answers queries and accepts writes`,
      `OK    database.migrations  all ${MIGRATIONS} migrations applied`,
      'OK    deliveries.backlog   0 changes waiting to be fanned out, 0 deliveries due now, 0 pending in all, 0 in flight, 0 held',
      'OK    deliveries.failed    no delivery has failed for good',
      expect.stringMatching(
        /^OK {4}clock {16}our clock reads .+; no webhook answer in the last 24 h to compare it with/,
      ),
      '0 failed, 0 warnings, 8 ok',
      '(the webhook worker runs inside the gateway: check it with --url <gateway>)',
    ])
    expect(code).toBe(0)
  })

  it('FAILs a database file that is not there', async () => {
    const path = freshDatabase()
    rmSync(path)
    const { code, lines } = await doctor(['--database', path])
    expect(items(lines)).toStrictEqual([
      `FAIL  database  there is no database at ${path} → point DATABASE_PATH (or --database) at the gateway database; a first \`start\` (or \`migrate\`) creates it`,
    ])
    expect(code).toBe(1)
  })

  it('FAILs a read-only database with the reason', async () => {
    const path = freshDatabase()
    // Root (CI) ignores file permissions, so chmod cannot make the file read-only for this test.
    // SQLite's own file format can: a "write version" above 2 in the header (byte 18) tells every
    // SQLite that opens the file to treat it as read-only (sqlite.org/fileformat2.html, §1.3.3),
    // whoever the user is. Every write then fails with SQLITE_READONLY, as on a read-only mount.
    const fd = openSync(path, 'r+')
    writeSync(fd, Buffer.from([3]), 0, 1, 18)
    closeSync(fd)
    const readonly = new Database(path)
    expect(() => readonly.exec("insert into settings values ('x', 'y')")).toThrow(
      /attempt to write a readonly database/,
    )
    readonly.close()

    const { code, lines } = await doctor(['--database', path])
    expect(items(lines)).toContainEqual(
      `FAIL  database             the database refuses writes (attempt to write a readonly database) → make the database file, its directory and its -wal/-shm files writable by the gateway's user (check for a read-only mount or a full disk), then restart the gateway`,
    )
    expect(lines.at(-2)).toMatch(/^1 failed, /)
    expect(code).toBe(1)
  })

  it('FAILs a database without its migrations, and skips what needs the schema', async () => {
    const path = join(dir, 'empty.sqlite')
    new Database(path).exec('create table unrelated (x)')
    const { code, lines } = await doctor(['--database', path])
    expect(items(lines).map((l) => l.split(/ +/).slice(0, 2))).toStrictEqual([
      ['OK', 'config.mode'],
      ['OK', 'config.issuer'],
      ['OK', 'config.admin_key'],
      ['OK', 'database'],
      ['FAIL', 'database.migrations'],
    ])
    expect(items(lines)[3]).toBe(
      `OK    database             ${path}: takes the write lock (the schema is missing: see the migrations)`,
    )
    expect(items(lines)[4]).toBe(
      `FAIL  database.migrations  ${MIGRATIONS} of ${MIGRATIONS} migrations not applied (${shippedMigrations()
        .map((m) => m.tag)
        .join(', ')}) → start (or restart) the gateway: it applies pending migrations at start-up`,
    )
    expect(code).toBe(1)
  })

  it('FAILs a file that is not a SQLite database', async () => {
    const path = join(dir, 'notes.txt')
    writeFileSync(path, 'this is not a database, just some text that is long enough\n'.repeat(20))
    const { code, lines } = await doctor(['--database', path])
    expect(items(lines)).toStrictEqual([
      `FAIL  database  ${path} cannot be opened as a SQLite database (file is not a database) → point DATABASE_PATH (or --database) at the gateway database`,
    ])
    expect(code).toBe(1)
  })

  it('FAILs an environment the gateway would refuse, naming the variables', async () => {
    const { code, lines } = await doctor([], { MOCK: '0' })
    expect(items(lines)).toStrictEqual([
      'FAIL  config  invalid configuration: MOCK=0 (production) requires ISSUER, ADMIN_API_KEY, DATABASE_PATH to be set; there are no defaults in production → fix the environment variables named above (see the README, Configuration)',
    ])
    expect(code).toBe(1)
  })

  it('prints the report as JSON with --json', async () => {
    const path = freshDatabase()
    const { code, lines } = await doctor(['--database', path, '--json'])
    expect(lines).toHaveLength(1)
    const report = JSON.parse(lines[0] as string)
    expect(report).toMatchObject({ status: 'ok', version: '0.1.0' })
    expect(report.items.map((i: { id: string }) => i.id)).toStrictEqual([
      'config.mode',
      'config.issuer',
      'config.admin_key',
      'database',
      'database.migrations',
      'deliveries.backlog',
      'deliveries.failed',
      'clock',
    ])
    expect(code).toBe(0)
  })
})

describe('doctor --url against a running gateway', () => {
  it("shows the gateway's own report, a failing webhook as WARN, and exits 1 on a FAIL", {
    timeout: 30_000,
  }, async () => {
    receiver = await startReceiver()
    receiver.setDefault(503)
    running = await startNodeGateway()
    const gw = running
    const admin = adminClient(gw.url, NODE_ADMIN_KEY)
    const redirect = 'https://terra.example.test/callback'
    const created = await admin('/clients', {
      method: 'POST',
      json: { name: 'Terra', redirect_uris: [redirect], webhook_url: receiver.url },
    })
    const clientId = created.body.client_id as string
    const user = await admin('/users', {
      method: 'POST',
      json: { email: 'doc@example.test', password: 'a long enough password', timezone: 'UTC' },
    })
    await connectOverHttp(
      gw.url,
      { clientId, clientSecret: created.body.client_secret as string, redirectUri: redirect },
      { email: 'doc@example.test', password: 'a long enough password' },
    )
    await admin(`/users/${user.body.user_id}/sleep`, {
      method: 'PUT',
      json: { data: [sleepAt('d-1', '2026-02-01T23:00:00Z')] },
    })
    await receiver.waitFor(1)
    // The attempt is recorded just after the receiver answers.
    let lines: string[] = []
    let code = -1
    for (let i = 0; i < 50; i++) {
      ;({ code, lines } = await doctor(['--url', gw.url], { ADMIN_API_KEY: NODE_ADMIN_KEY }))
      if (lines.some((l) => l.startsWith('WARN  webhook.'))) break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(lines[0]).toMatch(new RegExp(`^partner-gateway doctor: ${gw.url} \\(version 0\\.1\\.0`))
    expect(
      items(lines).map((l) => l.replace(/ {2,}/g, '  ').split('  ').slice(0, 2)),
    ).toStrictEqual([
      ['OK', 'config.mode'],
      // This test gateway listens on http://127.0.0.1: not what production wants.
      ['FAIL', 'config.issuer'],
      ['OK', 'config.admin_key'],
      ['OK', 'database'],
      ['OK', 'database.migrations'],
      ['OK', 'worker'],
      ['OK', 'deliveries.backlog'],
      ['OK', 'deliveries.failed'],
      ['WARN', `webhook.${clientId}`],
      ['OK', 'clock'],
    ])
    expect(items(lines)[8]).toMatch(
      /: last success never, 1 failed attempts since, 0 dead letters, 0 held; last attempt .+: http_5xx \(503\) → check the receiver at /,
    )
    expect(code).toBe(1)

    const wrongKey = await doctor(['--url', gw.url, '--admin-key', 'not-the-key'], {})
    expect(items(wrongKey.lines)).toStrictEqual([
      `FAIL  gateway  ${gw.url}/admin/v1/diagnostics refused the admin key (401) → pass the gateway's ADMIN_API_KEY (environment variable, or --admin-key)`,
    ])
    expect(wrongKey.code).toBe(1)
  })

  it('FAILs a gateway it cannot reach', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`
    const { code, lines } = await doctor(['--url', url], { ADMIN_API_KEY: STRONG_KEY })
    expect(items(lines)).toStrictEqual([
      expect.stringMatching(
        new RegExp(
          `^FAIL  gateway  cannot reach ${url}/admin/v1/diagnostics: .*ECONNREFUSED.* → check the URL, and that the gateway runs and is reachable from here$`,
        ),
      ),
    ])
    expect(code).toBe(1)
  })

  it('is a usage error (exit 2) without an admin key', async () => {
    expect(await runCli(['doctor', '--url', 'http://127.0.0.1:1'])).toBe(2)
  })
})

describe('partner-gateway doctor as a process', () => {
  function cli(args: string[], env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
    })
    return new Promise<{ code: number | null; stdout: string }>((resolve) => {
      child.on('exit', (code) => resolve({ code, stdout }))
    })
  }

  it('exits 0 on a sound database and 1 once its file is gone', { timeout: 30_000 }, async () => {
    const path = freshDatabase()
    const sound = await cli(['doctor', '--database', path], PRODUCTION)
    expect(sound.stdout).toContain('0 failed, 0 warnings, 8 ok')
    expect(sound.code).toBe(0)
    rmSync(path)
    const gone = await cli(['doctor'], { ...PRODUCTION, DATABASE_PATH: path })
    expect(gone.stdout).toContain(`FAIL  database  there is no database at ${path}`)
    expect(gone.code).toBe(1)
  })
})
