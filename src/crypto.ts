/*
 * Web Crypto only (crypto.subtle, crypto.getRandomValues) so the same code runs on Node and on
 * Workers.
 */

const encoder = new TextEncoder()

export function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function fromBase64url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/')
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0))
}

/** A random secret with 256 bits of entropy, base64url, with an optional recognisable prefix. */
export function randomSecret(prefix = '', bytes = 32): string {
  return prefix + base64url(crypto.getRandomValues(new Uint8Array(bytes)))
}

export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)))
}

/**
 * The stored form of a high-entropy secret (token, code, session id, client secret). A fast hash
 * is enough because these are 256-bit random values; passwords use {@link hashPassword}.
 */
export async function hashSecret(secret: string): Promise<string> {
  return base64url(await sha256(secret))
}

/** Constant-time equality of two byte strings (length is not secret). */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

/** Constant-time comparison of two strings of any length: compares their SHA-256 digests. */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([sha256(a), sha256(b)])
  return timingSafeEqualBytes(da, db)
}

/** Checks a presented secret against a stored {@link hashSecret} value in constant time. */
export async function verifySecret(presented: string, storedHash: string): Promise<boolean> {
  const presentedHash = await sha256(presented)
  return timingSafeEqualBytes(presentedHash, fromBase64url(storedHash))
}

/** PKCE S256: BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2). */
export async function pkceChallenge(verifier: string): Promise<string> {
  return base64url(await sha256(verifier))
}

/*
 * Passwords: PBKDF2-HMAC-SHA256. 100,000 iterations is the most Cloudflare Workers' Web Crypto
 * allows; the iteration count is stored with each hash so it can be raised on Node later.
 * Format: pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>
 */
export const PASSWORD_ITERATIONS = 100_000

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, [
    'deriveBits',
  ])
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    key,
    256,
  )
  return new Uint8Array(bits)
}

export async function hashPassword(password: string, iterations = PASSWORD_ITERATIONS) {
  const salt = crypto.getRandomValues(new Uint8Array(16))
  const hash = await pbkdf2(password, salt, iterations)
  return `pbkdf2-sha256$${iterations}$${base64url(salt)}$${base64url(hash)}`
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterations, salt, hash] = stored.split('$')
  if (scheme !== 'pbkdf2-sha256' || !iterations || !salt || !hash) return false
  const computed = await pbkdf2(password, fromBase64url(salt), Number(iterations))
  return timingSafeEqualBytes(computed, fromBase64url(hash))
}

/**
 * A password hash of a random password, verified against when the email is unknown so that an
 * unknown account costs the same time as a wrong password.
 */
const dummyHashes = new Map<number, Promise<string>>()
export function dummyPasswordHash(iterations = PASSWORD_ITERATIONS): Promise<string> {
  let hash = dummyHashes.get(iterations)
  if (!hash) {
    hash = hashPassword(randomSecret(), iterations)
    dummyHashes.set(iterations, hash)
  }
  return hash
}
