import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { expect } from 'vitest'
import { parse } from 'yaml'
import { read } from './app.ts'

/*
 * Checks real responses against openapi.yaml: the operation and status must be documented, the
 * body must validate against the documented schema (OpenAPI 3.1 schemas are JSON Schema 2020-12),
 * the content type must be a documented one, and every documented header must be present when
 * required and match its schema when present. Webhook requests the gateway sends are checked the
 * same way against the document's `webhooks`: their body against the request body's schema, their
 * headers against the header parameters.
 */

interface Ref {
  $ref?: string
}
interface HeaderObject extends Ref {
  required?: boolean
  schema?: { type?: string | string[] } & Record<string, unknown>
}
interface ResponseObject extends Ref {
  headers?: Record<string, HeaderObject>
  content?: Record<string, unknown>
}
interface ParameterObject extends Ref {
  name?: string
  in?: string
  required?: boolean
  schema?: HeaderObject['schema']
}
interface RequestBodyObject extends Ref {
  required?: boolean
  content?: Record<string, unknown>
}
interface OperationObject {
  parameters?: ParameterObject[]
  requestBody?: RequestBodyObject
  responses?: Record<string, ResponseObject>
}
type PathItemObject = Record<string, OperationObject> & { parameters?: ParameterObject[] }
export interface OpenApiSpec {
  openapi: string
  paths: Record<string, PathItemObject>
  webhooks?: Record<string, PathItemObject>
  components: Record<string, Record<string, unknown>>
}

export const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options', 'trace']

export const spec = parse(read('openapi.yaml')) as OpenApiSpec

const SPEC_ID = 'https://partner-gateway.invalid/openapi.yaml'

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true })
addFormats(ajv)
// OpenAPI's own keywords and formats, which are annotations as far as validation goes — and the
// document's top-level fields, since ajv compiles the root when it resolves a ref into it.
for (const keyword of [
  'discriminator',
  'openapi',
  'info',
  'servers',
  'tags',
  'paths',
  'webhooks',
  'components',
  'security',
]) {
  ajv.addKeyword(keyword)
}
ajv.addFormat('password', true)
// The whole document is one schema resource, so `#/components/...` refs resolve inside it.
ajv.addSchema({ ...spec, $id: SPEC_ID })

const validators = new Map<string, ValidateFunction>()

/** An ajv validator for the schema at `pointer` (`#/components/schemas/Sleep`) in openapi.yaml. */
export function validatorFor(pointer: string): ValidateFunction {
  let validate = validators.get(pointer)
  if (!validate) {
    validate = ajv.compile({ $ref: `${SPEC_ID}${pointer}` })
    validators.set(pointer, validate)
  }
  return validate
}

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1')
}

/** Follows `$ref`s, returning the node and its JSON pointer (`#/…`). */
function resolve<T extends Ref>(node: T, pointer: string): { node: T; pointer: string } {
  let current = node
  let at = pointer
  while (current.$ref !== undefined) {
    at = current.$ref
    let target: unknown = spec
    for (const part of at.slice(2).split('/')) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~')
      target = (target as Record<string, unknown>)[key]
      if (target === undefined) throw new Error(`unresolvable $ref ${at}`)
    }
    current = target as T
  }
  return { node: current, pointer: at }
}

/** The documented path template that a concrete path matches; literal segments win over `{…}`. */
export function matchPathTemplate(path: string): string | undefined {
  if (spec.paths[path]) return path
  const segments = path.split('/')
  const candidates = Object.keys(spec.paths).filter((template) => {
    const parts = template.split('/')
    return (
      parts.length === segments.length &&
      parts.every((part, i) => /^\{[^}]+\}$/.test(part) || part === segments[i])
    )
  })
  const literalCount = (template: string) =>
    template.split('/').filter((p) => !p.startsWith('{')).length
  return candidates.sort((a, b) => literalCount(b) - literalCount(a))[0]
}

function isJson(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json')
}

function headerValue(schema: HeaderObject['schema'], raw: string): unknown {
  const types = [schema?.type].flat()
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(raw)) {
    return Number(raw)
  }
  return raw
}

function ajvErrors(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('; ')
}

