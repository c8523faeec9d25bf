import { readFileSync } from 'node:fs'
import { createClientRecord, createUserRecord, type NewClient } from '../../src/admin/records.ts'
import { createApp } from '../../src/app.ts'
import { type Config, loadConfig } from '../../src/config.ts'
import { openSqlite } from '../../src/db/sqlite.ts'
import type { Deps } from '../../src/http/env.ts'

export const ISSUER = 'http://127.0.0.1:8787'
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef'
export const PASSWORD = 'correct horse battery staple'
export const REDIRECT_URI = 'https://app.example.test/callback'

/** A clock tests move by hand. */
export class TestClock {
  constructor(public ms = Date.parse('2026-03-01T12:00:00Z')) {}
  now = (): number => this.ms
  advance(ms: number): void {
    this.ms += ms
  }
}

export interface TestGateway {
  app: ReturnType<typeof createApp>
  deps: Deps
  clock: TestClock
  logs: Record<string, unknown>[]
  /** `app.request` with absolute URLs on the issuer, as a fetch. */
  fetch: (url: string | URL | Request, init?: RequestInit) => Promise<Response>
  admin: (path: string, init?: RequestInit & { json?: unknown }) => Promise<Response>
  close: () => void
}

/** A fresh gateway on an in-memory database with migrations applied. */
export function createTestGateway(
  options: { env?: Record<string, string>; remoteAddress?: string; deps?: Partial<Deps> } = {},
): TestGateway {
  const config: Config = loadConfig({
    ISSUER,
    ADMIN_API_KEY: ADMIN_KEY,
    DATABASE_PATH: ':memory:',
    MOCK: '0',
    LOG_LEVEL: 'silent',
    ...options.env,
  })
  const { db, close } = openSqlite(':memory:')
  const clock = new TestClock()
  const logs: Record<string, unknown>[] = []
  const deps: Deps = {
    db,
    config,
    now: clock.now,
    random: () => 0.5,
    fetch: globalThis.fetch,
    defer: () => {},
    log: (level, fields) => {
      logs.push({ level, ...fields })
    },
    remoteAddress: () => options.remoteAddress ?? '203.0.113.7',
    openapiYaml: readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8'),
    passwordIterations: 1000,
    ...options.deps,
  }
  const app = createApp(deps)
  const fetch = async (url: string | URL | Request, init?: RequestInit) => {
    const request =
      url instanceof Request ? url : new Request(new URL(url.toString(), ISSUER), init)
    return app.request(request)
  }
  return { app, deps, clock, logs, fetch, admin: adminOver(fetch), close }
}

/** Admin API calls with the test key through `fetch`; `json` becomes the JSON body. */
export function adminOver(fetch: TestGateway['fetch']): TestGateway['admin'] {
  return (path, init = {}) => {
    const headers = new Headers(init.headers)
    headers.set('authorization', `Bearer ${ADMIN_KEY}`)
    let body = init.body
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json')
      body = JSON.stringify(init.json)
    }
    return fetch(`${ISSUER}/admin/v1${path}`, { ...init, headers, body: body ?? null })
  }
}

export interface TestClient {
  clientId: string
  clientSecret: string
  webhookSecret: string
  redirectUri: string
}

export async function addClient(
  gw: TestGateway,
  input: Partial<NewClient> = {},
): Promise<TestClient> {
  const created = await createClientRecord(gw.deps, {
    name: 'Terra (test)',
    redirectUris: [REDIRECT_URI],
    ...input,
  })
  return {
    clientId: created.client.id,
    clientSecret: created.clientSecret,
    webhookSecret: created.webhookSecret,
    redirectUri: created.client.redirectUris[0] as string,
  }
}

let userCounter = 0
export async function addUser(
  gw: TestGateway,
  input: { email?: string; timezone?: string; password?: string } = {},
) {
  userCounter += 1
  const email = input.email ?? `user${userCounter}@example.test`
  const user = await createUserRecord(gw.deps, {
    email,
    password: input.password ?? PASSWORD,
    timezone: input.timezone ?? 'Europe/London',
  })
  return { userId: user.id, email, password: input.password ?? PASSWORD }
}

export function read(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
}
