/**
 * Generates the record schemas of openapi.yaml — Terra's `Sleep`, `Activity` and `Daily` and every
 * part they reference — from the zod models in `src/data/models`, so the document can never drift
 * from what ingest validates and the data API returns.
 *
 * `npm run openapi:models` rewrites the section of openapi.yaml between the `# BEGIN GENERATED
 * MODELS` and `# END GENERATED MODELS` comment lines (inside `components/schemas`) and leaves every
 * other byte of the file alone; `npm run openapi:models -- --check` only reports whether the section
 * is current. `test/openapi/models.test.ts` regenerates it in memory and fails when it is stale.
 *
 * How the zod models become JSON Schema (draft 2020-12, which OpenAPI 3.1 takes as is):
 * - every exported model schema becomes a named component (its export name; `SleepRecord`,
 *   `ActivityRecord` and `DailyRecord` are called `Sleep`, `Activity` and `Daily` as in Terra's
 *   schemas); the number helpers (`NonNegative`, `Percentage`, `Count`) are inlined;
 * - `.nullish()` is `anyOf: [X, {type: null}]` and not required, as in Terra's own schemas;
 * - integer enums (`z.literal([0, 1, …])`) are `type: integer` with their values, and the component
 *   says what each value means, from the named-value tables (`SLEEP_UPLOAD_TYPE`, …);
 * - descriptions are the models' own doc comments (of each export, and of object fields);
 * - checks zod runs in code (refinements) are invisible to JSON Schema: the few that matter are
 *   added below by hand ({@link REFINEMENTS}).
 *
 * Only reads files; importing it has no side effects. Not part of the app bundle.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Document, isScalar, isSeq, Scalar, visit } from 'yaml'
import { z } from 'zod'
import * as models from '../data/models/index.ts'

type JsonSchema = { [key: string]: unknown }

export const BEGIN_MARKER = '# BEGIN GENERATED MODELS'
export const END_MARKER = '# END GENERATED MODELS'

const HEADER = [
  `${BEGIN_MARKER}: Terra's Sleep, Activity and Daily and their parts, generated from`,
  '# the zod models in src/data/models by `npm run openapi:models` (src/docs/generate-models.ts).',
  '# Do not edit by hand: change the models and run it again (test/openapi/models.test.ts checks).',
]

const MODELS_DIR = new URL('../data/models/', import.meta.url)
const OPENAPI_PATH = new URL('../../openapi.yaml', import.meta.url)

/** The records themselves, named as in Terra's schemas; they open the section, in this order. */
const ROOTS: Record<string, string> = {
  SleepRecord: 'Sleep',
  ActivityRecord: 'Activity',
  DailyRecord: 'Daily',
}

/** Exported helpers that are constraints on a number, not models of their own: inlined. */
const INLINED = new Set(['NonNegative', 'Percentage', 'Count'])

/**
 * Refinements zod checks in code, written as JSON Schema where that is possible, and described
 * where it is not. Keyed `Component.property`; merged into the generated property.
 */
const REFINEMENTS: Record<string, JsonSchema> = {
  'DailyMetadata.start_time': {
    type: 'string',
    description:
      "Local midnight of the day (time part `00:00:00`); its date part, as written, is the day's key.",
    pattern: 'T00:00:00(\\.0+)?(Z|[+-]\\d{2}:\\d{2})$',
  },
  'DailyMetadata.end_time': {
    description:
      'Normally the next local midnight (23 or 25 hours later on a daylight-saving day); not before `start_time`.',
  },
  'SleepMetadata.end_time': { description: 'Not before `start_time`.' },
  'ActivityMetadata.end_time': { description: 'Not before `start_time`.' },
}

/**
 * Every place where the models refine in code (`.refine`, `.superRefine`): `Component` for the
 * object, `Component.field` for a field. Each is expressed or described in {@link REFINEMENTS}
 * (the metadata objects' start-before-end check as their `end_time` descriptions). The generator
 * stops when the models' refinements and this list differ, so a new one cannot go unmentioned.
 */
const REFINED_IN_CODE = [
  'ActivityMetadata',
  'DailyMetadata',
  'DailyMetadata.start_time',
  'SleepMetadata',
]

/**
 * zod writes `z.iso.datetime({ offset: true })` as a 600-character regex that also checks the
 * calendar. `format: date-time` checks the calendar already (RFC 3339), so the pattern only has to
 * pin down the shape zod accepts: upper-case `T` and `Z`, an offset with a colon, always present.
 */
const TIMESTAMP_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$'

