import { eq } from 'drizzle-orm'
import { z } from 'zod'
import { base64url, fromBase64url, randomSecret, timingSafeEqualBytes } from '../crypto.ts'
import type { Db } from '../db/index.ts'
import { settings } from '../db/schema.ts'
import { Problem } from '../http/errors.ts'

/**
 * `next_token` is opaque to clients: a base64url JSON position plus an HMAC over it, so a token
 * that was edited, truncated or made for another user or type is refused with 400 rather than
 * silently paging somewhere else.
 */
const Cursor = z.discriminatedUnion('m', [
  z.object({
    m: z.literal('range'),
    t: z.string(),
    u: z.string(),
    s: z.number().int(),
    e: z.number().int(),
    a: z.number().int(),
    k: z.string(),
  }),
  z.object({
    m: z.literal('changes'),
    t: z.string(),
    u: z.string(),
    since: z.number().int(),
    q: z.number().int(),
  }),
])
export type Cursor = z.infer<typeof Cursor>

const keys = new WeakMap<Db, Promise<CryptoKey>>()

/** The installation's cursor key, created on first use and kept in `settings`. */
function cursorKey(db: Db): Promise<CryptoKey> {
  let key = keys.get(db)
  if (!key) {
    key = (async () => {
      await db
        .insert(settings)
        .values({ key: 'cursor_secret', value: randomSecret() })
        .onConflictDoNothing()
      const row = await db.select().from(settings).where(eq(settings.key, 'cursor_secret')).get()
      return crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode(row?.value ?? ''),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign'],
      )
    })()
    keys.set(db, key)
  }
  return key
}

async function mac(db: Db, payload: string): Promise<Uint8Array> {
  const signature = await crypto.subtle.sign(
    'HMAC',
    await cursorKey(db),
    new TextEncoder().encode(payload),
  )
  return new Uint8Array(signature).slice(0, 16)
}

export async function encodeCursor(db: Db, cursor: Cursor): Promise<string> {
  const payload = base64url(new TextEncoder().encode(JSON.stringify(cursor)))
  return `${payload}.${base64url(await mac(db, payload))}`
}

function invalid(): Problem {
  return new Problem(
    400,
    'Invalid request',
    'next_token is not a token this server issued for this query.',
    {
      errors: [
        { path: 'next_token', message: 'must be the next_token from the previous page, unchanged' },
      ],
    },
  )
}

export async function decodeCursor(
  db: Db,
  token: string,
  expect: { type: string; userId: string },
): Promise<Cursor> {
  const [payload, signature, extra] = token.split('.')
  if (!payload || !signature || extra !== undefined) throw invalid()
  let json: unknown
  try {
    if (!timingSafeEqualBytes(fromBase64url(signature), await mac(db, payload))) throw invalid()
    json = JSON.parse(new TextDecoder().decode(fromBase64url(payload)))
  } catch {
    throw invalid()
  }
  const parsed = Cursor.safeParse(json)
  if (!parsed.success || parsed.data.t !== expect.type || parsed.data.u !== expect.userId)
    throw invalid()
  return parsed.data
}
