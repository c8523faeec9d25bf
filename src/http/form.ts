import type { Context } from 'hono'

/** Forms and token requests are small; anything larger is refused before parsing. */
export const MAX_FORM_BYTES = 16 * 1024

export type FormFailure =
  | { kind: 'content-type'; message: string }
  | { kind: 'too-large'; message: string }
  | { kind: 'repeated'; message: string; name: string }

export type FormResult = { ok: true; form: URLSearchParams } | { ok: false; failure: FormFailure }

/**
 * Reads an `application/x-www-form-urlencoded` body strictly: the right content type, a bounded
 * size, and (RFC 6749 §3.1) no parameter sent twice — except those listed in `multi`, such as the
 * consent form's `scope` checkboxes.
 */
export async function readForm(c: Context, multi: readonly string[] = []): Promise<FormResult> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') {
    return {
      ok: false,
      failure: {
        kind: 'content-type',
        message: 'the body must be application/x-www-form-urlencoded',
      },
    }
  }
  const declared = Number(c.req.header('content-length') ?? '0')
  if (declared > MAX_FORM_BYTES) return tooLarge()
  const body = await c.req.arrayBuffer()
  if (body.byteLength > MAX_FORM_BYTES) return tooLarge()
  const form = new URLSearchParams(new TextDecoder().decode(body))
  const seen = new Set<string>()
  for (const name of form.keys()) {
    if (seen.has(name) && !multi.includes(name)) {
      return {
        ok: false,
        failure: { kind: 'repeated', name, message: `the parameter ${name} is repeated` },
      }
    }
    seen.add(name)
  }
  return { ok: true, form }
}

function tooLarge(): FormResult {
  return {
    ok: false,
    failure: { kind: 'too-large', message: `the body is larger than ${MAX_FORM_BYTES} bytes` },
  }
}

/** Query parameters that must appear at most once; returns the first repeated name, if any. */
export function repeatedQueryParam(url: string, names: readonly string[]): string | undefined {
  const params = new URL(url).searchParams
  return names.find((n) => params.getAll(n).length > 1)
}
