import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from './config.ts'
import { readBody } from './kit/conformance/receiver.ts'
import {
  standardSignatureProblemBuiltIn,
  terraSignatureProblem,
} from './kit/conformance/signatures.ts'
import { describeMock } from './mock/demo.ts'
import { type RunningGateway, startGateway } from './server.ts'

/*
 * `partner-gateway/testing`: the mock provider inside a test runner. It is the real gateway (HTTP
 * server, SQLite, notifier) in the test's own process, on a free port, seeded, and driven from
 * here the way a test's code would drive it: over HTTP, through the admin API.
 *
 * The public types are written out in this file rather than imported, so that the published
 * `testing.d.ts` stands alone (it is the only declaration file the package ships).
 */

/** Options of {@link startMockProvider}. Nothing is read from `process.env`. */
export interface MockProviderOptions {
  /** `MOCK_SEED`: fixes the demo credentials, user ids and synthetic data. Default 1. */
  seed?: number
  /** Days of synthetic history per demo user, today included; 0 for none. Default 7. */
  days?: number
  /**
   * Where the database lives: `'memory'` (default, fastest) or `'temp-file'` (a SQLite file in a
   * new temporary directory, which `close()` deletes; useful to inspect it while a test runs).
   */
  database?: 'memory' | 'temp-file'
  /**
   * `MOCK_AUTO_CONSENT`: an authorization request with `login_hint=<demo email>` is approved at once
   * for that user, with every requested scope, without any HTML. Default `true`.
   */
  autoConsent?: boolean
  /** `LOG_LEVEL` of the gateway's JSON logs on stdout. Default `'silent'`. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent'
  /**
   * More configuration, as environment variables (e.g. `{ ACCESS_TOKEN_TTL_SECONDS: '60' }`). The
   * options above, `MOCK=1` and `PORT=0` take precedence.
   */
  env?: Record<string, string>
}

/** The demo OAuth client (Terra's role), with its secrets. */
export interface MockClient {
  /** `demo-terra-client`. */
  id: string
  secret: string
  /** Signs the webhooks (`terra-signature` scheme). */
  webhookSecret: string
  /** `${issuer}/demo/callback` and `http://localhost:3000/callback`. */
  redirectUris: string[]
}

/** A demo user who can sign in (or be named in `login_hint`). */
export interface MockUser {
  email: string
  password: string
  /** The user's id at the provider: `user.user_id` in the data API and webhooks. */
  userId: string
  /** IANA time zone: date-only ranges of the data API are whole days in it. */
  timezone: string
  displayName: string
}

/** What `POST /admin/v1/mock/sync` did. */
export interface SyncResult {
  /** Users synced. */
  users: number
  /** Records generated; inserted + updated + unchanged. */
  received: number
  inserted: number
  updated: number
  unchanged: number
  /** Changes queued for webhook delivery. */
  events: number
}

/** A fault to arm: the next `count` requests to `target` fail with `status`, or stall first. */
export interface Fault {
  /** `data` (`/v1/*`), `token` (`/oauth/token`) or `authorize` (`/oauth/authorize`). */
  target: 'data' | 'token' | 'authorize'
  /** The status to fail with; omit it to only stall (`delayMs`). */
  status?: 429 | 500 | 502 | 503 | 504
  /** How many requests it affects. Default 1. */
  count?: number
  /** Stall each affected request this long before answering. Default 0. */
  delayMs?: number
  /** `Retry-After` seconds of a 429. Default 1. */
  retryAfter?: number
}

/** A fault as the gateway armed it. */
export interface ArmedFault {
  id: number
  target: Fault['target']
  status: Fault['status'] | null
  delayMs: number
  retryAfter: number
  /** Requests it will still affect. */
  remaining: number
}

/**
 * A webhook body: Terra's event envelopes (`SleepEvent`, `ActivityEvent`, `DailyEvent`,
 * `AccessRevokedEvent`, …). Full mode carries `data`; ping mode carries `ping`.
 */
export interface WebhookBody {
  /** `sleep`, `activity`, `daily`, `deletion`, `access_revoked`, `permission_change`, … */
  type: string
  user: { user_id: string; provider: string; [field: string]: unknown }
  /** Full mode: up to 10 records in Terra's models. */
  data?: Record<string, unknown>[]
  /** Ping mode: the ids to pull. */
  ping?: { ids: string[]; start_time: string; end_time: string }
  [field: string]: unknown
}

/** One webhook request that arrived with a valid signature. */
export interface ReceivedWebhook {
  /** `webhook-id`: the event id, the same on every retry of one event. */
  id: string
  body: WebhookBody
  /** The body exactly as received (what the signature covers). */
  raw: string
  /** Lower-case header names. */
  headers: Record<string, string>
  receivedAt: Date
}

