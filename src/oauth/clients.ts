import { eq, sql } from 'drizzle-orm'
import type { Context } from 'hono'
import { verifySecret } from '../crypto.ts'
import { prepared } from '../db/index.ts'
import { clients } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { OAuthError } from '../http/errors.ts'

export type Client = typeof clients.$inferSelect

export async function findClient(
  c: Context<AppEnv>,
  clientId: string,
): Promise<Client | undefined> {
  const { db } = c.var.deps
  const query = prepared(db, 'findClient', () =>
    db
      .select()
      .from(clients)
      .where(eq(clients.id, sql.placeholder('id')))
      .prepare(),
  )
  return query.get({ id: clientId })
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '))
}

function parseBasic(header: string): { id: string; secret: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!match?.[1]) return null
  let decoded: string
  try {
    decoded = atob(match[1])
  } catch {
    return null
  }
  const colon = decoded.indexOf(':')
  if (colon < 0) return null
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) }
  } catch {
    return null
  }
}

const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="partner-gateway", charset="UTF-8"' }

/**
 * Authenticates the client at the token, revocation and introspection endpoints with
 * `client_secret_basic` or `client_secret_post` (one method per request, RFC 6749 §2.3).
 * Every failure is `invalid_client` with 401; with a `WWW-Authenticate` challenge when the
 * client tried Basic (§5.2).
 */
export async function authenticateClient(
  c: Context<AppEnv>,
  form: URLSearchParams,
): Promise<Client> {
  const header = c.req.header('authorization')
  const formId = form.get('client_id')
  const formSecret = form.get('client_secret')
  let id: string
  let secret: string
  let usedBasic = false
  if (header !== undefined) {
    usedBasic = /^Basic\s/i.test(header)
    const basic = parseBasic(header)
    if (!basic) {
      throw new OAuthError(
        'invalid_client',
        'The Authorization header is not valid Basic credentials.',
        401,
        {
          headers: BASIC_CHALLENGE,
        },
      )
    }
    if (formSecret !== null) {
      throw new OAuthError('invalid_request', 'Use one client authentication method, not both.')
    }
    if (formId !== null && formId !== basic.id) {
      throw new OAuthError('invalid_request', 'client_id does not match the Basic credentials.')
    }
    id = basic.id
    secret = basic.secret
  } else if (formId !== null && formSecret !== null) {
    id = formId
    secret = formSecret
  } else {
    throw new OAuthError(
      'invalid_client',
      'Client authentication is required (client_secret_basic or client_secret_post).',
      401,
    )
  }
  const client = await findClient(c, id)
  // Verify against a fixed hash when the client is unknown so both paths take the same time.
  const ok = await verifySecret(secret, client?.secretHash ?? UNKNOWN_CLIENT_HASH)
  if (!client || !ok) {
    throw new OAuthError(
      'invalid_client',
      'Client authentication failed.',
      401,
      usedBasic ? { headers: BASIC_CHALLENGE } : {},
    )
  }
  return client
}

const UNKNOWN_CLIENT_HASH = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