/** The doc comments of a source file: each export's, and each object field's under its export. */
interface SourceDocs {
  exports: Map<string, string>
  fields: Map<string, Map<string, string>>
}

const NO_END = '(?:(?!\\*/)[\\s\\S])*'
const EXPORT_DOC = new RegExp(`/\\*\\*(${NO_END})\\*/\\s*export const (\\w+)\\b`, 'g')
const EXPORT_START = /^export const (\w+)\b/gm
const FIELD_DOC = new RegExp(`/\\*\\*(${NO_END})\\*/\\s*(\\w+)\\??\\s*:`, 'g')

/**
 * A doc comment's text as Markdown: the `*` gutters removed, the line breaks kept (a single one is
 * a space in Markdown), `{@link X}` written as code.
 */
export function docText(comment: string): string {
  return comment
    .split('\n')
    .map((line) => line.replace(/^\s*\*?\s?/, '').trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\{@link\s+([^}\s]+)\s*\}/g, '`$1`')
    .trim()
}

function readSourceDocs(): SourceDocs {
  const docs: SourceDocs = { exports: new Map(), fields: new Map() }
  const files = readdirSync(MODELS_DIR)
    .filter((f) => f.endsWith('.ts'))
    .sort()
  for (const file of files) {
    const text = readFileSync(new URL(file, MODELS_DIR), 'utf8')
    for (const m of text.matchAll(EXPORT_DOC)) docs.exports.set(m[2] as string, docText(m[1] ?? ''))
    const starts = [...text.matchAll(EXPORT_START)]
    starts.forEach((start, i) => {
      const body = text.slice(start.index, starts[i + 1]?.index ?? text.length)
      const fields = new Map<string, string>()
      for (const m of body.matchAll(FIELD_DOC)) fields.set(m[2] as string, docText(m[1] ?? ''))
      if (fields.size > 0) docs.fields.set(start[1] as string, fields)
    })
  }
  return docs
}

/** `SLEEP_UPLOAD_TYPE` ⇒ `SleepUploadType`. */
function pascalCase(constant: string): string {
  return constant
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')
}

/** The named-value tables of the integer enums, by the name of the schema they back. */
function enumTables(): Map<string, { table: string; values: [string, number][] }> {
  const tables = new Map<string, { table: string; values: [string, number][] }>()
  for (const [name, value] of Object.entries(models)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name) || typeof value !== 'object' || value === null) continue
    const entries = Object.entries(value)
    if (entries.length === 0 || !entries.every(([, v]) => Number.isInteger(v))) continue
    tables.set(pascalCase(name), { table: name, values: entries as [string, number][] })
  }
  return tables
}

/** `items` joined with commas, broken into lines of at most `width` characters between items. */
function wrap(items: string[], prefix: string, width = 100): string {
  const lines: string[] = []
  let line = prefix
  items.forEach((item, i) => {
    const text = i < items.length - 1 ? `${item},` : item
    if (line.trim() !== prefix.trim() && line.length + 1 + text.length > width) {
      lines.push(line)
      line = text
    } else line = line === prefix ? `${prefix}${text}` : `${line} ${text}`
  })
  lines.push(line)
  return lines.join('\n')
}

function componentId(exportName: string): string {
  return ROOTS[exportName] ?? exportName
}

/** The zod models as JSON Schemas, one per component, before pruning and tidying. */
function rawComponents(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>()
  for (const [name, value] of Object.entries(models)) {
    if (value instanceof z.ZodType && !INLINED.has(name)) {
      registry.add(value, { id: componentId(name) })
    }
  }
  const result = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'output',
    unrepresentable: 'throw',
    uri: (id) => `#/components/schemas/${id}`,
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema === models.Timestamp) jsonSchema.pattern = TIMESTAMP_PATTERN
    },
  })
  return result.schemas as Record<string, JsonSchema>
}

type ZodInternals = {
  _zod: {
    def: { type: string; checks?: { _zod: { def: { check: string } } }[]; innerType?: unknown }
  }
}

function hasCustomCheck(schema: unknown): boolean {
  const checks = (schema as ZodInternals)._zod.def.checks ?? []
  return checks.some((check) => check._zod.def.check === 'custom')
}

/** The schema inside `.optional()`, `.nullable()` and `.nullish()`. */
function unwrap(schema: unknown): unknown {
  let current = schema as ZodInternals
  while (['optional', 'nullable'].includes(current._zod.def.type)) {
    current = current._zod.def.innerType as ZodInternals
  }
  return current
}

