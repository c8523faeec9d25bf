/*
 * The subset of an OpenAPI 3.1 document that the reference page renders, and the flattening of it
 * into rows and tables: $refs resolved, allOf merged, oneOf shown as variants.
 */

export interface SchemaObject {
  $ref?: string
  type?: string | string[]
  title?: string
  description?: string
  properties?: Record<string, SchemaObject>
  required?: string[]
  items?: SchemaObject
  allOf?: SchemaObject[]
  oneOf?: SchemaObject[]
  anyOf?: SchemaObject[]
  enum?: unknown[]
  const?: unknown
  format?: string
  pattern?: string
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  minProperties?: number
  default?: unknown
  examples?: unknown[]
  additionalProperties?: boolean | SchemaObject
}

interface Ref {
  $ref?: string
}

interface ExampleObject extends Ref {
  summary?: string
  value?: unknown
}

interface MediaTypeObject {
  schema?: SchemaObject
  example?: unknown
  examples?: Record<string, ExampleObject>
}

interface ParameterObject extends Ref {
  name?: string
  in?: string
  required?: boolean
  description?: string
  schema?: SchemaObject
  example?: unknown
}

interface HeaderObject extends Ref {
  description?: string
  required?: boolean
  schema?: SchemaObject
}

interface ResponseObject extends Ref {
  description?: string
  headers?: Record<string, HeaderObject>
  content?: Record<string, MediaTypeObject>
}

interface RequestBodyObject extends Ref {
  description?: string
  required?: boolean
  content?: Record<string, MediaTypeObject>
}

type SecurityRequirement = Record<string, string[]>

interface OperationObject {
  tags?: string[]
  operationId?: string
  summary?: string
  description?: string
  deprecated?: boolean
  parameters?: ParameterObject[]
  requestBody?: RequestBodyObject
  responses?: Record<string, ResponseObject>
  security?: SecurityRequirement[]
}

type PathItemObject = { parameters?: ParameterObject[] } & Partial<
  Record<(typeof METHODS)[number], OperationObject>
>

interface SecuritySchemeObject {
  type?: string
  scheme?: string
  description?: string
  flows?: Record<
    string,
    { authorizationUrl?: string; tokenUrl?: string; scopes?: Record<string, string> }
  >
}

export interface OpenApiDocument {
  openapi: string
  info: { title: string; version: string; summary?: string; description?: string }
  servers?: { url: string; description?: string }[]
  tags?: { name: string; description?: string }[]
  paths: Record<string, PathItemObject>
  /** What the gateway sends (OpenAPI 3.1 `webhooks`), shown as operations too. */
  webhooks?: Record<string, PathItemObject>
  components?: { securitySchemes?: Record<string, SecuritySchemeObject> }
  security?: SecurityRequirement[]
}

export const METHODS = [
  'get',
  'put',
  'post',
  'patch',
  'delete',
  'head',
  'options',
  'trace',
] as const

/** Throws unless the value looks like an OpenAPI 3.1 document. */
export function asOpenApiDocument(value: unknown): OpenApiDocument {
  const doc = value as Partial<OpenApiDocument> | null
  if (
    typeof doc !== 'object' ||
    doc === null ||
    typeof doc.openapi !== 'string' ||
    !doc.openapi.startsWith('3.1') ||
    typeof doc.info?.title !== 'string' ||
    typeof doc.paths !== 'object'
  ) {
    throw new Error('openapi.yaml is not an OpenAPI 3.1 document')
  }
  return doc as OpenApiDocument
}

// ---------------------------------------------------------------------------------------------
// The page model

export interface FieldRow {
  /** The path of the enclosing field with its separator, e.g. `errors[].`; empty at the top level. */
  parent: string
  name: string
  depth: number
  type: string
  required: boolean
  description: string | undefined
  notes: string[]
}

export interface SchemaView {
  type: string
  description: string | undefined
  notes: string[]
  fields: FieldRow[]
  /** For `oneOf`/`anyOf`: each alternative, with its own fields. */
  variants: { title: string; view: SchemaView }[]
}