export interface MatchOptions {
  /**
   * Required headers this response is known to lack: a defect in the code that has been reported,
   * not a licence. Each must really be missing — the check fails once one is sent, so the
   * exception is removed as soon as the code is fixed.
   */
  knownMissingHeaders?: readonly string[]
}

/** Checks a response against a documented response object; returns every mismatch. */
async function mismatches(
  documented: ResponseObject,
  pointer: string,
  response: Response,
  options: MatchOptions = {},
): Promise<{ problems: string[]; body: unknown }> {
  const { node: doc, pointer: at } = resolve(documented, pointer)
  const problems: string[] = []
  const knownMissing = new Set((options.knownMissingHeaders ?? []).map((h) => h.toLowerCase()))
  const documentedHeaders = new Set(Object.keys(doc.headers ?? {}).map((h) => h.toLowerCase()))
  for (const name of knownMissing) {
    if (!documentedHeaders.has(name)) problems.push(`header ${name} is not documented here at all`)
    else if (response.headers.has(name)) {
      problems.push(`header ${name} is sent now: remove it from knownMissingHeaders`)
    }
  }

  for (const [name, rawHeader] of Object.entries(doc.headers ?? {})) {
    const { node: header, pointer: headerAt } = resolve(
      rawHeader,
      `${at}/headers/${escapePointer(name)}`,
    )
    const value = response.headers.get(name)
    if (value === null) {
      if (header.required && !knownMissing.has(name.toLowerCase())) {
        problems.push(`header ${name} is documented as required but missing`)
      }
      continue
    }
    if (header.schema) {
      const validate = validatorFor(`${headerAt}/schema`)
      if (!validate(headerValue(header.schema, value))) {
        problems.push(
          `header ${name}: ${JSON.stringify(value)} does not match: ${ajvErrors(validate)}`,
        )
      }
    }
  }

  const text = await response.clone().text()
  const content = doc.content ?? {}
  const mediaTypes = Object.keys(content)
  if (mediaTypes.length === 0) {
    if (text !== '')
      problems.push(
        `documented without a body, but the body is ${JSON.stringify(text.slice(0, 200))}`,
      )
    return { problems, body: text }
  }
  const mediaType =
    (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (!mediaTypes.includes(mediaType)) {
    problems.push(
      `content type ${JSON.stringify(mediaType)} is not one of the documented ${mediaTypes.join(', ')}`,
    )
    return { problems, body: text }
  }
  if (!isJson(mediaType)) return { problems, body: text }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    problems.push(`the ${mediaType} body is not JSON: ${JSON.stringify(text.slice(0, 200))}`)
    return { problems, body: text }
  }
  const validate = validatorFor(`${at}/content/${escapePointer(mediaType)}/schema`)
  if (!validate(body)) problems.push(`body does not match the schema: ${ajvErrors(validate)}`)
  return { problems, body }
}

/**
 * Asserts that `response` — the answer to `method path` (a concrete path such as
 * `/admin/v1/clients/abc`, or a template) — is what openapi.yaml documents for its status.
 * Returns the parsed JSON body (or the text) so the test can go on asserting; the response's own
 * body is left unread.
 */
export async function expectResponseMatchesSpec(
  method: string,
  path: string,
  response: Response,
  options: MatchOptions = {},
): Promise<unknown> {
  const template = matchPathTemplate(path)
  const label = `${method.toUpperCase()} ${path} → ${response.status}`
  expect(template, `${label}: the path is not documented`).toBeDefined()
  const pathKey = template as string
  const operation = spec.paths[pathKey]?.[method.toLowerCase()]
  expect(operation, `${label}: the method is not documented for ${pathKey}`).toBeDefined()
  const responses = (operation as OperationObject).responses ?? {}
  const status = String(response.status)
  const key = [status, `${status[0]}XX`, 'default'].find((k) => responses[k] !== undefined)
  expect(
    key,
    `${label}: the status is not documented (documented: ${Object.keys(responses).join(', ')})`,
  ).toBeDefined()
  const pointer = `#/paths/${escapePointer(pathKey)}/${method.toLowerCase()}/responses/${key}`
  const { problems, body } = await mismatches(
    responses[key as string] as ResponseObject,
    pointer,
    response,
    options,
  )
  expect(problems, `${label}:\n  ${problems.join('\n  ')}\n`).toStrictEqual([])
  return body
}

