import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClientRecord, createUserRecord } from '../../src/admin/records.ts'
import { loadConfig } from '../../src/config.ts'
import { atomic, type Db, type Statement } from '../../src/db/index.ts'
import { grants } from '../../src/db/schema.ts'
import type { Deps } from '../../src/http/env.ts'
import { buildTokenPair } from '../../src/oauth/tokens.ts'
import { type LoadOptions, type LoadResult, runLoad } from './load.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'

/*
 * The data-plane benchmarks' shared set-up: a temporary SQLite file seeded through the gateway's
 * own record and token code, and the real Node entry (src/node.ts) started on it in production
 * mode as a child process.
 */

export const ADMIN_API_KEY = 'bench-admin-key-0123456789abcdef'
export const DATA_SCOPE = 'sleep:read activity:read daily:read'

/** Production mode, request logs off, rate limits far above anything a benchmark sends. */
export function gatewayEnv(databasePath: string, issuer: string): Record<string, string> {
  return {
    MOCK: '0',
    ISSUER: issuer,
    ADMIN_API_KEY,
    DATABASE_PATH: databasePath,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_CLIENT_PER_MINUTE: '1000000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000000',
  }
}

/** A temporary directory for one benchmark's database, removed by `cleanup`. */
export function tempDatabase(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pg-bench-'))
  return {
    path: join(dir, 'gateway.sqlite'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** The dependencies the gateway's record and token code needs, for seeding outside the server. */
export function seedingDeps(db: Db, databasePath: string): Deps {
  return {
    db,
    config: loadConfig(gatewayEnv(databasePath, 'http://127.0.0.1:8787')),
    now: Date.now,
    random: Math.random,
    fetch: globalThis.fetch,
    defer: () => {},
    log: () => {},
    remoteAddress: () => undefined,
    openapiYaml: '',
  }
}

export interface SeededUser {
  id: string
  timezone: string
  grantId: string
}

/** One client and `count` users (time zones taken in turn from `zones`), each with a grant. */
export async function seedClientAndUsers(
  deps: Deps,
  count: number,
  zones: readonly string[],
): Promise<{ clientId: string; users: SeededUser[] }> {
  const { client } = await createClientRecord(deps, {
    name: 'Bench client',
    redirectUris: ['http://127.0.0.1/callback'],
  })
  const users: SeededUser[] = []
  for (let i = 0; i < count; i++) {
    const timezone = zones[i % zones.length] as string
    const user = await createUserRecord(deps, { email: `bench${i}@example.test`, timezone })
    const grantId = crypto.randomUUID()
    const at = deps.now()
    await deps.db.insert(grants).values({
      id: grantId,
      userId: user.id,
      clientId: client.id,
      scope: DATA_SCOPE,
      createdAt: at,
      updatedAt: at,
    })
    users.push({ id: user.id, timezone, grantId })
  }
  return { clientId: client.id, users }
}

/** One access token per user (with its refresh token), issued by the gateway's token code. */
export async function mintAccessTokens(
  deps: Deps,
  clientId: string,
  users: readonly SeededUser[],
): Promise<string[]> {
  const tokens: string[] = []
  let batch: Statement[] = []
  for (const user of users) {
    const pair = await buildTokenPair(deps, {
      clientId,
      userId: user.id,
      grantId: user.grantId,
      familyId: crypto.randomUUID(),
      parentId: null,
      scope: DATA_SCOPE,
    })
    tokens.push(pair.accessToken)
    batch.push(...pair.statements)
    if (batch.length >= 2_000) {
      await atomic(deps.db, batch)
      batch = []
    }
  }
  await atomic(deps.db, batch)
  return tokens
}

/**
 * src/node.ts on `databasePath`, in production mode, as its own process. `BENCH_GATEWAY_SCRIPT`
 * names another entry instead (e.g. a patched copy of src/, to compare a change in one run).
 */
export function startGateway(databasePath: string): Promise<ServerProcess> {
  const script = process.env.BENCH_GATEWAY_SCRIPT || 'src/node.ts'
  return startServerProcess({
    name: `gateway (${script})`,
    script,
    env: (port) => gatewayEnv(databasePath, `http://127.0.0.1:${port}`),
    readyPath: '/.well-known/oauth-authorization-server',
  })
}

/** Resident set size now and at its peak (VmRSS, VmHWM) of a process, in MB; Linux only. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 }
  } catch {
    return null
  }
}

/** CPU time (user + system) a process has used so far, in seconds; Linux only. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return null
  }
}
/** USER_HZ: Linux reports process times in 1/100 s on every architecture Node runs on. */
const CLOCK_TICKS = 100

export interface MeasuredLoad {
  result: LoadResult
  /** Server CPU time (user + system) per response, in microseconds. */
  cpuUsPerResponse: number | null
  /** The server's CPU use during the run, in cores (1 = one core busy all the time). */
  cores: number | null
}

/**
 * A load run that also reads the server process's CPU time: CPU per response depends far less on
 * what else the machine is doing than requests per second do.
 */
export async function loadWithCpu(pid: number, options: LoadOptions): Promise<MeasuredLoad> {
  const before = cpuSecondsOf(pid)
  const result = await runLoad(options)
  const after = cpuSecondsOf(pid)
  if (before === null || after === null) return { result, cpuUsPerResponse: null, cores: null }
  const responses = result.ok + result.non2xx
  return {
    result,
    cpuUsPerResponse: responses > 0 ? ((after - before) * 1e6) / responses : null,
    cores: (after - before) / result.durationSeconds,
  }
}

/**
 * The hello-world baseline again, right next to a measurement (the run's own baseline may be
 * minutes old on a busy machine), with its CPU per response.
 */
export async function adjacentHelloWorld(seconds: number): Promise<MeasuredLoad> {
  const server = await startServerProcess({
    name: 'hello-world server',
    script: 'bench/servers/hello-world.ts',
  })
  try {
    await runLoad({ url: server.url, seconds: 1 })
    return await loadWithCpu(server.pid, { url: server.url, seconds })
  } finally {
    await server.stop()
  }
}

/** `1,234,567` */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** A progress line on stderr, so stdout keeps only the figures. */
export function progress(line: string): void {
  process.stderr.write(`  … ${line}\n`)
}