export interface ExampleView {
  name: string
  summary: string | undefined
  text: string
}

export interface ContentView {
  mediaType: string
  schema: SchemaView | undefined
  examples: ExampleView[]
}

export interface ParameterView {
  name: string
  in: string
  required: boolean
  type: string
  notes: string[]
  description: string | undefined
  example: string | undefined
}

export interface HeaderView {
  name: string
  required: boolean
  type: string
  notes: string[]
  description: string | undefined
}

export interface ResponseView {
  status: string
  description: string
  headers: HeaderView[]
  contents: ContentView[]
}

export interface OperationView {
  anchor: string
  method: string
  path: string
  summary: string
  description: string | undefined
  deprecated: boolean
  /** Alternatives; each is a list of scheme names that must all be satisfied. Empty: public. */
  security: string[][]
  parameters: ParameterView[]
  requestBody:
    | { required: boolean; description: string | undefined; contents: ContentView[] }
    | undefined
  responses: ResponseView[]
}

export interface TagView {
  name: string
  anchor: string
  description: string | undefined
  operations: OperationView[]
}

export interface SecuritySchemeView {
  name: string
  anchor: string
  kind: string
  description: string | undefined
  scopes: { name: string; description: string }[]
  urls: { label: string; url: string }[]
}

export interface DocsModel {
  title: string
  version: string
  summary: string | undefined
  description: string | undefined
  servers: { url: string; description: string | undefined }[]
  securitySchemes: SecuritySchemeView[]
  tags: TagView[]
  paths: string[]
}

/** How a webhook is shown where an operation shows its path. */
export function webhookLabel(name: string): string {
  return `{webhook_url} · ${name} event`
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
}

/** Builds everything the page shows from the document, in document order. */
export function buildDocsModel(doc: OpenApiDocument): DocsModel {
  const resolver = new Resolver(doc)
  const tagOrder = (doc.tags ?? []).map((t) => t.name)
  const tags = new Map<string, TagView>()
  const tagFor = (name: string) => {
    let tag = tags.get(name)
    if (!tag) {
      tag = {
        name,
        anchor: `tag/${slug(name)}`,
        description: doc.tags?.find((t) => t.name === name)?.description,
        operations: [],
      }
      tags.set(name, tag)
    }
    return tag
  }
  for (const name of tagOrder) tagFor(name)

  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method]
      if (!op) continue
      const view = operationView(resolver, doc, path, method, op, item.parameters ?? [])
      tagFor(op.tags?.[0] ?? 'Other').operations.push(view)
    }
  }
  for (const [name, item] of Object.entries(doc.webhooks ?? {})) {
    for (const method of METHODS) {
      const op = item[method]
      if (!op) continue
      // Sent by the gateway to the client's webhook_url: the "path" names the event instead.
      const view = operationView(
        resolver,
        doc,
        webhookLabel(name),
        method,
        op,
        item.parameters ?? [],
      )
      tagFor(op.tags?.[0] ?? 'Webhooks').operations.push(view)
    }
  }

  const schemes = doc.components?.securitySchemes ?? {}
  return {
    title: doc.info.title,
    version: doc.info.version,
    summary: doc.info.summary,
    description: doc.info.description,
    servers: (doc.servers ?? []).map((s) => ({ url: s.url, description: s.description })),
    securitySchemes: Object.entries(schemes).map(([name, scheme]) =>
      securitySchemeView(name, scheme),
    ),
    tags: [...tags.values()].filter((t) => t.operations.length > 0),
    paths: Object.keys(doc.paths),
  }
}

