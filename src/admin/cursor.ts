import { base64url } from '../crypto.ts'
import { Problem } from '../http/errors.ts'
import type { CreatedKey } from './records.ts'

/*
 * Admin lists page by keyset on `(created_at, id)`, which stays correct while rows are added or
 * deleted between pages (an offset would skip or repeat rows). The token is opaque to callers:
 * base64url JSON, so its shape can change without breaking anyone.
 */

export function encodeCursor(key: CreatedKey): string {
  return base64url(new TextEncoder().encode(JSON.stringify([key.createdAt, key.id])))
}

/** Decodes a `next_token`; anything that is not one of ours is a 400 naming the parameter. */
export function decodeCursor(token: string): CreatedKey {
  try {
    const b64 = token.replace(/-/g, '+').replace(/_/g, '/')
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (ch) => ch.charCodeAt(0)),
    )
    const value: unknown = JSON.parse(text)
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === 'string'
    ) {
      return { createdAt: value[0] as number, id: value[1] }
    }
  } catch {
    // fall through to the problem below
  }
  throw new Problem(400, 'Invalid request', 'The query parameters are not valid.', {
    errors: [{ path: 'next_token', message: 'Not a next_token from a previous page.' }],
  })
}
