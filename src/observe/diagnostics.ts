import { eq } from 'drizzle-orm'
import packageJson from '../../package.json' with { type: 'json' }
import { settings } from '../db/schema.ts'
import type { Deps } from '../http/env.ts'
import { MOCK_ADMIN_KEY_SETTING } from '../mock/demo.ts'
import { lastPeerClock } from './peer-clock.ts'
import { errorLine, type ProbeResult, probeDatabase } from './probes.ts'
import { queueStats, webhookHealth } from './queue-stats.ts'

/*
 * The provider-side twin of Terra's health check: what an operator should look at, each item
 * OK, WARN or FAIL with what to do next. One module for `GET /admin/v1/diagnostics` and
 * `partner-gateway doctor` (which runs it on the database file, or asks a running gateway).
 * Runtime-agnostic: everything runtime-specific comes through `deps.probes`.
 */

export type DiagnosticStatus = 'ok' | 'warn' | 'fail'

export interface DiagnosticItem {
  /** Stable, dotted: `config.issuer`, `database`, `webhook.<client_id>`, … */
  id: string
  status: DiagnosticStatus
  message: string
  /** What to do next; present on every WARN and FAIL. */
  action?: string
}

export interface DiagnosticsReport {
  /** The worst item's status. */
  status: DiagnosticStatus
  version: string
  checked_at: string
  items: DiagnosticItem[]
}

/** Past-due thresholds for the oldest due delivery (seconds). */
export const BACKLOG_WARN_SECONDS = 60
export const BACKLOG_FAIL_SECONDS = 15 * 60
/** Failed attempts in a row that make a webhook FAIL: a delivery's whole retry schedule. */
export const CONSECUTIVE_FAILURES_FAIL = 10
/** Clock skew thresholds (seconds): receivers refuse signatures more than 300 s off. */
export const SKEW_WARN_SECONDS = 60
export const SKEW_FAIL_SECONDS = 240
/** A clock sample older than this says nothing about the clock now. */
const SKEW_SAMPLE_MAX_AGE_MS = 24 * 3600_000

const RANK: Record<DiagnosticStatus, number> = { ok: 0, warn: 1, fail: 2 }

export function worst(statuses: DiagnosticStatus[]): DiagnosticStatus {
  return statuses.reduce<DiagnosticStatus>((a, b) => (RANK[b] > RANK[a] ? b : a), 'ok')
}

function item(
  id: string,
  status: DiagnosticStatus,
  message: string,
  action?: string,
): DiagnosticItem {
  return status === 'ok' || action === undefined
    ? { id, status, message }
    : { id, status, message, action }
}

function fromProbe(id: string, result: ProbeResult): DiagnosticItem {
  return item(id, result.ok ? 'ok' : 'fail', result.detail, result.action ?? 'see the logs')
}

const iso = (ms: number) => new Date(ms).toISOString()