function securitySchemeView(name: string, scheme: SecuritySchemeObject): SecuritySchemeView {
  let kind: string = scheme.type ?? 'unknown'
  if (scheme.type === 'http') kind = `HTTP ${scheme.scheme === 'basic' ? 'Basic' : 'Bearer'}`
  if (scheme.type === 'oauth2') kind = `OAuth 2.0 (${Object.keys(scheme.flows ?? {}).join(', ')})`
  const scopes: SecuritySchemeView['scopes'] = []
  const urls: SecuritySchemeView['urls'] = []
  for (const flow of Object.values(scheme.flows ?? {})) {
    if (flow.authorizationUrl) urls.push({ label: 'Authorization URL', url: flow.authorizationUrl })
    if (flow.tokenUrl) urls.push({ label: 'Token URL', url: flow.tokenUrl })
    for (const [scope, description] of Object.entries(flow.scopes ?? {})) {
      scopes.push({ name: scope, description })
    }
  }
  return { name, anchor: `auth/${name}`, kind, description: scheme.description, scopes, urls }
}

function operationView(
  resolver: Resolver,
  doc: OpenApiDocument,
  path: string,
  method: string,
  op: OperationObject,
  shared: ParameterObject[],
): OperationView {
  const parameters = new Map<string, ParameterView>()
  for (const raw of [...shared, ...(op.parameters ?? [])]) {
    const p = resolver.resolve(raw)
    if (!p.name || !p.in) continue
    const schema = p.schema ? resolver.resolve(p.schema) : undefined
    parameters.set(`${p.in}:${p.name}`, {
      name: p.name,
      in: p.in,
      required: p.required ?? false,
      type: schema ? typeLabel(resolver, p.schema as SchemaObject) : 'any',
      notes: schema ? schemaNotes(schema) : [],
      description: p.description,
      example: p.example === undefined ? undefined : String(p.example),
    })
  }
  const body = op.requestBody ? resolver.resolve(op.requestBody) : undefined
  return {
    anchor: `operation/${op.operationId ?? slug(`${method} ${path}`)}`,
    method: method.toUpperCase(),
    path,
    summary: op.summary ?? `${method.toUpperCase()} ${path}`,
    description: op.description,
    deprecated: op.deprecated ?? false,
    security: (op.security ?? doc.security ?? []).map((req) => Object.keys(req)),
    parameters: [...parameters.values()],
    requestBody: body
      ? {
          required: body.required ?? false,
          description: body.description,
          contents: contentViews(resolver, body.content),
        }
      : undefined,
    responses: Object.entries(op.responses ?? {}).map(([status, raw]) => {
      const response = resolver.resolve(raw)
      return {
        status,
        description: response.description ?? '',
        headers: Object.entries(response.headers ?? {}).map(([name, rawHeader]) => {
          const header = resolver.resolve(rawHeader)
          const schema = header.schema ? resolver.resolve(header.schema) : undefined
          return {
            name,
            required: header.required ?? false,
            type: header.schema ? typeLabel(resolver, header.schema) : 'string',
            notes: schema ? schemaNotes(schema) : [],
            description: header.description ?? schema?.description,
          }
        }),
        contents: contentViews(resolver, response.content),
      }
    }),
  }
}

function contentViews(
  resolver: Resolver,
  content: Record<string, MediaTypeObject> | undefined,
): ContentView[] {
  return Object.entries(content ?? {}).map(([mediaType, media]) => {
    const examples: ExampleView[] = []
    if (media.example !== undefined) {
      examples.push({
        name: 'example',
        summary: undefined,
        text: exampleText(mediaType, media.example),
      })
    }
    for (const [name, raw] of Object.entries(media.examples ?? {})) {
      const example = resolver.resolve(raw)
      if (example.value === undefined) continue
      examples.push({ name, summary: example.summary, text: exampleText(mediaType, example.value) })
    }
    return {
      mediaType,
      schema: media.schema ? schemaView(resolver, media.schema) : undefined,
      examples,
    }
  })
}

function exampleText(mediaType: string, value: unknown): string {
  if (
    mediaType === 'application/x-www-form-urlencoded' &&
    typeof value === 'object' &&
    value !== null
  ) {
    const form = new URLSearchParams()
    for (const [k, v] of Object.entries(value)) {
      for (const item of Array.isArray(v) ? v : [v]) form.append(k, String(item))
    }
    return form.toString().split('&').join('\n&')
  }
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2)
}

