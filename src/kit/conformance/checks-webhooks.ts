import { DATA_RECORD_SCHEMAS, type DataType } from '../../data/models/index.ts'
import type { Check } from './check.ts'
import { recordLabel } from './checks-data.ts'
import { TOKEN } from './checks-oauth.ts'
import { DATA_TYPES, type KitContext, type WebhookState } from './context.ts'
import { type ReceivedWebhook, startWebhookReceiver } from './receiver.ts'
import { standardSignatureProblem, terraSignatureProblem } from './signatures.ts'
import { bodySummary, excerpt, expect, fail, isRecord, listSome, seconds } from './util.ts'

/*
 * With `--admin-key`: a receiver on 127.0.0.1 registered as the client's webhook URL, a mock sync
 * of the user, and what arrives checked: signatures in the client's scheme, Terra's event
 * envelopes, every record against the models. The previous webhook URL is put back at the end.
 */

export const REGISTERED = 'webhooks: receiver registered'
export const SYNC = 'webhooks: mock sync'
export const DELIVERED = 'webhooks: events delivered'
export const SIGNATURES = 'webhooks: signatures'
export const BODIES = 'webhooks: event bodies'
export const RESTORED = 'webhooks: webhook_url restored'

/** The `version` of Terra's data events. */
export const EVENT_VERSION = '2022-03-16'
const LIFECYCLE_TYPES = new Set([
  'access_revoked',
  'permission_change',
  'deletion',
  'auth',
  'user_reauth',
  'deauth',
])
/** How long the receiver must stay quiet, once events came, before the kit stops waiting. */
const QUIET_MS = 2000

function state(ctx: KitContext): WebhookState {
  return ctx.webhook ?? fail('no receiver')
}

function clientPath(ctx: KitContext): string {
  return `/clients/${encodeURIComponent(ctx.options.clientId)}`
}

async function adminJson(what: string, response: Response): Promise<Record<string, unknown>> {
  const text = await response.text()
  if (response.status === 401 || response.status === 403) {
    fail(`${what}: the admin key was refused (${response.status})`)
  }
  if (response.status < 200 || response.status >= 300) {
    fail(`${what} answered ${response.status}: ${bodySummary(text)}`)
  }
  try {
    const json: unknown = JSON.parse(text || '{}')
    return isRecord(json) ? json : {}
  } catch {
    fail(`${what}: the answer is not JSON`)
  }
}

const registered: Check = {
  name: REGISTERED,
  needs: [TOKEN],
  async run(ctx) {
    const client = await adminJson(
      `GET /admin/v1${clientPath(ctx)}`,
      await ctx.admin(clientPath(ctx)),
    )
    const receiver = await startWebhookReceiver()
    ctx.cleanups.push(() => receiver.close())
    const previousStatus = typeof client.webhook_status === 'string' ? client.webhook_status : null
    const reenabled = previousStatus === 'disabled'
    await adminJson(
      `PATCH /admin/v1${clientPath(ctx)}`,
      await ctx.admin(clientPath(ctx), {
        method: 'PATCH',
        json: { webhook_url: receiver.url, ...(reenabled ? { webhook_status: 'active' } : {}) },
      }),
    )
    const scheme = typeof client.signature_scheme === 'string' ? client.signature_scheme : 'terra'
    ctx.webhook = {
      receiver,
      previousUrl: typeof client.webhook_url === 'string' ? client.webhook_url : null,
      previousStatus,
      scheme,
      reenabled,
    }
    const mode = typeof client.payload_mode === 'string' ? `, ${client.payload_mode} payloads` : ''
    return `${receiver.url} (was ${ctx.webhook.previousUrl ?? 'none'}), ${scheme} signatures${mode}`
  },
}

