import { and, eq, gt, isNull } from 'drizzle-orm'
import type { Context } from 'hono'
import { Hono } from 'hono'
import { findUserByEmail } from '../admin/records.ts'
import { hashSecret, randomSecret } from '../crypto.ts'
import { atomic, type Statement } from '../db/index.ts'
import { authorizationCodes, authorizationRequests, grants } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { OAuthError, PageError } from '../http/errors.ts'
import { readForm } from '../http/form.ts'
import { kickNotifier } from '../notify/kick.ts'
import { permissionChangeStatement } from '../notify/lifecycle.ts'
import { renderConsent } from '../views/consent.tsx'
import { type Client, findClient } from './clients.ts'
import { formatScope, parseScope, splitScope } from './scopes.ts'
import {
  type BrowserSession,
  currentSession,
  ensureSession,
  requireCsrf,
  sessionUser,
  type User,
} from './session.ts'
import { CODE_PREFIX } from './tokens.ts'

/** Authorization codes live at most 60 s (contract); pending requests 10 minutes. */
export const CODE_TTL_MS = 60_000
const REQUEST_TTL_MS = 10 * 60_000

export type AuthorizationRequest = typeof authorizationRequests.$inferSelect

const SINGLE_VALUED = [
  'response_type',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'login_hint',
  'prompt',
] as const

/** RFC 7636 §4.2: BASE64URL(SHA-256(verifier)) is always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/

/**
 * The redirect back to the client. `iss` is on every authorization response, success and error
 * (RFC 9207), and `state` is echoed whenever the client sent one.
 */
export function clientRedirect(
  c: Context<AppEnv>,
  redirectUri: string,
  params: Record<string, string | null | undefined>,
  status: 302 | 303,
): Response {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) url.searchParams.set(name, value)
  }
  url.searchParams.set('iss', c.var.deps.config.issuer)
  return c.redirect(url.toString(), status)
}

function errorRedirect(
  c: Context<AppEnv>,
  redirectUri: string,
  state: string | null | undefined,
  err: OAuthError,
  status: 302 | 303,
) {
  return clientRedirect(
    c,
    redirectUri,
    { error: err.error, error_description: err.description, state },
    status,
  )
}

/**
 * Steps 1–2 of RFC 6749 §4.1.2.1: until the client and its redirect_uri are verified, errors are
 * shown at the gateway and never redirected (an open redirector otherwise).
 */
async function verifyClientAndRedirect(c: Context<AppEnv>, query: URLSearchParams) {
  for (const name of ['client_id', 'redirect_uri']) {
    if (query.getAll(name).length > 1) {
      throw new PageError(
        400,
        'Invalid authorization request',
        `The parameter ${name} is repeated.`,
      )
    }
  }
  const clientId = query.get('client_id')
  if (!clientId) {
    throw new PageError(400, 'Invalid authorization request', 'The request has no client_id.')
  }
  const client = await findClient(c, clientId)
  if (!client) {
    throw new PageError(
      400,
      'Unknown application',
      'The application that sent you here is not registered with this service. Go back and contact its developers.',
    )
  }
  const redirectUri = query.get('redirect_uri')
  if (!redirectUri || !client.redirectUris.includes(redirectUri)) {
    throw new PageError(
      400,
      'Invalid redirect address',
      `${client.name} asked to send you to an address that is not registered for it, so we stopped here.`,
    )
  }
  return { client, redirectUri }
}

/** The remaining checks; each failure may be redirected to the verified redirect_uri. */
function validateRequest(query: URLSearchParams, client: Client) {
  for (const name of SINGLE_VALUED) {
    if (query.getAll(name).length > 1) {
      throw new OAuthError('invalid_request', `The parameter ${name} is repeated.`)
    }
  }
  const responseType = query.get('response_type')
  if (!responseType) throw new OAuthError('invalid_request', 'response_type is required.')
  if (responseType !== 'code') {
    throw new OAuthError('unsupported_response_type', 'Only response_type=code is supported.')
  }
  const challenge = query.get('code_challenge')
  if (!challenge) {
    throw new OAuthError(
      'invalid_request',
      'code_challenge is required: PKCE with S256 is mandatory.',
    )
  }
  if (query.get('code_challenge_method') !== 'S256') {
    throw new OAuthError('invalid_request', 'code_challenge_method must be S256.')
  }
  if (!S256_CHALLENGE.test(challenge)) {
    throw new OAuthError(
      'invalid_request',
      'code_challenge is not a base64url SHA-256 value (43 characters).',
    )
  }
  const state = query.get('state')
  if (state !== null && state.length > 2048) {
    throw new OAuthError('invalid_request', 'state is longer than 2048 characters.')
  }
  const requested = parseScope(query.get('scope') ?? '')
  if (requested.unknown.length > 0) {
    throw new OAuthError('invalid_scope', `Unknown scope: ${requested.unknown.join(' ')}.`)
  }
  if (requested.scopes.length === 0) {
    throw new OAuthError('invalid_scope', 'Request at least one scope.')
  }
  const prompt = query.get('prompt')
  if (prompt !== null && prompt !== 'none' && prompt !== 'consent') {
    throw new OAuthError('invalid_request', 'prompt must be none or consent.')
  }
  return {
    clientId: client.id,
    scope: formatScope(requested.scopes),
    state,
    codeChallenge: challenge,
    loginHint: query.get('login_hint'),
    prompt,
  }
}