/** A webhook request refused with 401 because its signature did not verify. */
export interface RejectedWebhook {
  reason: string
  raw: string
  headers: Record<string, string>
  receivedAt: Date
}

/** A real HTTP receiver on 127.0.0.1, registered as the demo client's `webhook_url`. */
export interface WebhookReceiver {
  /** The registered URL. */
  url: string
  /** Every verified webhook so far, in arrival order (a retried event appears once per attempt). */
  events: ReceivedWebhook[]
  /** Requests whose signature did not verify (answered 401, so the gateway retries them). */
  rejected: RejectedWebhook[]
  /**
   * Resolves with the first event, already received or still to come, that `predicate` accepts;
   * rejects after `timeoutMs` (default 10 000) saying what did arrive.
   */
  waitFor(
    predicate: (event: ReceivedWebhook) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedWebhook>
  /** Stops the receiver and removes the client's `webhook_url`. */
  close(): Promise<void>
}

/** A running mock provider; see {@link startMockProvider}. */
export interface MockProvider {
  /** The OAuth issuer and base URL, e.g. `http://127.0.0.1:41234`; discovery is under it. */
  issuer: string
  client: MockClient
  /** The demo users, each with `days` of data. */
  users: MockUser[]
  /** `Authorization: Bearer <adminKey>` for `/admin/v1` (ingest, clients, deliveries, mock). */
  adminKey: string
  /** The SQLite database: `:memory:` or the temporary file. */
  databasePath: string
  /**
   * A device sync (`POST /admin/v1/mock/sync`): data up to now for one user, or all, through the
   * ingest path, so webhooks follow. Today's daily summary changes on every sync.
   */
  sync(userId?: string): Promise<SyncResult>
  /** Arms a fault (`POST /admin/v1/mock/faults`). */
  fault(fault: Fault): Promise<ArmedFault>
  /** Disarms every fault (`DELETE /admin/v1/mock/faults`). */
  clearFaults(): Promise<void>
  /**
   * Starts a webhook receiver and makes it the demo client's `webhook_url`. Events go only to a
   * client some user has authorized, for the scopes granted. One receiver at a time: a second
   * call takes the URL over.
   */
  receiveWebhooks(): Promise<WebhookReceiver>
  /** Stops receivers and the gateway, and deletes a temporary database. Safe to call twice. */
  close(): Promise<void>
}

const DEFAULT_DAYS = 7
const DEFAULT_WAIT_MS = 10_000

/**
 * Starts the mock provider in this process: the gateway on a free port of 127.0.0.1, in mock mode,
 * on a fresh database seeded with the demo client, the demo users and `days` of data. Everything it
 * returns is what a Terra integration needs to run against it; call `close()` when done.
 *
 * @example
 * const provider = await startMockProvider({ days: 3 })
 * const res = await fetch(`${provider.issuer}/.well-known/oauth-authorization-server`)
 * await provider.close()
 */
export async function startMockProvider(options: MockProviderOptions = {}): Promise<MockProvider> {
  const tempDir =
    options.database === 'temp-file' ? mkdtempSync(join(tmpdir(), 'partner-gateway-')) : null
  const databasePath = tempDir ? join(tempDir, 'gateway.sqlite') : ':memory:'
  const removeTemp = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true })
  }
  let gateway: RunningGateway
  try {
    const config = loadConfig({
      ...options.env,
      MOCK: '1',
      PORT: '0',
      DATABASE_PATH: databasePath,
      MOCK_SEED: String(options.seed ?? 1),
      MOCK_AUTO_CONSENT: options.autoConsent === false ? '0' : '1',
      LOG_LEVEL: options.logLevel ?? 'silent',
    })
    gateway = await startGateway(config, {
      mockSeedDays: options.days ?? DEFAULT_DAYS,
      shutdownTimeoutMs: 5000,
    })
  } catch (err) {
    removeTemp()
    throw err
  }
  const running = gateway
  const issuer = running.deps.config.issuer
  let cast: Awaited<ReturnType<typeof describeMock>>
  try {
    cast = await describeMock(running.deps)
  } catch (err) {
    await running.close()
    removeTemp()
    throw err
  }

  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${running.url}/admin/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${cast.adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    if (!response.ok)
      throw new Error(`${method} /admin/v1${path} answered ${response.status}: ${text}`)
    return (text === '' ? undefined : JSON.parse(text)) as T
  }

  const receivers = new Set<WebhookReceiver>()
  let webhookUrl: string | null = null
  let closing: Promise<void> | undefined

  return {
    issuer,
    client: cast.client,
    users: cast.users.map((u) => ({
      email: u.email,
      password: u.password,
      userId: u.userId,
      timezone: u.timezone,
      displayName: u.displayName,
    })),
    adminKey: cast.adminKey,
    databasePath,
    sync: (userId) =>
      admin<SyncResult>(
        'POST',
        '/mock/sync',
        userId === undefined ? undefined : { user_id: userId },
      ),
    fault: async (fault) => {
      const armed = await admin<{
        id: number
        target: Fault['target']
        status: Fault['status'] | null
        delay_ms: number
        retry_after: number
        remaining: number
      }>('POST', '/mock/faults', {
        target: fault.target,
        ...(fault.status === undefined ? {} : { status: fault.status }),
        ...(fault.count === undefined ? {} : { count: fault.count }),
        ...(fault.delayMs === undefined ? {} : { delay_ms: fault.delayMs }),
        ...(fault.retryAfter === undefined ? {} : { retry_after: fault.retryAfter }),
      })
      return {
        id: armed.id,
        target: armed.target,
        status: armed.status,
        delayMs: armed.delay_ms,
        retryAfter: armed.retry_after,
        remaining: armed.remaining,
      }
    },
    clearFaults: () => admin<void>('DELETE', '/mock/faults'),
    receiveWebhooks: async () => {
      const receiver = await startReceiver(cast.client.webhookSecret, async () => {
        receivers.delete(receiver)
        // Only the receiver that still holds the URL gives it back; at close() nobody needs to.
        if (closing === undefined && webhookUrl === receiver.url) {
          webhookUrl = null
          await admin('PATCH', `/clients/${cast.client.id}`, { webhook_url: null })
        }
      })
      receivers.add(receiver)
      await admin('PATCH', `/clients/${cast.client.id}`, { webhook_url: receiver.url })
      webhookUrl = receiver.url
      return receiver
    },
    close: () => {
      closing ??= (async () => {
        try {
          await Promise.all([...receivers].map((r) => r.close()))
          await running.close()
        } finally {
          removeTemp()
        }
      })()
      return closing
    },
  }
}

