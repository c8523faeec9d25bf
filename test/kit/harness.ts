import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Deps } from '../../src/http/env.ts'
import type { ConformanceOptions } from '../../src/kit/conformance/index.ts'
import { createNotifier, type Notifier } from '../../src/notify/worker.ts'
import { ADMIN_KEY, createTestGateway, type TestGateway } from '../helpers/app.ts'
import { activityAt, dailyOn, ingest, sleepAt } from '../helpers/data.ts'

/*
 * A real gateway on 127.0.0.1 for the conformance kit, on the real clock (the kit's range is
 * "the last 30 days" of wall-clock time), optionally behind a wrapper that can break what the
 * kit sees (fault injection) or add what the deployment lacks (a mock sync endpoint), with one
 * client, one user and a few days of records — all set up through the admin API.
 */

export type Wrap = (
  request: Request,
  next: (request: Request) => Promise<Response>,
) => Promise<Response>

export const REDIRECT_URI = 'http://127.0.0.1:9/terra/callback'
export const PASSWORD = 'kit-password-0123'
export const DAYS_OF_DATA = 6

export interface KitFixture {
  url: string
  gw: TestGateway
  clientId: string
  clientSecret: string
  webhookSecret: string
  userId: string
  email: string
  notifier?: Notifier
  /** Kit options for this fixture, with overrides. */
  options(overrides?: Partial<ConformanceOptions>): ConformanceOptions
  close(): Promise<void>
}

let counter = 0

/** `YYYY-MM-DD` of `daysAgo` days before today (UTC). */
export function utcDay(daysAgo: number): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)
}

export async function kitFixture(
  options: { wrap?: Wrap; notifier?: boolean; deps?: Partial<Deps> } = {},
): Promise<KitFixture> {
  let gw: TestGateway | undefined
  const wrap: Wrap = options.wrap ?? ((request, next) => next(request))
  const server = serve({
    fetch: (request, env) => {
      const app = gw?.app
      if (!app) return new Response('starting', { status: 503 })
      return wrap(request, async (r) => app.fetch(r, env))
    },
    port: 0,
    hostname: '127.0.0.1',
  }) as Server
  if (!server.listening) {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve)
      server.once('error', reject)
    })
  }
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const created = createTestGateway({
    env: { ISSUER: url },
    deps: {
      now: () => Date.now(),
      remoteAddress: (c) => getConnInfo(c).remote.address,
      defer: (work) => {
        work().catch(() => {})
      },
      ...options.deps,
    },
  })
  gw = created
  let notifier: Notifier | undefined
  if (options.notifier) {
    notifier = createNotifier(created.deps, { timeoutMs: 2000 })
    created.deps.notifier = notifier
  }

  const admin = async (path: string, method: string, json?: unknown) => {
    const response = await fetch(`${url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    })
    const body = (await response.json()) as Record<string, string>
    if (!response.ok)
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(body)}`)
    return body
  }
  const client = await admin('/clients', 'POST', {
    name: 'Terra (conformance test)',
    redirect_uris: [REDIRECT_URI],
  })
  counter += 1
  const email = `kit${counter}-${Date.now()}@example.test`
  const user = await admin('/users', 'POST', { email, password: PASSWORD, timezone: 'UTC' })
  const userId = user.user_id as string

  const sleeps = []
  const activities = []
  const dailies = []
  for (let i = 1; i <= DAYS_OF_DATA; i++) {
    sleeps.push(sleepAt(`sleep-${i}`, `${utcDay(i + 1)}T23:00:00Z`))
    activities.push(activityAt(`activity-${i}`, `${utcDay(i)}T07:30:00Z`))
    dailies.push(dailyOn(utcDay(i)))
  }
  for (const [type, data] of [
    ['sleep', sleeps],
    ['activity', activities],
    ['daily', dailies],
  ] as const) {
    const result = await ingest(created, userId, type, data)
    if (result.status !== 200) {
      throw new Error(`ingest ${type}: ${result.status} ${JSON.stringify(result.body)}`)
    }
  }

  const fixture: KitFixture = {
    url,
    gw: created,
    clientId: client.client_id as string,
    clientSecret: client.client_secret as string,
    webhookSecret: client.webhook_secret as string,
    userId,
    email,
    options: (overrides = {}) => ({
      issuer: url,
      clientId: fixture.clientId,
      clientSecret: fixture.clientSecret,
      redirectUri: REDIRECT_URI,
      user: email,
      password: PASSWORD,
      ...overrides,
    }),
    async close() {
      await notifier?.stop()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      created.close()
    },
  }
  if (notifier) fixture.notifier = notifier
  return fixture
}

/** A wrapper that answers `POST /admin/v1/mock/sync` by ingesting one new sleep session. */
export function mockSyncWrap(fixture: () => KitFixture | undefined): Wrap {
  let syncs = 0
  return async (request, next) => {
    const url = new URL(request.url)
    if (request.method !== 'POST' || url.pathname !== '/admin/v1/mock/sync') return next(request)
    if (request.headers.get('authorization') !== `Bearer ${ADMIN_KEY}`) {
      return Response.json({ title: 'Unauthorized' }, { status: 401 })
    }
    const fx = fixture()
    if (!fx) return new Response('not ready', { status: 503 })
    const { user_id } = (await request.json()) as { user_id: string }
    syncs += 1
    const result = await ingest(fx.gw, user_id, 'sleep', [
      sleepAt(`sleep-sync-${syncs}`, `${utcDay(1)}T22:00:00Z`),
    ])
    return Response.json({ synced: [user_id], ingest: result.body }, { status: result.status })
  }
}

/** Names of the failed checks of a report. */
export function failedNames(report: { checks: { name: string; ok: boolean }[] }): string[] {
  return report.checks.filter((c) => !c.ok).map((c) => c.name)
}