function duration(seconds: number): string {
  if (seconds < 180) return `${Math.round(seconds)} s`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`
  return `${Math.round(seconds / 3600)} h`
}

const GENERATE_KEY =
  'generate one with `openssl rand -base64 32` and set it as ADMIN_API_KEY (then restart)'
const COMMON_WORDS = /(password|secret|admin|changeme|example|test|qwerty|letmein|12345)/i

/** How guessable the admin key is. */
export function adminKeyItem(key: string | null, source: string): DiagnosticItem {
  const id = 'config.admin_key'
  if (key === null) {
    return item(id, 'fail', 'no admin key is configured: the admin API is disabled', GENERATE_KEY)
  }
  const distinct = new Set(key).size
  const described = `${key.length} characters, ${distinct} distinct (${source})`
  if (key.length < 24 || distinct < 8) {
    return item(id, 'fail', `the admin key is trivially guessable: ${described}`, GENERATE_KEY)
  }
  if (key.length < 32 || distinct < 16 || COMMON_WORDS.test(key)) {
    const why = COMMON_WORDS.test(key) ? 'it contains a common word' : 'it is short'
    return item(id, 'warn', `the admin key is weak (${why}): ${described}`, GENERATE_KEY)
  }
  return item(id, 'ok', `the admin key is strong: ${described}`)
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/

export function issuerItem(issuer: string, mock: boolean): DiagnosticItem {
  const id = 'config.issuer'
  const url = new URL(issuer)
  if (url.protocol === 'https:') return item(id, 'ok', `the issuer ${issuer} uses https`)
  const fix = 'serve the gateway behind TLS and set ISSUER to its https:// URL'
  if (!mock) {
    return item(
      id,
      'fail',
      `the issuer ${issuer} is not https in production: authorization codes, tokens and passwords would cross the network in clear, and Terra expects https`,
      fix,
    )
  }
  if (LOOPBACK.test(url.hostname)) {
    return item(id, 'ok', `the issuer ${issuer} is http on this machine (fine for mock mode)`)
  }
  return item(id, 'warn', `the issuer ${issuer} is http on a network address`, fix)
}

async function adminKey(deps: Pick<Deps, 'db' | 'config'>): Promise<DiagnosticItem> {
  if (deps.config.adminApiKey !== null)
    return adminKeyItem(deps.config.adminApiKey, 'ADMIN_API_KEY')
  if (deps.config.mock) {
    // Mock mode generates one on first start and keeps it in the database (`doctor` run on the
    // file sees it there; a running gateway has put it on its config).
    const row = await deps.db
      .select()
      .from(settings)
      .where(eq(settings.key, MOCK_ADMIN_KEY_SETTING))
      .get()
    if (row) return adminKeyItem(row.value, 'generated by mock mode')
    return item('config.admin_key', 'ok', 'mock mode generates an admin key at first start')
  }
  return adminKeyItem(null, 'ADMIN_API_KEY')
}

async function backlogItems(deps: Pick<Deps, 'db' | 'now'>): Promise<DiagnosticItem[]> {
  const s = await queueStats(deps.db, deps.now())
  const lateness = Math.max(s.oldestDueAgeSeconds, s.oldestOutboxAgeSeconds)
  const status: DiagnosticStatus =
    lateness > BACKLOG_FAIL_SECONDS ? 'fail' : lateness > BACKLOG_WARN_SECONDS ? 'warn' : 'ok'
  const parts = [
    `${s.outboxDepth} changes waiting to be fanned out${s.outboxDepth > 0 ? ` (oldest ${duration(s.oldestOutboxAgeSeconds)})` : ''}`,
    `${s.dueNow} deliveries due now${s.dueNow > 0 ? ` (oldest ${duration(s.oldestDueAgeSeconds)} overdue)` : ''}`,
    `${s.deliveries.pending} pending in all`,
    `${s.deliveries.delivering} in flight`,
    `${s.deliveries.held} held`,
  ]
  const backlog = item(
    'deliveries.backlog',
    status,
    parts.join(', '),
    'deliveries are not keeping up: check that the webhook worker runs (GET /readyz) and how fast the receivers answer (each endpoint gets at most 8 at once); partner_gateway_webhook_oldest_due_age_seconds in /metrics shows the trend',
  )
  const failed = s.deliveries.failed
  const deadLetters =
    failed === 0
      ? item('deliveries.failed', 'ok', 'no delivery has failed for good')
      : item(
          'deliveries.failed',
          'warn',
          `${failed} deliveries failed for good (dead letters): their receivers never got these events`,
          'list them with GET /admin/v1/deliveries?status=failed; once the receiver works again, send them with POST /admin/v1/clients/{client_id}/recover {"since": "<time of the outage>"} or POST /admin/v1/deliveries/{id}/redeliver',
        )
  return [backlog, deadLetters]
}

async function webhookItems(deps: Pick<Deps, 'db'>): Promise<DiagnosticItem[]> {
  return (await webhookHealth(deps.db)).map((w) => {
    const id = `webhook.${w.clientId}`
    const name = JSON.stringify(w.name)
    const reenable = `PATCH /admin/v1/clients/${w.clientId} {"webhook_status": "active"}`
    if (w.webhookUrl === null) {
      return item(
        id,
        'warn',
        `${name} has no webhook URL: ${w.held} events are held for it`,
        `set one with PATCH /admin/v1/clients/${w.clientId} {"webhook_url": "https://…"}; the held events then go out`,
      )
    }
    const last = w.lastAttempt
    const lastText = last
      ? `; last attempt ${iso(last.at)}: ${last.error === null ? `delivered (${last.statusCode})` : `${last.error}${last.statusCode === null ? '' : ` (${last.statusCode})`}`}`
      : ''
    const facts = [
      `last success ${w.lastSuccessAt === null ? 'never' : iso(w.lastSuccessAt)}`,
      `${w.consecutiveFailures} failed attempts since`,
      `${w.failed} dead letters`,
      `${w.held} held`,
    ].join(', ')
    const summary = `${name} → ${w.webhookUrl}: ${facts}${lastText}`
    if (w.webhookStatus === 'disabled') {
      return item(
        id,
        'fail',
        `the webhook is disabled (it answered 410 Gone, or an operator disabled it); ${summary}`,
        `fix the receiver, then re-enable it: ${reenable} (held events then go out)`,
      )
    }
    const check = `check the receiver at ${w.webhookUrl} (its logs, TLS, that it answers 2xx within 10 s); failed events are retried for a day, then recoverable with POST /admin/v1/clients/${w.clientId}/recover`
    if (w.consecutiveFailures >= CONSECUTIVE_FAILURES_FAIL) return item(id, 'fail', summary, check)
    if (w.consecutiveFailures > 0 || w.failed > 0) return item(id, 'warn', summary, check)
    return item(id, 'ok', summary)
  })
}

async function clockItem(deps: Pick<Deps, 'db' | 'now'>): Promise<DiagnosticItem> {
  const id = 'clock'
  const sample = await lastPeerClock(deps.db)
  const now = deps.now()
  if (!sample || now - sample.at > SKEW_SAMPLE_MAX_AGE_MS) {
    return item(
      id,
      'ok',
      `our clock reads ${iso(now)}; no webhook answer in the last 24 h to compare it with (the check uses receivers' Date headers)`,
    )
  }
  // The estimate is only good to its uncertainty: count only what lies beyond it.
  const excess = Math.max(0, Math.abs(sample.skewMs) - sample.uncertaintyMs) / 1000
  const direction = sample.skewMs > 0 ? 'behind' : 'ahead of'
  const message = `our clock is about ${Math.round(Math.abs(sample.skewMs) / 1000)} s ${direction} ${sample.origin}'s (from the Date header of its answer at ${iso(sample.at)}, ±${Math.round(sample.uncertaintyMs / 1000)} s)`
  const action =
    'synchronise the clock (NTP: chrony or systemd-timesyncd): receivers refuse webhook signatures more than 5 minutes off their clock'
  if (excess > SKEW_FAIL_SECONDS) return item(id, 'fail', message, action)
  if (excess > SKEW_WARN_SECONDS) return item(id, 'warn', message, action)
  return item(id, 'ok', message)
}