/** The view of a body or response schema: its fields, or its alternatives. */
export function schemaView(
  resolver: Resolver,
  raw: SchemaObject,
  seen: ReadonlySet<string> = new Set(),
): SchemaView {
  const schema = resolver.flatten(raw)
  const alternatives = schema.oneOf ?? schema.anyOf
  const view: SchemaView = {
    type: typeLabel(resolver, raw),
    description: schema.description ?? resolver.resolve(raw).description,
    notes: notesWithItems(resolver, schema),
    fields: [],
    variants: [],
  }
  // `anyOf: [X, {type: null}]` is "X or null": show X's fields rather than two variants.
  const only = nullableInner(resolver, schema)
  if (only) {
    const inner = schemaView(resolver, only, seen)
    return { ...inner, type: view.type, notes: [...view.notes, ...inner.notes, 'may be null'] }
  }
  if (alternatives) {
    view.variants = alternatives.map((alt, i) => ({
      title: resolver.resolve(alt).title ?? refName(alt.$ref) ?? `option ${i + 1}`,
      view: schemaView(resolver, alt, seen),
    }))
    return view
  }
  view.fields = fieldRows(resolver, schema, '', 0, seenWith(seen, raw.$ref))
  return view
}

const MAX_DEPTH = 4

function fieldRows(
  resolver: Resolver,
  schema: SchemaObject,
  prefix: string,
  depth: number,
  seen: ReadonlySet<string>,
): FieldRow[] {
  if (depth > MAX_DEPTH) return []
  const inner = nullableInner(resolver, schema)
  if (inner) {
    if (inner.$ref && seen.has(inner.$ref)) return []
    return fieldRows(resolver, resolver.flatten(inner), prefix, depth, seenWith(seen, inner.$ref))
  }
  if (schema.properties) {
    const parent = prefix === '' ? '' : `${prefix}.`
    const required = new Set(schema.required ?? [])
    const rows: FieldRow[] = []
    for (const [name, raw] of Object.entries(schema.properties)) {
      const resolved = resolver.flatten(raw)
      rows.push({
        parent,
        name,
        depth,
        type: typeLabel(resolver, raw),
        required: required.has(name),
        description: resolver.describe(raw),
        notes: notesWithItems(resolver, resolved),
      })
      if (raw.$ref && seen.has(raw.$ref)) continue
      rows.push(
        ...fieldRows(resolver, resolved, `${parent}${name}`, depth + 1, seenWith(seen, raw.$ref)),
      )
    }
    return rows
  }
  if (schema.items) {
    const items = resolver.flatten(schema.items)
    if (items.properties) {
      return fieldRows(resolver, items, `${prefix}[]`, depth, seenWith(seen, schema.items.$ref))
    }
  }
  return []
}

/** X, when the schema is `anyOf`/`oneOf` of exactly X and null. */
function nullableInner(resolver: Resolver, schema: SchemaObject): SchemaObject | undefined {
  const alternatives = schema.oneOf ?? schema.anyOf
  if (alternatives?.length !== 2) return undefined
  const others = alternatives.filter((alt) => resolver.resolve(alt).type !== 'null')
  return others.length === 1 ? others[0] : undefined
}

function seenWith(seen: ReadonlySet<string>, ref: string | undefined): ReadonlySet<string> {
  return ref ? new Set([...seen, ref]) : seen
}

function refName(ref: string | undefined): string | undefined {
  return ref?.split('/').pop()
}

/** A short type: `string`, `integer`, `Client`, `Scope[]`, `string | null`. */
export function typeLabel(resolver: Resolver, raw: SchemaObject): string {
  const name = refName(raw.$ref)
  const schema = resolver.flatten(raw)
  if (name && (schema.properties || schema.oneOf || schema.anyOf)) return name
  const alternatives = schema.oneOf ?? schema.anyOf
  if (alternatives) return alternatives.map((alt) => typeLabel(resolver, alt)).join(' | ')
  if (schema.items) return `${typeLabel(resolver, schema.items)}[]`
  if (Array.isArray(schema.type)) return schema.type.join(' | ')
  if (schema.type) return schema.type
  if (schema.properties) return 'object'
  if (schema.const !== undefined) return typeof schema.const
  return name ?? 'any'
}