const sync: Check = {
  name: SYNC,
  needs: [REGISTERED],
  async run(ctx) {
    const tokens = ctx.tokens ?? fail('no tokens')
    // Taken before the request: a gateway may deliver the event before its answer arrives here.
    const startedAt = Date.now()
    const response = await ctx.admin('/mock/sync', {
      method: 'POST',
      json: { user_id: tokens.userId },
    })
    if (response.status === 404) {
      fail(
        `the deployment has no /admin/v1/mock/sync (not in mock mode?) — 404: ${bodySummary(await response.text())}`,
      )
    }
    const body = await adminJson('POST /admin/v1/mock/sync', response)
    state(ctx).syncedAt = startedAt
    return `${response.status} ${excerpt(JSON.stringify(body), 120)}`
  },
}

function parseBody(request: ReceivedWebhook): unknown {
  try {
    return JSON.parse(request.body)
  } catch {
    return undefined
  }
}

function eventUser(request: ReceivedWebhook): string | undefined {
  const body = parseBody(request)
  return isRecord(body) && isRecord(body.user) && typeof body.user.user_id === 'string'
    ? body.user.user_id
    : undefined
}

function eventType(request: ReceivedWebhook): string {
  const body = parseBody(request)
  return isRecord(body) && typeof body.type === 'string' ? body.type : '?'
}