/** Runs every check; never throws (a check that cannot run is itself a FAIL item). */
export async function diagnose(
  deps: Pick<Deps, 'db' | 'config' | 'now' | 'probes'>,
): Promise<DiagnosticsReport> {
  const items: DiagnosticItem[] = []
  const attempt = async (id: string, run: () => Promise<DiagnosticItem | DiagnosticItem[]>) => {
    try {
      items.push(...[await run()].flat())
    } catch (err) {
      items.push(item(id, 'fail', `the check could not run: ${errorLine(err)}`, 'see the logs'))
    }
  }
  const { config } = deps
  items.push(
    config.mock
      ? item(
          'config.mode',
          'warn',
          'mock mode (MOCK=1): demo users with a published password and a seeded client secret',
          'for production set MOCK=0 with ISSUER, ADMIN_API_KEY and DATABASE_PATH',
        )
      : item('config.mode', 'ok', 'production mode (MOCK=0)'),
  )
  items.push(issuerItem(config.issuer, config.mock))
  await attempt('config.admin_key', () => adminKey(deps))

  const database = await probeDatabase(deps)
  items.push(fromProbe('database', database))
  let schemaOk = database.ok
  if (deps.probes?.migrations) {
    const migrations = await deps.probes.migrations()
    items.push(fromProbe('database.migrations', migrations))
    schemaOk &&= migrations.ok
  }
  if (deps.probes?.worker) items.push(fromProbe('worker', deps.probes.worker()))
  // What follows reads the gateway's tables: pointless (and noisy) without them.
  if (schemaOk) {
    await attempt('deliveries.backlog', () => backlogItems(deps))
    await attempt('webhooks', () => webhookItems(deps))
    await attempt('clock', () => clockItem(deps))
  }
  return {
    status: worst(items.map((i) => i.status)),
    version: packageJson.version,
    checked_at: iso(deps.now()),
    items,
  }
}
