/*
 * Webhook signatures, with Web Crypto only (Node and Workers alike). During a secret rotation
 * every delivery carries one signature per live secret, so a receiver verifying with either the
 * old or the new secret accepts it.
 */

export type SignatureScheme = 'terra' | 'standard'

const encoder = new TextEncoder()
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

// Importing a key costs more than the HMAC of a small body; secrets change rarely.
const keyCache = new Map<string, Promise<CryptoKey>>()
const KEY_CACHE_LIMIT = 1000

function hmacKey(cacheKey: string, raw: () => Uint8Array): Promise<CryptoKey> {
  let key = keyCache.get(cacheKey)
  if (!key) {
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear()
    key = crypto.subtle.importKey(
      'raw',
      raw() as BufferSource,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
    keyCache.set(cacheKey, key)
  }
  return key
}

async function hmac(key: CryptoKey, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(message)))
}

function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += HEX[b]
  return out
}

function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

/**
 * The key bytes of a Standard Webhooks secret: `whsec_` + base64 (the prefix is optional, as in
 * the reference libraries).
 */
export function standardSecretKey(secret: string): Uint8Array {
  const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret
  let binary: string
  try {
    binary = atob(b64)
  } catch {
    throw new Error('a standard-scheme webhook secret must be whsec_ followed by base64')
  }
  if (binary.length === 0) throw new Error('the webhook secret is empty')
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0))
}

/**
 * Terra's scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, one `v1=`
 * per secret. The secret's UTF-8 bytes are the key, as in Terra's SDK.
 */
export async function terraSignature(
  body: string,
  secrets: readonly string[],
  timestampSeconds: number,
): Promise<string> {
  const signed = `${timestampSeconds}.${body}`
  const parts = await Promise.all(
    secrets.map(async (secret) => {
      const key = await hmacKey(`terra:${secret}`, () => encoder.encode(secret))
      return `v1=${toHex(await hmac(key, signed))}`
    }),
  )
  return [`t=${timestampSeconds}`, ...parts].join(',')
}

/**
 * Standard Webhooks: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, space-separated
 * when there are several secrets.
 */
export async function standardSignature(
  eventId: string,
  body: string,
  secrets: readonly string[],
  timestampSeconds: number,
): Promise<string> {
  const signed = `${eventId}.${timestampSeconds}.${body}`
  const parts = await Promise.all(
    secrets.map(async (secret) => {
      const key = await hmacKey(`standard:${secret}`, () => standardSecretKey(secret))
      return `v1,${toBase64(await hmac(key, signed))}`
    }),
  )
  return parts.join(' ')
}

/** The signature headers of a client's scheme for one send of an event. */
export async function signatureHeaders(
  scheme: SignatureScheme,
  eventId: string,
  body: string,
  secrets: readonly string[],
  nowMs: number,
): Promise<Record<string, string>> {
  if (secrets.length === 0) throw new Error('the client has no live webhook secret')
  const t = Math.floor(nowMs / 1000)
  if (scheme === 'standard') {
    return {
      'webhook-timestamp': String(t),
      'webhook-signature': await standardSignature(eventId, body, secrets, t),
    }
  }
  return { 'terra-signature': await terraSignature(body, secrets, t) }
}
