import type { z } from 'zod'

/**
 * An OAuth 2.0 error (RFC 6749 §5.2, §4.1.2.1). `redirectable` says whether the authorization
 * endpoint may send it back to the client's redirect_uri: only once the client and the
 * redirect_uri have been verified.
 */
export class OAuthError extends Error {
  override name = 'OAuthError'
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status: 400 | 401 | 403 | 413 | 415 | 429 | 500 | 503 = 400,
    readonly options: { redirectable?: boolean; headers?: Record<string, string> } = {},
  ) {
    super(`${error}: ${description}`)
  }
  get redirectable(): boolean {
    return this.options.redirectable ?? true
  }
}

export interface ProblemFieldError {
  path: string
  message: string
  index?: number
}

/** An RFC 9457 problem. `type` is a URI under our docs; `errors` lists validation failures. */
export class Problem extends Error {
  override name = 'Problem'
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: {
      errors?: ProblemFieldError[]
      type?: string
      headers?: Record<string, string>
    } = {},
  ) {
    super(`${status} ${title}: ${detail}`)
  }
}

/** An error shown to a person as an HTML page (the browser-facing routes). */
export class PageError extends Error {
  override name = 'PageError'
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${title}: ${detail}`)
  }
}

/**
 * Turns zod issues into our `errors: [{path, message}]` without leaking zod's raw output. An
 * unknown key is reported at its own path (zod puts it on the parent object), so a misspelled
 * field is named where it is.
 */
export function fieldErrors(
  error: z.ZodError,
  prefix: (string | number)[] = [],
): ProblemFieldError[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...(issue.path as (string | number)[])]
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: formatPath([...path, key]),
        message: 'is not a known field (check the spelling)',
      }))
    }
    return [{ path: formatPath(path), message: issue.message }]
  })
}

/** `['data', 0, 'metadata', 'start_time']` ⇒ `data[0].metadata.start_time`. */
export function formatPath(path: readonly (string | number | symbol)[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

/** Validates with zod or throws a 400 problem that names every bad field. */
export function parseOrProblem<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what: string,
): z.infer<T> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  throw new Problem(400, 'Invalid request', `The ${what} is not valid.`, {
    errors: fieldErrors(result.error),
  })
}
