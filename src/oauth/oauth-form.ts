import type { Context } from 'hono'
import type { AppEnv } from '../http/env.ts'
import { OAuthError } from '../http/errors.ts'
import { readForm } from '../http/form.ts'

/** Reads a back-channel OAuth request body; every defect is `invalid_request` (RFC 6749 §5.2). */
export async function readOAuthForm(c: Context<AppEnv>): Promise<URLSearchParams> {
  const parsed = await readForm(c)
  if (parsed.ok) return parsed.form
  const status = parsed.failure.kind === 'too-large' ? 413 : 400
  throw new OAuthError('invalid_request', `${capitalize(parsed.failure.message)}.`, status)
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

export function requireParam(form: URLSearchParams, name: string): string {
  const value = form.get(name)
  if (value === null || value === '')
    throw new OAuthError('invalid_request', `${name} is required.`)
  return value
}