/** A pending request, only from the browser session that started it. */
export async function loadRequest(
  c: Context<AppEnv>,
  txId: string | null | undefined,
  session: BrowserSession,
): Promise<AuthorizationRequest> {
  const { db, now } = c.var.deps
  const tx = txId
    ? await db
        .select()
        .from(authorizationRequests)
        .where(
          and(
            eq(authorizationRequests.id, txId),
            eq(authorizationRequests.sessionHash, session.idHash),
            gt(authorizationRequests.expiresAt, now()),
          ),
        )
        .get()
    : undefined
  if (!tx) {
    throw new PageError(
      400,
      'This sign-in has expired',
      'The authorization request is unknown, expired or was started in another browser. Go back to the app and connect again.',
    )
  }
  return tx
}

async function liveGrant(c: Context<AppEnv>, userId: string, clientId: string) {
  return c.var.deps.db
    .select()
    .from(grants)
    .where(and(eq(grants.userId, userId), eq(grants.clientId, clientId), isNull(grants.revokedAt)))
    .get()
}

/**
 * Finishes an authorization: records or updates the grant, issues a code bound to the client,
 * redirect_uri, user, scopes and PKCE challenge, and sends the browser back to the client.
 *
 * On re-consent the scopes shown on the screen take the user's new answer and other previously
 * granted scopes are kept.
 */
async function issueCodeAndRedirect(
  c: Context<AppEnv>,
  tx: AuthorizationRequest,
  user: User,
  approved: string[],
  status: 302 | 303,
): Promise<Response> {
  const { db, now } = c.var.deps
  const at = now()
  const existing = await liveGrant(c, user.id, tx.clientId)
  const requested = new Set(splitScope(tx.scope))
  const statements: Statement[] = []
  let announced = false
  let grantId: string
  if (existing) {
    grantId = existing.id
    const kept = splitScope(existing.scope).filter((s) => !requested.has(s))
    const next = formatScope([...kept, ...approved])
    if (next !== existing.scope) {
      // The client hears of the new scopes (permission_change), in the same write; the event
      // goes first because it is conditional on the grant still having its old scopes.
      const event = permissionChangeStatement(db, existing.id, existing.scope, next, at)
      if (event) {
        statements.push(event)
        announced = true
      }
      statements.push(
        db.update(grants).set({ scope: next, updatedAt: at }).where(eq(grants.id, existing.id)),
      )
    }
  } else {
    grantId = crypto.randomUUID()
    statements.push(
      db.insert(grants).values({
        id: grantId,
        userId: user.id,
        clientId: tx.clientId,
        scope: formatScope(approved),
        createdAt: at,
        updatedAt: at,
      }),
    )
  }
  const code = randomSecret(CODE_PREFIX)
  statements.push(
    db.insert(authorizationCodes).values({
      id: crypto.randomUUID(),
      codeHash: await hashSecret(code),
      clientId: tx.clientId,
      userId: user.id,
      grantId,
      redirectUri: tx.redirectUri,
      scope: formatScope(approved),
      codeChallenge: tx.codeChallenge,
      createdAt: at,
      expiresAt: at + CODE_TTL_MS,
    }),
    db.delete(authorizationRequests).where(eq(authorizationRequests.id, tx.id)),
  )
  await atomic(db, statements)
  if (announced) kickNotifier(c.var.deps)
  return clientRedirect(c, tx.redirectUri, { code, state: tx.state }, status)
}

/**
 * After sign-in: skip the consent screen when the live grant already covers every requested
 * scope (and the client did not ask for prompt=consent); otherwise show it.
 */
async function consentOrCode(
  c: Context<AppEnv>,
  tx: AuthorizationRequest,
  session: BrowserSession,
  user: User,
  options: { forceConsent: boolean; promptNone: boolean; status: 302 | 303 },
) {
  const grant = await liveGrant(c, user.id, tx.clientId)
  const granted = new Set(grant ? splitScope(grant.scope) : [])
  const requested = splitScope(tx.scope)
  if (!options.forceConsent && requested.every((s) => granted.has(s))) {
    return issueCodeAndRedirect(c, tx, user, requested, options.status)
  }
  if (options.promptNone) {
    return errorRedirect(
      c,
      tx.redirectUri,
      tx.state,
      new OAuthError('consent_required', 'The user has not approved these scopes.'),
      options.status,
    )
  }
  return showConsent(c, tx, session, user)
}