/**
 * The same check against a reusable response under `components/responses` — for answers that no
 * single operation owns, such as the 404 for a path that does not exist.
 */
export async function expectResponseMatchesComponent(
  name: string,
  response: Response,
): Promise<unknown> {
  const documented = spec.components.responses?.[name] as ResponseObject | undefined
  expect(documented, `components/responses/${name} is not documented`).toBeDefined()
  const { problems, body } = await mismatches(
    documented as ResponseObject,
    `#/components/responses/${escapePointer(name)}`,
    response,
  )
  expect(
    problems,
    `${response.status} against components/responses/${name}:\n  ${problems.join('\n  ')}\n`,
  ).toStrictEqual([])
  return body
}

/** A request the gateway sent, as a receiver saw it. */
export interface SentRequest {
  /** `POST` unless said otherwise. */
  method?: string
  /** Header names in any case. */
  headers: Record<string, string>
  /** The raw body. */
  body: string
}

/**
 * Asserts that `request` is what openapi.yaml documents for the webhook `name` (a key of
 * `webhooks`, e.g. `sleep`): every required header parameter present, every header parameter
 * sent matching its schema, a documented content type, and a body valid against the request
 * body's schema. Returns the parsed body.
 */
export function expectWebhookMatchesSpec(name: string, request: SentRequest): unknown {
  const method = (request.method ?? 'POST').toLowerCase()
  const label = `webhook ${name} (${method.toUpperCase()})`
  const item = spec.webhooks?.[name]
  expect(item, `${label}: not documented under webhooks`).toBeDefined()
  const operation = item?.[method]
  expect(operation, `${label}: the method is not documented`).toBeDefined()
  const at = `#/webhooks/${escapePointer(name)}`
  const headers = new Map(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]))
  const problems: string[] = []

  const parameters = [
    ...(item?.parameters ?? []).map((p, i) => ({ p, pointer: `${at}/parameters/${i}` })),
    ...((operation as OperationObject).parameters ?? []).map((p, i) => ({
      p,
      pointer: `${at}/${method}/parameters/${i}`,
    })),
  ]
  for (const { p, pointer } of parameters) {
    const { node: parameter, pointer: parameterAt } = resolve(p, pointer)
    if (parameter.in !== 'header' || parameter.name === undefined) continue
    const value = headers.get(parameter.name.toLowerCase())
    if (value === undefined) {
      if (parameter.required) problems.push(`header ${parameter.name} is required but missing`)
      continue
    }
    if (parameter.schema) {
      const validate = validatorFor(`${parameterAt}/schema`)
      if (!validate(headerValue(parameter.schema, value))) {
        problems.push(
          `header ${parameter.name}: ${JSON.stringify(value)} does not match: ${ajvErrors(validate)}`,
        )
      }
    }
  }

  let body: unknown = request.body
  const documentedBody = (operation as OperationObject).requestBody
  if (documentedBody === undefined) {
    if (request.body !== '') problems.push('documented without a body, but one was sent')
  } else {
    const { node: requestBody, pointer: bodyAt } = resolve(
      documentedBody,
      `${at}/${method}/requestBody`,
    )
    const mediaTypes = Object.keys(requestBody.content ?? {})
    const mediaType = (headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
    if (!mediaTypes.includes(mediaType)) {
      problems.push(
        `content type ${JSON.stringify(mediaType)} is not one of the documented ${mediaTypes.join(', ')}`,
      )
    } else if (isJson(mediaType)) {
      try {
        body = JSON.parse(request.body)
        const validate = validatorFor(`${bodyAt}/content/${escapePointer(mediaType)}/schema`)
        if (!validate(body)) problems.push(`body does not match the schema: ${ajvErrors(validate)}`)
      } catch {
        problems.push(`the body is not JSON: ${JSON.stringify(request.body.slice(0, 200))}`)
      }
    }
  }
  expect(problems, `${label}:\n  ${problems.join('\n  ')}\n`).toStrictEqual([])
  return body
}

/** Every documented operation as `METHOD /path/{param}`. */
export function documentedOperations(): string[] {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`),
  )
}
