import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { type Config, ConfigError, loadConfig } from '../config.ts'
import { type Db, schema } from '../db/index.ts'
import {
  type DiagnosticItem,
  type DiagnosticsReport,
  diagnose,
  worst,
} from '../observe/diagnostics.ts'
import { sqliteDatabaseProbe, sqliteMigrationsProbe } from '../observe/node-probes.ts'
import { errorLine } from '../observe/probes.ts'
import { EXIT, PROGRAM, parseOptions, UsageError } from './command.ts'

/*
 * `partner-gateway doctor`: the diagnostics of src/observe/diagnostics.ts, either on the database
 * file with this environment's configuration (as `npm start` would read it; nothing is migrated
 * or written), or from a running gateway through GET /admin/v1/diagnostics. One line per item,
 * OK/WARN/FAIL with what to do; exit 1 if any item FAILs.
 */

export const DOCTOR_HELP = `Usage: ${PROGRAM} doctor [--database <path>] [--json]
       ${PROGRAM} doctor --url <gateway> [--admin-key <key>] [--json]

Checks a deployment and says what to fix: the configuration (mode, issuer, admin key), the
database (reachable, the same file, writable, migrations applied), the webhook delivery backlog
and dead letters, each client's webhook (last success, failures in a row, disabled) and the clock
(against the Date header of the receivers' last answer). Each item is OK, WARN or FAIL.

Without --url it opens the SQLite file at DATABASE_PATH (or --database) with the configuration of
this environment, as \`start\` would, without migrating or writing anything; run it as the user
the gateway runs as. The webhook worker runs inside the gateway, so only --url checks it.
With --url it asks the running gateway (GET /admin/v1/diagnostics, with the admin key from
--admin-key or, better, ADMIN_API_KEY, which stays out of the process list).

Options:
  --database <path>   the SQLite file (default: DATABASE_PATH, or ./data/gateway.sqlite)
  --url <gateway>     a running gateway's base URL, e.g. https://auth.example.com
  --admin-key <key>   the admin key for --url (default: ADMIN_API_KEY)
  --json              print the report as JSON instead of lines

Exit codes: 0 nothing failed (warnings allowed), 1 something failed, 2 usage error.`

export interface DoctorIo {
  env: Record<string, string | undefined>
  /** One line of output (stdout). */
  out: (line: string) => void
  fetch: typeof fetch
}

const defaultIo: DoctorIo = {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  fetch: globalThis.fetch,
}

const LABEL = { ok: 'OK', warn: 'WARN', fail: 'FAIL' } as const

/** The report as lines: one per item, then a count. */
export function formatReport(report: DiagnosticsReport, where: string): string[] {
  const width = Math.max(...report.items.map((i) => i.id.length))
  const lines = [`${PROGRAM} doctor: ${where} (version ${report.version}, ${report.checked_at})`]
  for (const i of report.items) {
    const action = i.action ? ` → ${i.action}` : ''
    lines.push(`${LABEL[i.status].padEnd(4)}  ${i.id.padEnd(width)}  ${i.message}${action}`)
  }
  const count = (s: DiagnosticItem['status']) => report.items.filter((i) => i.status === s).length
  lines.push(`${count('fail')} failed, ${count('warn')} warnings, ${count('ok')} ok`)
  return lines
}

function singleItemReport(item: DiagnosticItem): DiagnosticsReport {
  return { status: item.status, version: '?', checked_at: new Date().toISOString(), items: [item] }
}