/**
 * The receiver: verifies each request's signature with the client's webhook secret — with an
 * implementation independent of the gateway's signing code (the conformance kit's) — answers 200
 * or 401, and records it.
 */
async function startReceiver(
  secret: string,
  onClose: () => Promise<void>,
): Promise<WebhookReceiver> {
  const events: ReceivedWebhook[] = []
  const rejected: RejectedWebhook[] = []
  const waiters = new Set<(event: ReceivedWebhook) => void>()

  const server = createServer((req, res) => {
    readBody(req)
      .then(async (raw) => {
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
        }
        const receivedAt = new Date()
        const arrival = { headers, body: raw, at: receivedAt.getTime() }
        const reason =
          headers['terra-signature'] !== undefined
            ? await terraSignatureProblem(arrival, secret)
            : await standardSignatureProblemBuiltIn(arrival, secret)
        let body: WebhookBody | undefined
        try {
          body = JSON.parse(raw) as WebhookBody
        } catch {
          body = undefined
        }
        const problem = reason ?? (body === undefined ? 'the body is not JSON' : null)
        if (problem !== null || body === undefined) {
          rejected.push({ reason: problem ?? 'the body is not JSON', raw, headers, receivedAt })
          res.writeHead(401, { 'content-type': 'text/plain' }).end(problem ?? '')
          return
        }
        const event: ReceivedWebhook = {
          id: headers['webhook-id'] ?? '',
          body,
          raw,
          headers,
          receivedAt,
        }
        events.push(event)
        for (const notify of waiters) notify(event)
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
      })
      .catch(() => res.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/terra`
  let closed: Promise<void> | undefined

  const receiver: WebhookReceiver = {
    url,
    events,
    rejected,
    waitFor: (predicate, timeoutMs = DEFAULT_WAIT_MS) =>
      new Promise<ReceivedWebhook>((resolve, reject) => {
        const found = events.find(predicate)
        if (found) return resolve(found)
        const check = (event: ReceivedWebhook) => {
          if (!predicate(event)) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(event)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          const seen = events.map((e) => `${e.body.type} for ${e.body.user?.user_id}`).join(', ')
          const refused = rejected.map((r) => r.reason).join('; ')
          reject(
            new Error(
              `no matching webhook within ${timeoutMs} ms; received ${events.length}` +
                (seen ? ` (${seen})` : '') +
                (refused ? `; refused ${rejected.length}: ${refused}` : ''),
            ),
          )
        }, timeoutMs)
        waiters.add(check)
      }),
    close: () => {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        await onClose()
      })()
      return closed
    },
  }
  return receiver
}
