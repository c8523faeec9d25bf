import * as oauth from 'oauth4webapi'
import type { DataType } from '../../data/models/index.ts'
import type { FormAgent } from '../form-agent.ts'
import type { WebhookReceiver } from './receiver.ts'
import { describeError } from './util.ts'

/** What the kit is told: the deployment, Terra's client credentials and one user's sign-in. */
export interface ConformanceOptions {
  /** The deployment's issuer, exactly as its metadata must state it (no trailing slash added). */
  issuer: string
  clientId: string
  clientSecret: string
  /** A redirect URI registered for the client. The kit never calls it: it reads the redirect. */
  redirectUri: string
  /** The email of a user who can sign in on the login page. */
  user: string
  password: string
  /** With it, the webhook checks run (receiver, mock sync, signatures). */
  adminKey?: string | undefined
  /** The client's webhook secret, to verify signatures (it is shown only once by the gateway). */
  webhookSecret?: string | undefined
  /** The scopes to ask for (space-separated); default all four of the contract. */
  scope?: string | undefined
  /** The range of the data checks, ending now (default 30 days). */
  days?: number | undefined
  /** The `limit` of the pagination checks (default 5). */
  pageSize?: number | undefined
  /** How long to wait for webhook events after the sync (default 30 000 ms). */
  webhookTimeoutMs?: number | undefined
  /** Per HTTP request (default 30 000 ms). */
  requestTimeoutMs?: number | undefined
  /** Called with each check's result as soon as it is known. */
  onResult?: ((result: CheckResult) => void) | undefined
  /** Progress during long waits. */
  onProgress?: ((message: string) => void) | undefined
}

export interface CheckResult {
  name: string
  ok: boolean
  /** Why it failed, or what was seen when it passed. */
  detail: string
  ms: number
}

export interface ConformanceReport {
  checks: CheckResult[]
  passed: number
  failed: number
}

export const DEFAULT_SCOPE = 'sleep:read activity:read daily:read profile:read'
export const DATA_TYPES = ['sleep', 'activity', 'daily'] as const satisfies readonly DataType[]
export const SCOPE_OF: Record<DataType, string> = {
  sleep: 'sleep:read',
  activity: 'activity:read',
  daily: 'daily:read',
}

export interface Tokens {
  accessToken: string
  refreshToken: string
  scopes: string[]
  userId: string
}

/** What the data checks fetched for one type, for the checks that follow. */
export interface FetchedData {
  /** All records of the range, fetched without samples in pages of `limit` 500. */
  records: unknown[]
  /** The same with `with_samples=true`, once the samples check has run. */
  withSamples?: unknown[]
}

export interface WebhookState {
  receiver: WebhookReceiver
  previousUrl: string | null
  previousStatus: string | null
  scheme: string
  /** Whether the kit changed `webhook_status` too (it was disabled). */
  reenabled: boolean
  syncedAt?: number
}

/** Everything the checks share: options, discovered metadata, tokens, fetched data. */
export class KitContext {
  readonly options: ConformanceOptions
  readonly scope: string
  readonly days: number
  readonly pageSize: number
  readonly webhookTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly client: oauth.Client
  readonly clientAuth: oauth.ClientAuth
  /** The date range of the data checks: RFC 3339 instants, `[start, end)`. */
  readonly range: { start: string; end: string; startMs: number; endMs: number }

  as?: oauth.AuthorizationServer
  agent?: FormAgent
  /** The code of the main authorization, until the token check exchanges it. */
  pendingCode?: { params: URLSearchParams; verifier: string } | undefined
  tokens?: Tokens
  data: Partial<Record<DataType, FetchedData>> = {}
  webhook?: WebhookState
  /** Run after the last check, whatever happened. */
  readonly cleanups: (() => Promise<void>)[] = []

  constructor(options: ConformanceOptions, nowMs = Date.now()) {
    this.options = options
    this.scope = options.scope ?? DEFAULT_SCOPE
    this.days = options.days ?? 30
    this.pageSize = options.pageSize ?? 5
    this.webhookTimeoutMs = options.webhookTimeoutMs ?? 30_000
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000
    this.client = { client_id: options.clientId }
    this.clientAuth = oauth.ClientSecretBasic(options.clientSecret)
    const endMs = Math.floor(nowMs / 1000) * 1000
    const startMs = endMs - this.days * 86_400_000
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z')
    this.range = { start: iso(startMs), end: iso(endMs), startMs, endMs }
  }

  get insecure(): boolean {
    return new URL(this.options.issuer).protocol === 'http:'
  }

  /** Options for oauth4webapi's requests: a timeout, and plain http only for an http issuer. */
  oauthOptions(): { signal: () => AbortSignal; [oauth.allowInsecureRequests]?: boolean } {
    return {
      signal: () => AbortSignal.timeout(this.requestTimeoutMs),
      ...(this.insecure ? { [oauth.allowInsecureRequests]: true } : {}),
    }
  }

  /** The global fetch with the kit's timeout; network errors name the request. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(url, {
        ...init,
        signal: init.signal ?? AbortSignal.timeout(this.requestTimeoutMs),
      })
    } catch (err) {
      throw new Error(`${init.method ?? 'GET'} ${url}: ${describeError(err)}`)
    }
  }

  /** An admin API call (`--admin-key`). */
  admin(path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
    const headers = new Headers({ authorization: `Bearer ${this.options.adminKey ?? ''}` })
    if (init.json !== undefined) headers.set('content-type', 'application/json')
    return this.fetch(`${this.options.issuer}/admin/v1${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    })
  }

  /**
   * A data API call with the current access token. A `429` with a short `Retry-After` is waited
   * out and retried once, as Terra backs off; a longer one is returned as is.
   */
  async bearer(pathAndQuery: string, token = this.tokens?.accessToken ?? ''): Promise<Response> {
    const send = () =>
      this.fetch(`${this.options.issuer}${pathAndQuery}`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      })
    const response = await send()
    const retryAfter = Number(response.headers.get('retry-after'))
    if (response.status !== 429 || !(retryAfter >= 0 && retryAfter <= 10)) return response
    this.progress(`rate limited on ${pathAndQuery.split('?')[0]}: retrying in ${retryAfter} s`)
    await response.body?.cancel()
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000))
    return send()
  }

  progress(message: string): void {
    this.options.onProgress?.(message)
  }
}
