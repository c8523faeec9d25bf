import { parse } from 'node-html-parser'
import * as oauth from 'oauth4webapi'

/** A check's own verdict: thrown by a check, its message becomes the reported reason. */
export class CheckFailure extends Error {
  override name = 'CheckFailure'
}

export function fail(message: string): never {
  throw new CheckFailure(message)
}

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message)
}

/** At most `max` characters of `text` on one line. */
export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/** A list shortened for a one-line report: the first `max` items and a count of the rest. */
export function listSome(items: readonly string[], max = 3): string {
  const shown = items.slice(0, max).join('; ')
  return items.length > max ? `${shown}; and ${items.length - max} more` : shown
}

/** A readable one-line reason for anything a check may throw (oauth4webapi's errors included). */
export function describeError(err: unknown): string {
  if (err instanceof CheckFailure) return err.message
  if (err instanceof oauth.ResponseBodyError) {
    const description = err.error_description ? ` (${err.error_description})` : ''
    return `the server answered ${err.status} ${err.error}${description}`
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    const description = err.error_description ? ` (${err.error_description})` : ''
    return `the authorization response is an error: ${err.error}${description}`
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    const challenges = err.cause
      .map(
        (c) =>
          `${c.scheme} ${Object.entries(c.parameters)
            .map(([k, v]) => `${k}="${v}"`)
            .join(', ')}`,
      )
      .join(', ')
    return `the server answered ${err.status} with WWW-Authenticate: ${challenges}`
  }
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return `no answer in time (${err.message})`
    const causes: string[] = [err.message]
    let cause: unknown = (err as { cause?: unknown }).cause
    for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
      const code = (cause as { code?: unknown }).code
      causes.push(typeof code === 'string' ? `${cause.message} [${code}]` : cause.message)
      cause = (cause as { cause?: unknown }).cause
    }
    return causes.filter(Boolean).join(': ')
  }
  return String(err)
}

/** {@link describeError}, adding the body of an answer oauth4webapi left unread (401 challenges). */
export async function explainError(err: unknown): Promise<string> {
  const reason = describeError(err)
  if (err instanceof oauth.WWWAuthenticateChallengeError && !err.response.bodyUsed) {
    const body = await err.response.text().catch(() => '')
    if (body.trim() !== '') return `${reason}: ${bodySummary(body)}`
  }
  return reason
}

/** What an HTML page says, in a line: its first heading and paragraph (error pages, mostly). */
export function pageSummary(html: string): string {
  const root = parse(html)
  const heading = root.querySelector('h1')?.text ?? root.querySelector('title')?.text ?? ''
  const paragraph =
    root.querySelector('[role=alert]')?.text ?? root.querySelector('p')?.text ?? excerpt(html, 120)
  return excerpt([heading, paragraph].filter((s) => s.trim() !== '').join(' — '), 240)
}

/** The detail of an `application/problem+json` (or any) error body, in a line. */
export function bodySummary(text: string): string {
  try {
    const json = JSON.parse(text) as Record<string, unknown>
    const parts = [json.title, json.detail, json.error, json.error_description].filter(
      (p): p is string => typeof p === 'string',
    )
    if (parts.length > 0) return excerpt(parts.join(': '))
  } catch {
    // not JSON
  }
  return text.trimStart().startsWith('<') ? pageSummary(text) : excerpt(text)
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Structural equality of JSON values, ignoring the order of object keys. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return firstDifference(a, b) === null
}

/** The path of the first difference between two JSON values, or `null` if they are equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (a === b) return null
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path || '(root)'} (length ${a.length} vs ${b.length})`
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`)
      if (d !== null) return d
    }
    return null
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    for (const key of keys) {
      const d = firstDifference(a[key], b[key], path ? `${path}.${key}` : key)
      if (d !== null) return d
    }
    return null
  }
  return path || '(root)'
}

/** Milliseconds as a short human duration. */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}