/** The consent screen for a pending request: the client's name and each requested scope. */
async function showConsent(
  c: Context<AppEnv>,
  tx: AuthorizationRequest,
  session: BrowserSession,
  user: User,
  problem?: { error: string; status: number },
) {
  const client = await findClient(c, tx.clientId)
  return renderConsent(c, {
    csrf: session.csrfToken,
    tx: tx.id,
    clientName: client?.name ?? tx.clientId,
    userEmail: user.email,
    scopes: splitScope(tx.scope),
    ...problem,
  })
}

export const authorizeRoutes = new Hono<AppEnv>()

authorizeRoutes.get('/oauth/authorize', async (c) => {
  const { db, now } = c.var.deps
  const query = new URL(c.req.url).searchParams
  const { client, redirectUri } = await verifyClientAndRedirect(c, query)
  let request: ReturnType<typeof validateRequest>
  try {
    request = validateRequest(query, client)
  } catch (err) {
    if (err instanceof OAuthError)
      return errorRedirect(c, redirectUri, query.get('state'), err, 302)
    throw err
  }
  const session = await ensureSession(c)
  const user = await sessionUser(c, session)
  if (!user && request.prompt === 'none') {
    return errorRedirect(
      c,
      redirectUri,
      request.state,
      new OAuthError('login_required', 'The user is not signed in.'),
      302,
    )
  }
  const tx: AuthorizationRequest = {
    id: randomSecret('', 18),
    sessionHash: session.idHash,
    clientId: request.clientId,
    redirectUri,
    scope: request.scope,
    state: request.state,
    codeChallenge: request.codeChallenge,
    loginHint: request.loginHint,
    createdAt: now(),
    expiresAt: now() + REQUEST_TTL_MS,
  }
  await db.insert(authorizationRequests).values(tx)
  // Mock mode with MOCK_AUTO_CONSENT=1: `login_hint` names a user, who is taken as signed in and
  // as having allowed every requested scope, so CI can complete an authorization without HTML.
  const { config } = c.var.deps
  if (config.mock && config.mockAutoConsent && request.loginHint) {
    const hinted = await findUserByEmail(c.var.deps, request.loginHint)
    if (hinted) return issueCodeAndRedirect(c, tx, hinted, splitScope(tx.scope), 302)
  }
  if (!user) return c.redirect(`/login?tx=${encodeURIComponent(tx.id)}`, 302)
  return consentOrCode(c, tx, session, user, {
    forceConsent: request.prompt === 'consent',
    promptNone: request.prompt === 'none',
    status: 302,
  })
})

authorizeRoutes.get('/oauth/consent', async (c) => {
  const session = await ensureSession(c)
  const tx = await loadRequest(c, c.req.query('tx'), session)
  const user = await sessionUser(c, session)
  if (!user) return c.redirect(`/login?tx=${encodeURIComponent(tx.id)}`, 302)
  return consentOrCode(c, tx, session, user, {
    forceConsent: false,
    promptNone: false,
    status: 302,
  })
})

authorizeRoutes.post('/oauth/consent', async (c) => {
  const parsed = await readForm(c, ['scope'])
  if (!parsed.ok)
    throw new PageError(
      400,
      'Invalid form',
      `The consent form could not be read: ${parsed.failure.message}.`,
    )
  const { form } = parsed
  const session = await requireCsrf(await currentSession(c), form.get('csrf'))
  const tx = await loadRequest(c, form.get('tx'), session)
  const user = await sessionUser(c, session)
  if (!user) return c.redirect(`/login?tx=${encodeURIComponent(tx.id)}`, 303)
  const decision = form.get('decision')
  if (decision === 'deny') {
    await c.var.deps.db.delete(authorizationRequests).where(eq(authorizationRequests.id, tx.id))
    return errorRedirect(
      c,
      tx.redirectUri,
      tx.state,
      new OAuthError('access_denied', 'The user denied the request.'),
      303,
    )
  }
  if (decision !== 'allow') {
    throw new PageError(400, 'Invalid form', 'Choose Allow or Deny.')
  }
  const requested = splitScope(tx.scope)
  const approved = requested.filter((s) => form.getAll('scope').includes(s))
  if (approved.length === 0) {
    return showConsent(c, tx, session, user, {
      error: 'Tick at least one item to allow, or choose Deny.',
      status: 400,
    })
  }
  return issueCodeAndRedirect(c, tx, user, approved, 303)
})