/** The diagnostics of the database file at `config.databasePath`, opened without migrating. */
async function diagnoseLocal(config: Config): Promise<DiagnosticsReport> {
  const path = resolve(config.databasePath)
  if (config.databasePath === ':memory:' || !existsSync(path)) {
    return singleItemReport({
      id: 'database',
      status: 'fail',
      message: `there is no database at ${path}`,
      action:
        'point DATABASE_PATH (or --database) at the gateway database; a first `start` (or `migrate`) creates it',
    })
  }
  let client: Database.Database
  try {
    client = new Database(path, { fileMustExist: true })
    client.pragma('busy_timeout = 5000')
    // Not a SQLite file at all fails here, on the first read.
    client.prepare('select count(*) from sqlite_master').get()
  } catch (err) {
    return singleItemReport({
      id: 'database',
      status: 'fail',
      message: `${path} cannot be opened as a SQLite database (${errorLine(err)})`,
      action: 'point DATABASE_PATH (or --database) at the gateway database',
    })
  }
  try {
    const db = drizzle({ client, schema }) as unknown as Db
    return await diagnose({
      db,
      config,
      now: Date.now,
      probes: {
        database: sqliteDatabaseProbe(client, path),
        migrations: sqliteMigrationsProbe(client),
      },
    })
  } finally {
    client.close()
  }
}

async function diagnoseRemote(url: string, key: string, io: DoctorIo): Promise<DiagnosticsReport> {
  const endpoint = `${url.replace(/\/+$/, '')}/admin/v1/diagnostics`
  let response: Response
  try {
    response = await io.fetch(endpoint, {
      headers: { authorization: `Bearer ${key}`, accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    })
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause
    return singleItemReport({
      id: 'gateway',
      status: 'fail',
      message: `cannot reach ${endpoint}: ${errorLine(cause ?? err)}`,
      action: 'check the URL, and that the gateway runs and is reachable from here',
    })
  }
  if (response.status === 401) {
    return singleItemReport({
      id: 'gateway',
      status: 'fail',
      message: `${endpoint} refused the admin key (401)`,
      action: "pass the gateway's ADMIN_API_KEY (environment variable, or --admin-key)",
    })
  }
  const text = await response.text()
  let report: DiagnosticsReport | null = null
  try {
    const parsed = JSON.parse(text) as Partial<DiagnosticsReport>
    if (response.ok && Array.isArray(parsed.items)) report = parsed as DiagnosticsReport
  } catch {
    // not JSON: reported below
  }
  if (!report) {
    return singleItemReport({
      id: 'gateway',
      status: 'fail',
      message: `${endpoint} answered ${response.status} ${JSON.stringify(text.slice(0, 200))} instead of a diagnostics report`,
      action:
        "check that the URL is the gateway's base URL (its ISSUER) and that it runs this version or later",
    })
  }
  return report
}

/**
 * Runs `doctor` with `argv` (the arguments after the command's name) and resolves with the exit
 * code. Usage errors throw the dispatcher's UsageError (exit 2).
 */
export async function runDoctor(argv: string[], io: DoctorIo = defaultIo): Promise<number> {
  const options = parseOptions(argv, {
    database: { type: 'string' },
    url: { type: 'string' },
    'admin-key': { type: 'string' },
    json: { type: 'boolean' },
  })
  if (options === null) {
    io.out(DOCTOR_HELP)
    return EXIT.ok
  }
  let report: DiagnosticsReport
  let where: string
  if (options.url !== undefined) {
    if (options.database !== undefined) {
      throw new UsageError('--url and --database exclude each other')
    }
    const key = options['admin-key'] ?? io.env.ADMIN_API_KEY
    if (!key) {
      throw new UsageError('--url needs the admin key: set ADMIN_API_KEY or pass --admin-key')
    }
    where = options.url
    report = await diagnoseRemote(options.url, key, io)
  } else {
    const env = { ...io.env }
    if (options.database !== undefined) env.DATABASE_PATH = options.database
    try {
      const config = loadConfig(env)
      where = resolve(config.databasePath)
      report = await diagnoseLocal(config)
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      where = 'this environment'
      report = singleItemReport({
        id: 'config',
        status: 'fail',
        message: err.message.replace(/\n\s*/g, ' '),
        action: 'fix the environment variables named above (see the README, Configuration)',
      })
    }
  }
  if (options.json) io.out(JSON.stringify(report, null, 2))
  else {
    for (const line of formatReport(report, where)) io.out(line)
    if (options.url === undefined) {
      io.out('(the webhook worker runs inside the gateway: check it with --url <gateway>)')
    }
  }
  return worst(report.items.map((i) => i.status)) === 'fail' ? EXIT.failure : EXIT.ok
}