/** Where the exported models refine in code, as `Component` or `Component.field`. */
function refinementSites(): string[] {
  const sites: string[] = []
  // A field that is a model of its own has its refinements reported under that model's name.
  const named = new Set<unknown>(Object.values(models))
  for (const [name, value] of Object.entries(models)) {
    if (!(value instanceof z.ZodType) || INLINED.has(name)) continue
    const id = componentId(name)
    if (hasCustomCheck(value)) sites.push(id)
    if (value instanceof z.ZodObject) {
      for (const [field, fieldSchema] of Object.entries(value.shape)) {
        const inner = unwrap(fieldSchema)
        if (!named.has(inner) && hasCustomCheck(inner)) sites.push(`${id}.${field}`)
      }
    }
  }
  return sites.sort()
}

/** `roots`, then the component names they reference (transitively), in order of first reference. */
function reachable(components: Record<string, JsonSchema>, roots: string[]): string[] {
  const order: string[] = []
  const visitNode = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visitNode(item)
      return
    }
    if (typeof node !== 'object' || node === null) return
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') add(value.split('/').pop() as string)
      else visitNode(value)
    }
  }
  const add = (name: string): void => {
    if (order.includes(name)) return
    const schema = components[name]
    if (!schema) throw new Error(`generate-models: no component ${name}`)
    order.push(name)
    visitNode(schema)
  }
  // The records open the section; their parts follow in order of first reference.
  order.push(...roots)
  for (const root of roots) visitNode(components[root])
  return order
}

const KEY_ORDER = [
  '$ref',
  'title',
  'type',
  'description',
  'format',
  'pattern',
  'const',
  'enum',
  'minimum',
  'maximum',
  'minLength',
  'minItems',
  'maxItems',
  'required',
  'additionalProperties',
  'properties',
  'prefixItems',
  'items',
  'anyOf',
]

/** Tidies one generated schema node, recursively (see the module comment). */
function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy)
  if (typeof node !== 'object' || node === null) return node
  const source = { ...(node as JsonSchema) }
  delete source.$schema
  delete source.$id
  // `propertyNames: {type: string}` says nothing about JSON object keys.
  const names = source.propertyNames as JsonSchema | undefined
  if (names && Object.keys(names).length === 1 && names.type === 'string') {
    delete source.propertyNames
  }
  // zod bounds `.int()` to the safe integers; every JSON integer a client would send is one.
  if (
    source.type === 'integer' ||
    (Array.isArray(source.type) && source.type.includes('integer'))
  ) {
    if (source.minimum === Number.MIN_SAFE_INTEGER) delete source.minimum
    if (source.maximum === Number.MAX_SAFE_INTEGER) delete source.maximum
  }
  if (
    source.type === 'number' &&
    Array.isArray(source.enum) &&
    source.enum.every((v) => Number.isInteger(v))
  ) {
    source.type = 'integer'
  }
  const out: JsonSchema = {}
  const keys = Object.keys(source).sort((a, b) => rank(a) - rank(b))
  for (const key of keys) {
    const value = source[key]
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tidy(v)]))
    } else out[key] = tidy(value)
  }
  return out
}

function rank(key: string): number {
  const i = KEY_ORDER.indexOf(key)
  return i === -1 ? KEY_ORDER.length : i
}

/** `description` as the second key (after `$ref` or `type`), merging what `extra` adds. */
function withExtra(schema: JsonSchema, extra: JsonSchema): JsonSchema {
  const description = [schema.description, extra.description].filter(Boolean).join(' ')
  const merged: JsonSchema = { ...schema, ...extra }
  if (description) merged.description = description
  return tidy(merged) as JsonSchema
}

/**
 * The generated components — `Sleep`, `Activity`, `Daily` first, then their parts in order of
 * first reference — as plain JSON Schema objects with `#/components/schemas/…` references.
 */
