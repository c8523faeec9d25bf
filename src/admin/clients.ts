import { Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv, Deps } from '../http/env.ts'
import { Problem, parseOrProblem } from '../http/errors.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'
import { readJsonBody } from './json-body.ts'
import {
  type ClientRow,
  createClientRecord,
  deleteClientRecord,
  findClientById,
  listClients,
  rotateClientSecret,
  rotateWebhookSecret,
  updateClientRecord,
} from './records.ts'

/** `/admin/v1/clients`: the OAuth clients (Terra) that may ask users for access. */
export const clientRoutes = new Hono<AppEnv>()

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])
const MAX_URI_LENGTH = 2000

/**
 * Why a redirect URI cannot be registered, or `null` if it can. Matching at /oauth/authorize is
 * exact string comparison (OAuth 2.1 §4.1.1), so the URI is stored as given and must already be
 * in the form the client will send.
 */
export function redirectUriProblem(value: string): string | null {
  if (value.length > MAX_URI_LENGTH) return `Must be at most ${MAX_URI_LENGTH} characters.`
  // The URL parser would quietly strip surrounding whitespace, and the stored string would then
  // never match what the client sends.
  if (/[\s\p{Cc}]/u.test(value)) return 'Must not contain whitespace or control characters.'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'Must be an absolute URI, e.g. https://app.example.com/oauth/callback.'
  }
  // RFC 6749 §3.1.2: the redirection endpoint URI MUST NOT include a fragment component.
  if (value.includes('#')) return 'Must not contain a fragment (#…).'
  if (url.username !== '' || url.password !== '') return 'Must not contain user credentials.'
  if (url.protocol === 'https:') return null
  if (url.protocol === 'http:') {
    // RFC 8252 §7.3 / OAuth 2.1 §2.3.1: plain http only for native apps on the loopback interface.
    return LOOPBACK_HOSTS.has(url.hostname)
      ? null
      : 'Must use https; http is allowed only for loopback hosts (127.0.0.1, localhost, [::1]).'
  }
  // RFC 8252 §7.1: private-use schemes of native apps are reverse domain names (com.example.app:/cb).
  // Requiring the dot also keeps out javascript:, data:, file: and the like.
  if (!url.protocol.slice(0, -1).includes('.')) {
    return 'Must use https, http on a loopback host, or a reverse-domain private-use scheme such as com.example.app:/callback.'
  }
  return null
}

/** Why a webhook URL cannot be used, or `null`. */
export function webhookUrlProblem(value: string): string | null {
  if (value.length > MAX_URI_LENGTH) return `Must be at most ${MAX_URI_LENGTH} characters.`
  if (/[\s\p{Cc}]/u.test(value)) return 'Must not contain whitespace or control characters.'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'Must be an absolute http(s) URL, e.g. https://webhooks.example.com/terra.'
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'Must be an http or https URL.'
  if (value.includes('#')) return 'Must not contain a fragment (#…).'
  // fetch() refuses URLs with credentials; put receiver authentication in the signature instead.
  if (url.username !== '' || url.password !== '') return 'Must not contain user credentials.'
  return null
}

const withProblem = (check: (value: string) => string | null) =>
  z.string().superRefine((value, ctx) => {
    const problem = check(value)
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
  })

const name = z
  .string()
  .trim()
  .min(1, 'Must not be empty.')
  .max(200, 'Must be at most 200 characters.')
const redirectUris = z
  .array(withProblem(redirectUriProblem))
  .min(1, 'At least one redirect URI is required.')
  .max(20, 'At most 20 redirect URIs.')
  .superRefine((uris, ctx) => {
    uris.forEach((uri, index) => {
      if (uris.indexOf(uri) !== index) {
        ctx.addIssue({ code: 'custom', path: [index], message: 'Is listed twice.' })
      }
    })
  })
const webhookUrl = withProblem(webhookUrlProblem).nullable()
const signatureScheme = z.enum(['terra', 'standard'])
const payloadMode = z.enum(['full', 'ping'])

/** The body of `POST /admin/v1/clients`; the CLI's `client create` validates its flags with it too. */
export const CreateClientBody = z.strictObject({
  name,
  redirect_uris: redirectUris,
  webhook_url: webhookUrl.optional(),
  signature_scheme: signatureScheme.optional(),
  payload_mode: payloadMode.optional(),
})

const UpdateClientBody = z.strictObject({
  name: name.optional(),
  redirect_uris: redirectUris.optional(),
  /** `null` removes the webhook. */
  webhook_url: webhookUrl.optional(),
  signature_scheme: signatureScheme.optional(),
  payload_mode: payloadMode.optional(),
  webhook_status: z.enum(['active', 'disabled']).optional(),
})

const RotateBody = z.strictObject({ which: z.enum(['client', 'webhook']) })