const delivered: Check = {
  name: DELIVERED,
  needs: [SYNC],
  async run(ctx) {
    const webhook = state(ctx)
    const userId = ctx.tokens?.userId ?? fail('no tokens')
    const started = webhook.syncedAt ?? Date.now()
    const deadline = started + ctx.webhookTimeoutMs
    const received = webhook.receiver.received
    const ours = () => received.filter((r) => eventUser(r) === userId)
    let nextProgress = Date.now() + 5000
    for (;;) {
      const now = Date.now()
      const last = received.at(-1)?.at ?? 0
      if (ours().length > 0 && now - last >= QUIET_MS) break
      if (now >= deadline) break
      if (now >= nextProgress) {
        ctx.progress(
          `waiting for webhook events: ${seconds(now - started)} of ${seconds(ctx.webhookTimeoutMs)}, ${received.length} received`,
        )
        nextProgress += 5000
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const mine = ours()
    if (mine.length === 0) {
      fail(
        `no event about user ${userId} arrived within ${seconds(ctx.webhookTimeoutMs)} of the sync` +
          (received.length > 0 ? ` (${received.length} other request(s) arrived)` : ''),
      )
    }
    const types = [...new Set(mine.map(eventType))].join(', ')
    const others = received.length - mine.length
    return `${mine.length} event(s) (${types}) in ${seconds((mine.at(-1)?.at ?? started) - started)}${others > 0 ? `, and ${others} about other users` : ''}`
  },
}

const signatures: Check = {
  name: SIGNATURES,
  needs: [DELIVERED],
  async run(ctx) {
    const webhook = state(ctx)
    const secret =
      ctx.options.webhookSecret ??
      fail(
        'no --webhook-secret given, so the signatures cannot be verified (the gateway shows the secret once: at client creation or rotate-secret)',
      )
    const problems: string[] = []
    let verifier = 'built-in'
    for (const [i, request] of webhook.receiver.received.entries()) {
      let problem: string | null
      if (webhook.scheme === 'standard') {
        const result = await standardSignatureProblem(request, secret)
        problem = result.problem
        verifier = result.verifier
      } else {
        problem = await terraSignatureProblem(request, secret)
      }
      if (problem) {
        problems.push(
          `request ${i + 1} (webhook-id ${request.headers['webhook-id'] ?? '?'}): ${problem}`,
        )
      }
    }
    expect(
      problems.length === 0,
      `${problems.length} signature(s) do not verify: ${listSome(problems)}`,
    )
    const how = webhook.scheme === 'standard' ? `Standard Webhooks, ${verifier}` : 'terra-signature'
    return `${webhook.receiver.received.length} signature(s) verify (${how})`
  },
}

/** Why an event body is not one of Terra's envelopes (records checked against the models). */
export function eventProblems(body: unknown): string[] {
  if (!isRecord(body)) return ['the body is not a JSON object']
  const problems: string[] = []
  const type = body.type
  if (typeof type !== 'string') return ['no type']
  if (!isRecord(body.user)) problems.push('no user object')
  else {
    if (typeof body.user.user_id !== 'string' || body.user.user_id === '')
      problems.push('no user.user_id')
    if (typeof body.user.provider !== 'string' || body.user.provider === '')
      problems.push('no user.provider')
  }
  if ((DATA_TYPES as readonly string[]).includes(type)) {
    const dataType = type as DataType
    if (body.ping !== undefined) {
      const ping = body.ping
      if (!isRecord(ping) || !Array.isArray(ping.ids) || ping.ids.length === 0) {
        problems.push('ping.ids is not a non-empty array')
      } else if (!ping.ids.every((id) => typeof id === 'string')) {
        problems.push('ping.ids are not all strings')
      }
      return problems
    }
    if (body.version !== EVENT_VERSION) {
      problems.push(`version is ${JSON.stringify(body.version)}, not "${EVENT_VERSION}"`)
    }
    if (!Array.isArray(body.data)) return [...problems, 'data is not an array']
    if (body.data.length === 0 || body.data.length > 10) {
      problems.push(`${body.data.length} records in data (1 to 10 per event)`)
    }
    for (const record of body.data) {
      const result = DATA_RECORD_SCHEMAS[dataType].safeParse(record)
      if (!result.success) {
        const issue = result.error.issues[0]
        const path = issue?.path.map(String).join('.') || '(record)'
        problems.push(`${recordLabel(dataType, record)}: ${path}: ${issue?.message ?? 'invalid'}`)
      }
    }
    return problems
  }
  if (type === 'deletion') {
    if (typeof body.data_type !== 'string') problems.push('deletion without data_type')
    if (!Array.isArray(body.ids)) problems.push('deletion without ids')
    return problems
  }
  if (!LIFECYCLE_TYPES.has(type)) problems.push(`unknown event type ${JSON.stringify(type)}`)
  return problems
}

const bodies: Check = {
  name: BODIES,
  needs: [DELIVERED],
  async run(ctx) {
    const webhook = state(ctx)
    const problems: string[] = []
    let records = 0
    for (const [i, request] of webhook.receiver.received.entries()) {
      const where = `request ${i + 1}`
      if (request.method !== 'POST') problems.push(`${where}: method ${request.method}`)
      const contentType = request.headers['content-type'] ?? ''
      if (!/^application\/json\b/i.test(contentType)) {
        problems.push(`${where}: content-type ${JSON.stringify(contentType)}`)
      }
      if (!request.headers['webhook-id']) problems.push(`${where}: no webhook-id header`)
      const body = parseBody(request)
      if (body === undefined) {
        problems.push(`${where}: the body is not JSON`)
        continue
      }
      if (isRecord(body) && Array.isArray(body.data)) records += body.data.length
      for (const problem of eventProblems(body))
        problems.push(`${where} (${eventType(request)}): ${problem}`)
    }
    expect(problems.length === 0, listSome(problems))
    return `${webhook.receiver.received.length} event(s), ${records} record(s) valid`
  },
}

const restored: Check = {
  name: RESTORED,
  needs: [REGISTERED],
  async run(ctx) {
    const webhook = state(ctx)
    await adminJson(
      `PATCH /admin/v1${clientPath(ctx)}`,
      await ctx.admin(clientPath(ctx), {
        method: 'PATCH',
        json: {
          webhook_url: webhook.previousUrl,
          ...(webhook.reenabled && webhook.previousStatus
            ? { webhook_status: webhook.previousStatus }
            : {}),
        },
      }),
    )
    const client = await adminJson(
      `GET /admin/v1${clientPath(ctx)}`,
      await ctx.admin(clientPath(ctx)),
    )
    expect(
      (client.webhook_url ?? null) === webhook.previousUrl,
      `webhook_url is ${JSON.stringify(client.webhook_url)} after restoring ${JSON.stringify(webhook.previousUrl)}`,
    )
    return `webhook_url back to ${webhook.previousUrl ?? 'none'}`
  },
}

export const webhookChecks: Check[] = [registered, sync, delivered, signatures, bodies, restored]