/** {@link schemaNotes}, plus those of an array's items (`each one of …`). */
function notesWithItems(resolver: Resolver, schema: SchemaObject): string[] {
  const notes = schemaNotes(schema)
  if (!schema.items) return notes
  const items = resolver.flatten(schema.items)
  if (items.properties) return notes
  return [...notes, ...schemaNotes(items).map((note) => `each ${note}`)]
}

/** Constraints worth telling a reader: enum values, formats, ranges, defaults. */
export function schemaNotes(schema: SchemaObject): string[] {
  const notes: string[] = []
  const show = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``
  if (schema.const !== undefined) notes.push(`always ${show(schema.const)}`)
  if (schema.enum) notes.push(`one of ${schema.enum.map(show).join(', ')}`)
  if (schema.format) notes.push(`format: ${schema.format}`)
  if (schema.pattern) notes.push(`pattern: \`${schema.pattern}\``)
  if (schema.minimum !== undefined && schema.maximum !== undefined) {
    notes.push(`${schema.minimum}–${schema.maximum}`)
  } else if (schema.minimum !== undefined) notes.push(`≥ ${schema.minimum}`)
  else if (schema.maximum !== undefined) notes.push(`≤ ${schema.maximum}`)
  if (schema.minLength !== undefined) notes.push(`at least ${schema.minLength} characters`)
  if (schema.maxLength !== undefined) notes.push(`at most ${schema.maxLength} characters`)
  if (schema.minItems !== undefined) notes.push(`at least ${schema.minItems} item(s)`)
  if (schema.maxItems !== undefined) notes.push(`at most ${schema.maxItems} items`)
  if (schema.minProperties !== undefined) notes.push(`at least ${schema.minProperties} field(s)`)
  if (schema.additionalProperties === false) notes.push('no other fields')
  if (schema.default !== undefined) notes.push(`default ${show(schema.default)}`)
  if (Array.isArray(schema.examples) && schema.examples.length > 0) {
    notes.push(`e.g. ${schema.examples.map(show).join(' or ')}`)
  }
  return notes
}

/** Follows local `$ref`s (`#/components/...`) in one document. */
export class Resolver {
  constructor(private readonly doc: OpenApiDocument) {}

  resolve<T extends Ref>(node: T): T {
    let current: T = node
    for (let hops = 0; current.$ref !== undefined; hops++) {
      if (hops > 20) throw new Error(`$ref cycle at ${node.$ref}`)
      current = this.pointer(current.$ref) as T
    }
    return current
  }

  /** Resolves `$ref`s and merges `allOf` parts into one object schema. */
  flatten(raw: SchemaObject): SchemaObject {
    const schema = this.resolve(raw)
    if (!schema.allOf) return schema
    const merged: SchemaObject = { ...schema, properties: {}, required: [] }
    delete merged.allOf
    for (const part of schema.allOf) {
      const flat = this.flatten(part)
      merged.properties = { ...merged.properties, ...flat.properties }
      merged.required = [...(merged.required ?? []), ...(flat.required ?? [])]
      if (!merged.type && flat.type) merged.type = flat.type
      if (merged.description === undefined && flat.description !== undefined) {
        merged.description = flat.description
      }
    }
    merged.properties = { ...merged.properties, ...schema.properties }
    merged.required = [...(merged.required ?? []), ...(schema.required ?? [])]
    return merged
  }

  /** A property's own description, else its target's. */
  describe(raw: SchemaObject): string | undefined {
    return raw.description ?? this.flatten(raw).description
  }

  private pointer(ref: string): unknown {
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`)
    let node: unknown = this.doc
    for (const part of ref.slice(2).split('/')) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~')
      if (typeof node !== 'object' || node === null || !(key in node)) {
        throw new Error(`unresolvable $ref ${ref}`)
      }
      node = (node as Record<string, unknown>)[key]
    }
    return node
  }
}
