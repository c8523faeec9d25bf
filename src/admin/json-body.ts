import type { Context } from 'hono'
import type { z } from 'zod'
import { fieldErrors, Problem } from '../http/errors.ts'

/** The admin resources (clients, users) are small; ingest passes its own, larger limit. */
export const MAX_ADMIN_JSON_BYTES = 1024 * 1024

export interface JsonBodyOptions {
  /** Bodies above this many bytes are refused with 413 before they are parsed. */
  maxBytes?: number
  /** Names the body in problem details, e.g. "client". */
  what?: string
}

/**
 * Reads a JSON request body strictly and validates it with zod:
 *
 * 1. `Content-Type` must be `application/json` (UTF-8), else 415 — Hono's JSON validator would
 *    see `{}` for a body sent without one, so the text is read here instead;
 * 2. at most `maxBytes`, else 413 — checked against `Content-Length` and again while reading,
 *    since the header may be absent (chunked) or wrong;
 * 3. well-formed UTF-8 JSON, else 400 naming the line and column;
 * 4. the schema, else 400 with `errors: [{path, message}]`.
 */
export async function readJsonBody<T extends z.ZodType>(
  c: Context,
  schema: T,
  options: JsonBodyOptions = {},
): Promise<z.infer<T>> {
  const maxBytes = options.maxBytes ?? MAX_ADMIN_JSON_BYTES
  const what = options.what ?? 'request body'
  requireJsonContentType(c.req.header('content-type'))
  const text = await readTextWithin(c.req.raw, maxBytes)
  const value = parseJson(text)
  const result = schema.safeParse(value)
  if (result.success) return result.data
  throw new Problem(400, 'Invalid request', `The ${what} is not valid.`, {
    errors: fieldErrors(result.error),
  })
}

function requireJsonContentType(header: string | undefined): void {
  const [mediaType, ...params] = (header ?? '').split(';').map((part) => part.trim().toLowerCase())
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length)
  const utf8 = charset === undefined || charset.replace(/"/g, '') === 'utf-8'
  if (mediaType !== 'application/json' || !utf8) {
    throw new Problem(
      415,
      'Unsupported Media Type',
      header
        ? `The body must be sent as application/json (UTF-8), not ${header}.`
        : 'The body must be sent as application/json; the Content-Type header is missing.',
    )
  }
}

function tooLarge(maxBytes: number): Problem {
  return new Problem(
    413,
    'Content Too Large',
    `The body is larger than the limit of ${maxBytes} bytes.`,
  )
}

/** Reads the body as UTF-8 text, giving up (413) as soon as it passes `maxBytes`. */
async function readTextWithin(request: Request, maxBytes: number): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes)
  const chunks: Uint8Array[] = []
  let total = 0
  if (request.body) {
    const reader = request.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > maxBytes) {
        await reader.cancel()
        throw tooLarge(maxBytes)
      }
      chunks.push(value)
    }
  }
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new Problem(400, 'Malformed JSON', 'The body is not valid UTF-8.')
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') {
    throw new Problem(400, 'Malformed JSON', 'The body is empty; a JSON object was expected.')
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new Problem(400, 'Malformed JSON', describeJsonError(text))
  }
}

/**
 * Says where and why a text is not JSON. JSON.parse's messages differ between engines and
 * versions and do not always carry a position, so the text is scanned again (RFC 8259 grammar),
 * only on this error path.
 */
export function describeJsonError(text: string): string {
  const found = locateJsonError(text)
  if (!found) return 'The body is not valid JSON.'
  const before = text.slice(0, found.offset)
  const line = before.split('\n').length
  const column = found.offset - before.lastIndexOf('\n')
  return `The body is not valid JSON at line ${line}, column ${column}: ${found.reason}.`
}

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason)
  }
}

/** The first syntax error in `text` (offset in UTF-16 units and reason), or `null` if it is JSON. */
export function locateJsonError(text: string): { offset: number; reason: string } | null {
  let i = 0
  const fail = (reason: string): never => {
    throw new JsonSyntaxError(i, reason)
  }
  const found = () => (i >= text.length ? 'the end of the body' : JSON.stringify(text[i]))
  const skipWhitespace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++
  }
  const literal = (word: string) => {
    if (!text.startsWith(word, i)) fail(`expected a value but found ${found()}`)
    i += word.length
  }
  const string = () => {
    i++ // the opening quote
    for (;;) {
      if (i >= text.length) fail('the string is not terminated')
      const ch = text[i] as string
      if (ch === '"') {
        i++
        return
      }
      if (ch === '\\') {
        const escaped = text[i + 1] ?? ''
        if (escaped !== '' && '"\\/bfnrt'.includes(escaped)) i += 2
        else if (escaped === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6
        else fail('invalid escape sequence in a string')
      } else if (ch.charCodeAt(0) < 0x20) {
        fail('control characters must be escaped in a string')
      } else {
        i++
      }
    }
  }
  const number = () => {
    const re = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
    re.lastIndex = i
    const match = re.exec(text)
    if (!match) fail('invalid number')
    i += (match as RegExpExecArray)[0].length
  }
  const value = () => {
    skipWhitespace()
    const ch = text[i]
    if (ch === '{') object()
    else if (ch === '[') array()
    else if (ch === '"') string()
    else if (ch === 't') literal('true')
    else if (ch === 'f') literal('false')
    else if (ch === 'n') literal('null')
    else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) number()
    else fail(`expected a value but found ${found()}`)
  }
  const object = () => {
    i++
    skipWhitespace()
    if (text[i] === '}') {
      i++
      return
    }
    for (;;) {
      skipWhitespace()
      if (text[i] !== '"') fail(`expected a property name in double quotes but found ${found()}`)
      string()
      skipWhitespace()
      if (text[i] !== ':') fail(`expected ":" but found ${found()}`)
      i++
      value()
      skipWhitespace()
      if (text[i] === '}') {
        i++
        return
      }
      if (text[i] !== ',') fail(`expected "," or "}" but found ${found()}`)
      i++
    }
  }
  const array = () => {
    i++
    skipWhitespace()
    if (text[i] === ']') {
      i++
      return
    }
    for (;;) {
      value()
      skipWhitespace()
      if (text[i] === ']') {
        i++
        return
      }
      if (text[i] !== ',') fail(`expected "," or "]" but found ${found()}`)
      i++
    }
  }
  try {
    value()
    skipWhitespace()
    if (i < text.length) fail(`expected the end of the body but found ${found()}`)
    return null
  } catch (err) {
    if (err instanceof JsonSyntaxError) return { offset: err.offset, reason: err.reason }
    return null // e.g. nesting too deep for this scanner's recursion
  }
}