const ListQuery = z.object({
  limit: z.coerce
    .number({ error: 'Must be a whole number from 1 to 100.' })
    .int('Must be a whole number from 1 to 100.')
    .min(1, 'Must be a whole number from 1 to 100.')
    .max(100, 'Must be a whole number from 1 to 100.')
    .default(50),
  next_token: z.string().optional(),
})

/** The client as the admin API shows it: never a secret. */
export function clientView(row: ClientRow) {
  return {
    client_id: row.id,
    name: row.name,
    redirect_uris: row.redirectUris,
    webhook_url: row.webhookUrl,
    signature_scheme: row.signatureScheme,
    payload_mode: row.payloadMode,
    webhook_status: row.webhookStatus,
    created_at: new Date(row.createdAt).toISOString(),
    updated_at: new Date(row.updatedAt).toISOString(),
  }
}

function noSuchClient(id: string): Problem {
  return new Problem(404, 'Not Found', `There is no client with id ${JSON.stringify(id)}.`)
}

/**
 * Registers a client from a validated {@link CreateClientBody} and returns what the admin API
 * answers: the client with both secrets. The secrets exist only in this answer: the client secret
 * is stored as a hash.
 */
export async function registerClient(deps: Deps, body: z.infer<typeof CreateClientBody>) {
  const { client, clientSecret, webhookSecret } = await createClientRecord(deps, {
    name: body.name,
    redirectUris: body.redirect_uris,
    webhookUrl: body.webhook_url ?? null,
    signatureScheme: body.signature_scheme ?? 'terra',
    payloadMode: body.payload_mode ?? 'full',
  })
  const { client_id, ...rest } = clientView(client)
  return { client_id, client_secret: clientSecret, webhook_secret: webhookSecret, ...rest }
}

clientRoutes.post('/', async (c) => {
  const body = await readJsonBody(c, CreateClientBody, { what: 'client' })
  const created = await registerClient(c.var.deps, body)
  c.header('location', `${c.req.path}/${encodeURIComponent(created.client_id)}`)
  return c.json(created, 201)
})

clientRoutes.get('/', async (c) => {
  const { limit, next_token } = parseOrProblem(ListQuery, c.req.query(), 'query')
  const after = next_token === undefined ? undefined : decodeCursor(next_token)
  const rows = await listClients(c.var.deps, { limit: limit + 1, after })
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return c.json({
    data: page.map(clientView),
    next_token: rows.length > limit && last ? encodeCursor(last) : null,
  })
})

clientRoutes.get('/:id', async (c) => {
  const id = c.req.param('id')
  const client = await findClientById(c.var.deps, id)
  if (!client) throw noSuchClient(id)
  return c.json(clientView(client))
})

clientRoutes.patch('/:id', async (c) => {
  const id = c.req.param('id')
  if (!(await findClientById(c.var.deps, id))) throw noSuchClient(id)
  const body = await readJsonBody(c, UpdateClientBody, { what: 'client update' })
  const updated = await updateClientRecord(c.var.deps, id, {
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(body.redirect_uris !== undefined ? { redirectUris: body.redirect_uris } : {}),
    ...(body.webhook_url !== undefined ? { webhookUrl: body.webhook_url } : {}),
    ...(body.signature_scheme !== undefined ? { signatureScheme: body.signature_scheme } : {}),
    ...(body.payload_mode !== undefined ? { payloadMode: body.payload_mode } : {}),
    ...(body.webhook_status !== undefined ? { webhookStatus: body.webhook_status } : {}),
  })
  if (!updated) throw noSuchClient(id)
  // A change of signature_scheme replaces the webhook secret with one in the new scheme's format
  // (see updateClientRecord); the new secret is shown here, once.
  return c.json({
    ...clientView(updated.client),
    ...(updated.webhookSecret !== null ? { webhook_secret: updated.webhookSecret } : {}),
  })
})

clientRoutes.delete('/:id', async (c) => {
  const id = c.req.param('id')
  if (!(await deleteClientRecord(c.var.deps, id))) throw noSuchClient(id)
  return c.body(null, 204)
})

clientRoutes.post('/:id/rotate-secret', async (c) => {
  const id = c.req.param('id')
  if (!(await findClientById(c.var.deps, id))) throw noSuchClient(id)
  const { which } = await readJsonBody(c, RotateBody, { what: 'rotation request' })
  if (which === 'client') {
    const clientSecret = await rotateClientSecret(c.var.deps, id)
    if (clientSecret === undefined) throw noSuchClient(id)
    return c.json({ client_id: id, client_secret: clientSecret })
  }
  const rotated = await rotateWebhookSecret(c.var.deps, id)
  if (!rotated) throw noSuchClient(id)
  return c.json({
    client_id: id,
    webhook_secret: rotated.webhookSecret,
    previous_secret_expires_at:
      rotated.previousExpiresAt === null ? null : new Date(rotated.previousExpiresAt).toISOString(),
  })
})