export function generateModelComponents(): Record<string, JsonSchema> {
  const sites = refinementSites()
  if (JSON.stringify(sites) !== JSON.stringify([...REFINED_IN_CODE].sort())) {
    throw new Error(
      `generate-models: the models refine in code at ${sites.join(', ')}, but REFINED_IN_CODE lists ${REFINED_IN_CODE.join(', ')}. JSON Schema cannot see a refinement: express or describe it in REFINEMENTS and list it in REFINED_IN_CODE.`,
    )
  }
  const raw = rawComponents()
  const docs = readSourceDocs()
  const tables = enumTables()
  const exportOf = new Map(
    Object.keys(models)
      .filter((name) => raw[componentId(name)] !== undefined)
      .map((name) => [componentId(name), name]),
  )
  const out: Record<string, JsonSchema> = {}
  for (const id of reachable(raw, Object.values(ROOTS))) {
    const exportName = exportOf.get(id) ?? id
    const schema = tidy(raw[id]) as JsonSchema
    const enumTable = tables.get(id)
    let description = docs.exports.get(exportName)
    if (enumTable) {
      const values = enumTable.values.map(([name, value]) => `\`${value}\` ${name}`)
      const tableDoc = docs.exports.get(enumTable.table)
      description = `${tableDoc ? `${tableDoc}\n\n` : ''}${wrap(values, 'Values: ')}.`
      const documented = enumTable.values.map(([, v]) => v)
      if (JSON.stringify(schema.enum) !== JSON.stringify(documented)) {
        throw new Error(`generate-models: ${id} does not accept exactly ${enumTable.table}`)
      }
    }
    const properties = schema.properties as Record<string, JsonSchema> | undefined
    if (properties) {
      const fieldDocs = docs.fields.get(exportName)
      for (const [field, fieldSchema] of Object.entries(properties)) {
        const fieldDoc = fieldDocs?.get(field)
        const extra = { ...(fieldDoc ? { description: fieldDoc } : {}) }
        Object.assign(extra, REFINEMENTS[`${id}.${field}`] ?? {})
        if (Object.keys(extra).length > 0) properties[field] = withExtra(fieldSchema, extra)
      }
    }
    out[id] = tidy(description ? { ...schema, description } : schema) as JsonSchema
  }
  for (const key of Object.keys(REFINEMENTS)) {
    const [component, field] = key.split('.') as [string, string]
    const properties = out[component]?.properties as Record<string, unknown> | undefined
    if (!properties?.[field]) throw new Error(`generate-models: REFINEMENTS names unknown ${key}`)
  }
  return out
}

/** The generated section as it appears in openapi.yaml, indented under `components/schemas`. */
export function renderModelsSection(indent = '    '): string {
  const doc = new Document(generateModelComponents())
  visit(doc, {
    // Short lists of scalars (`required`, `enum`, `type: [number, 'null']`) on one line.
    Seq(_, node) {
      if (
        isSeq(node) &&
        node.items.every((item) => isScalar(item)) &&
        JSON.stringify(node.toJSON()).length <= 72
      ) {
        node.flow = true
      }
    },
    // Descriptions keep the doc comments' line breaks, as `|` blocks.
    Scalar(_, node) {
      if (typeof node.value === 'string' && node.value.includes('\n')) {
        node.type = Scalar.BLOCK_LITERAL
      }
    },
  })
  const body = doc.toString({
    indent: 2,
    lineWidth: 0,
    singleQuote: true,
    flowCollectionPadding: false,
  })
  const lines = [...HEADER, ...body.trimEnd().split('\n'), END_MARKER]
  return `${lines.map((line) => (line === '' ? '' : `${indent}${line}`)).join('\n')}\n`
}

/**
 * `openapi` with its generated section replaced by a fresh one; every byte outside the section is
 * kept. Throws when the markers are missing, repeated or out of order.
 */
export function updateModelsSection(openapi: string): string {
  const lines = openapi.split('\n')
  const begin = lines.flatMap((line, i) => (line.trimStart().startsWith(BEGIN_MARKER) ? [i] : []))
  const end = lines.flatMap((line, i) => (line.trim() === END_MARKER ? [i] : []))
  if (begin.length !== 1 || end.length !== 1 || (end[0] as number) < (begin[0] as number)) {
    throw new Error(
      `openapi.yaml needs exactly one "${BEGIN_MARKER}" line followed by one "${END_MARKER}" line, inside components/schemas`,
    )
  }
  const first = begin[0] as number
  const last = end[0] as number
  const indent = /^\s*/.exec(lines[first] as string)?.[0] ?? ''
  const before = lines.slice(0, first).join('\n')
  const after = lines.slice(last + 1).join('\n')
  return `${before}\n${renderModelsSection(indent)}${after}`
}

function main(args: string[]): number {
  const path = fileURLToPath(OPENAPI_PATH)
  const current = readFileSync(path, 'utf8')
  const next = updateModelsSection(current)
  if (next === current) {
    console.log('openapi.yaml: the generated models are up to date.')
    return 0
  }
  if (args.includes('--check')) {
    console.error('openapi.yaml: the generated models are out of date; run npm run openapi:models.')
    return 1
  }
  writeFileSync(path, next)
  console.log('openapi.yaml: regenerated the models from src/data/models.')
  return 0
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2))
}
