import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type autocannon from 'autocannon'
import { createClientRecord, createUserRecord } from '../src/admin/records.ts'
import { loadConfig } from '../src/config.ts'
import { atomic, type Statement } from '../src/db/index.ts'
import { grants } from '../src/db/schema.ts'
import { openSqlite } from '../src/db/sqlite.ts'
import type { Deps } from '../src/http/env.ts'
import { buildTokenPair } from '../src/oauth/tokens.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { runLoad } from './lib/load.ts'
import { detail } from './lib/report.ts'
import { startServerProcess } from './lib/server-process.ts'

/*
 * Refresh-token grants per second against the real Node entry (src/node.ts, production mode,
 * SQLite file). Every refresh consumes its token (rotation), and a reused one would take the
 * grace-window path or revoke the grant, so each request carries its own pre-issued token.
 */

const CONNECTIONS = 50
/**
 * The measured run ends after `SECONDS` or when the tokens run out, whichever comes first. Seeding
 * costs ~0.5 ms a token here (drizzle builds and prepares each insert), so the pool is kept small;
 * a server faster than ~1,000 refreshes/s ends early on tokens, still with thousands of samples.
 */
const SECONDS = 10
const WARMUP_REQUESTS = 1_000
const TOKENS = 11_000
const USERS = 100
const SCOPE = 'sleep:read activity:read daily:read'
const ADMIN_API_KEY = 'bench-admin-key-0123456789abcdef'

function gatewayEnv(databasePath: string, issuer: string): Record<string, string> {
  return {
    MOCK: '0',
    ISSUER: issuer,
    ADMIN_API_KEY,
    DATABASE_PATH: databasePath,
    // Request logs off: the figure is the OAuth work, not JSON.stringify to a pipe.
    LOG_LEVEL: 'warn',
  }
}

interface Seeded {
  clientId: string
  clientSecret: string
  refreshTokens: string[]
}

/**
 * A client, users with a grant each, and `count` refresh tokens spread over the grants, written
 * with the gateway's own record and token code into the SQLite file the server will open.
 */
async function seed(databasePath: string, count: number): Promise<Seeded> {
  const { db, close } = openSqlite(databasePath)
  const deps: Deps = {
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
  try {
    const { client, clientSecret } = await createClientRecord(deps, {
      name: 'Bench client',
      redirectUris: ['http://127.0.0.1/callback'],
    })
    const grantIds: { grantId: string; userId: string }[] = []
    for (let i = 0; i < USERS; i++) {
      const user = await createUserRecord(deps, {
        email: `bench${i}@example.test`,
        timezone: 'Europe/London',
      })
      const grantId = crypto.randomUUID()
      const at = deps.now()
      await db.insert(grants).values({
        id: grantId,
        userId: user.id,
        clientId: client.id,
        scope: SCOPE,
        createdAt: at,
        updatedAt: at,
      })
      grantIds.push({ grantId, userId: user.id })
    }
    const refreshTokens: string[] = []
    let batch: Statement[] = []
    for (let i = 0; i < count; i++) {
      const owner = grantIds[i % grantIds.length] as { grantId: string; userId: string }
      const pair = await buildTokenPair(deps, {
        clientId: client.id,
        userId: owner.userId,
        grantId: owner.grantId,
        familyId: crypto.randomUUID(),
        parentId: null,
        scope: SCOPE,
      })
      refreshTokens.push(pair.refreshToken)
      batch.push(...pair.statements)
      if (batch.length >= 2_000) {
        await atomic(db, batch)
        batch = []
      }
    }
    await atomic(db, batch)
    return { clientId: client.id, clientSecret, refreshTokens }
  } finally {
    close()
  }
}

/** One refresh by hand before the load, so a broken set-up fails loudly instead of as 400s. */
async function checkOneRefresh(url: string, authorization: string, refreshToken: string) {
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  })
  const body = (await response.json()) as Record<string, unknown>
  if (response.status !== 200 || typeof body.access_token !== 'string' || body.scope !== SCOPE) {
    throw new Error(
      `the seeded refresh token did not work: ${response.status} ${JSON.stringify(body)}`,
    )
  }
}

export const oauthRefresh: Benchmark = {
  id: 'oauth-refresh',
  name: 'oauth refresh grant',
  run: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pg-bench-'))
    const databasePath = join(dir, 'gateway.sqlite')
    try {
      const seedStarted = performance.now()
      const seeded = await seed(databasePath, TOKENS)
      const seedSeconds = (performance.now() - seedStarted) / 1000
      const server = await startServerProcess({
        name: 'gateway (src/node.ts)',
        script: 'src/node.ts',
        env: (port) => gatewayEnv(databasePath, `http://127.0.0.1:${port}`),
        readyPath: '/.well-known/oauth-authorization-server',
      })
      try {
        const authorization = `Basic ${btoa(`${seeded.clientId}:${seeded.clientSecret}`)}`
        const tokens = seeded.refreshTokens
        let next = 0
        await checkOneRefresh(server.url, authorization, tokens[next++] as string)

        let firstFailure: string | null = null
        const request: autocannon.Request = {
          method: 'POST',
          path: '/oauth/token',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
          setupRequest: (req) => ({
            ...req,
            body: `grant_type=refresh_token&refresh_token=${tokens[next++]}`,
          }),
          onResponse: (status, body) => {
            if (status !== 200 && firstFailure === null)
              firstFailure = `${status} ${body.slice(0, 300)}`
          },
        }
        const whole = (n: number) => n - (n % CONNECTIONS)
        await runLoad({
          url: server.url,
          connections: CONNECTIONS,
          seconds: 3,
          amount: whole(WARMUP_REQUESTS),
          request,
        })
        const result = await runLoad({
          url: server.url,
          connections: CONNECTIONS,
          seconds: SECONDS,
          amount: whole(tokens.length - next),
          request,
        })
        const notes = [
          `  seeded ${tokens.length} refresh tokens (${USERS} users) in ${seedSeconds.toFixed(1)} s; ` +
            `${CONNECTIONS} connections, one fresh token per request, client_secret_basic`,
          detail('POST /oauth/token grant_type=refresh_token', result),
        ]
        if (next > tokens.length)
          notes.push(`  WARNING: ran out of tokens (${next - tokens.length} requests reused none)`)
        if (firstFailure !== null) notes.push(`  first failure: ${firstFailure}`)
        return { result, notes }
      } finally {
        await server.stop()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
}
