import { timingSafeEqual } from 'node:crypto'
import type { ReceivedWebhook } from './receiver.ts'

/*
 * Signature verification as a receiver does it, independent of the gateway's own signing code:
 *
 * - `terra`: `terra-signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=…]`,
 *   the secret's UTF-8 bytes as key, 300 s tolerance (as Terra's SDK, `terra-api`);
 * - `standard`: Standard Webhooks, with the `standardwebhooks` package when it is installed, else
 *   the same algorithm here: `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<ts>.<body>")>`
 *   (space-separated list), key = base64 after `whsec_`, 300 s tolerance.
 */

export const TOLERANCE_SECONDS = 300

const encoder = new TextEncoder()

async function hmacSha256(key: Uint8Array, message: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey(
    'raw',
    key as BufferSource,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  return new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(message)))
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

function checkTimestamp(seconds: number, atMs: number): string | null {
  if (!Number.isFinite(seconds)) return 'the timestamp is not a number'
  const skew = Math.abs(atMs / 1000 - seconds)
  return skew > TOLERANCE_SECONDS
    ? `the timestamp is ${Math.round(skew)} s away from the arrival time (tolerance ${TOLERANCE_SECONDS} s)`
    : null
}

/** Why a `terra` signature does not verify, or `null` when it does. */
export async function terraSignatureProblem(
  request: Pick<ReceivedWebhook, 'headers' | 'body' | 'at'>,
  secret: string,
): Promise<string | null> {
  const header = request.headers['terra-signature']
  if (!header) return 'no terra-signature header'
  let timestamp: string | null = null
  const signatures: string[] = []
  for (const part of header.split(',')) {
    const [key, ...rest] = part.trim().split('=')
    const value = rest.join('=')
    if (key === 't') timestamp = value
    else if (key === 'v1') signatures.push(value)
  }
  if (timestamp === null || !/^\d+$/.test(timestamp)) return `no t=<unix seconds> in "${header}"`
  if (signatures.length === 0) return `no v1= signature in "${header}"`
  const expected = await hmacSha256(encoder.encode(secret), `${timestamp}.${request.body}`)
  const matches = signatures.some((hex) => {
    if (!/^[0-9a-f]{64}$/i.test(hex)) return false
    return sameBytes(Buffer.from(hex, 'hex'), expected)
  })
  if (!matches) return 'no v1 signature matches the webhook secret'
  return checkTimestamp(Number(timestamp), request.at)
}

function standardKey(secret: string): Uint8Array | null {
  const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null
  return new Uint8Array(Buffer.from(b64, 'base64'))
}

/** The Standard Webhooks algorithm, for when the `standardwebhooks` package is not installed. */
export async function standardSignatureProblemBuiltIn(
  request: Pick<ReceivedWebhook, 'headers' | 'body' | 'at'>,
  secret: string,
): Promise<string | null> {
  const id = request.headers['webhook-id']
  const timestamp = request.headers['webhook-timestamp']
  const header = request.headers['webhook-signature']
  if (!id || !timestamp || !header) {
    return 'missing webhook-id, webhook-timestamp or webhook-signature header'
  }
  if (!/^\d+$/.test(timestamp)) return `webhook-timestamp "${timestamp}" is not unix seconds`
  const key = standardKey(secret)
  if (!key) return 'the webhook secret is not whsec_ followed by base64'
  const expected = await hmacSha256(key, `${id}.${timestamp}.${request.body}`)
  const matches = header.split(' ').some((entry) => {
    const [version, signature] = entry.split(',')
    if (version !== 'v1' || !signature) return false
    return sameBytes(new Uint8Array(Buffer.from(signature, 'base64')), expected)
  })
  if (!matches) return 'no v1 signature matches the webhook secret'
  return checkTimestamp(Number(timestamp), request.at)
}

type WebhookVerifier = new (
  secret: string,
) => { verify(payload: string, headers: Record<string, string>): unknown }

let standardPackage: Promise<WebhookVerifier | null> | undefined

/** The `standardwebhooks` package's `Webhook` class, or `null` when it is not installed. */
export function loadStandardWebhooks(): Promise<WebhookVerifier | null> {
  standardPackage ??= (async () => {
    try {
      // A variable specifier: the kit must load (and type-check) without the package.
      const specifier = 'standardwebhooks'
      const mod = (await import(specifier)) as {
        Webhook?: WebhookVerifier
        default?: { Webhook?: WebhookVerifier }
      }
      return mod.Webhook ?? mod.default?.Webhook ?? null
    } catch {
      return null
    }
  })()
  return standardPackage
}

/** Why a `standard` signature does not verify, or `null`; says which verifier was used. */
export async function standardSignatureProblem(
  request: Pick<ReceivedWebhook, 'headers' | 'body' | 'at'>,
  secret: string,
): Promise<{ problem: string | null; verifier: string }> {
  const Webhook = await loadStandardWebhooks()
  if (!Webhook) {
    return {
      problem: await standardSignatureProblemBuiltIn(request, secret),
      verifier: 'built-in Standard Webhooks verifier',
    }
  }
  try {
    new Webhook(secret).verify(request.body, request.headers)
    return { problem: null, verifier: 'standardwebhooks package' }
  } catch (err) {
    return {
      problem: `standardwebhooks refused it: ${err instanceof Error ? err.message : String(err)}`,
      verifier: 'standardwebhooks package',
    }
  }
}
