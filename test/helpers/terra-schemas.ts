import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ErrorObject } from 'ajv'
import Ajv2020 from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { parse } from 'yaml'

/** The result of validating one value against one of Terra's schemas. */
export interface TerraValidation {
  valid: boolean
  /** One line per ajv error: `<instance path> <message> (<params>)`; empty when valid. */
  errors: string[]
}

/** Terra's JSON Schemas (draft 2020-12), loaded into ajv. */
export interface TerraSchemas {
  /** The folder the schemas were read from. */
  dir: string
  /** The schema names available: the file names without `.yaml` (`Sleep`, `SleepEvent`, ...). */
  names: string[]
  /**
   * Validates `value` against the named schema, `Sleep`, `Activity`, `Daily` or any other file in
   * the folder (`SleepEvent`, `TerraUser`, ...); `.yaml` may be included or left off. Throws for a
   * name that has no file, so a typo cannot pass as "valid".
   */
  validate(name: 'Sleep' | 'Activity' | 'Daily' | (string & {}), value: unknown): TerraValidation
  /** The named schema as parsed from its YAML file (no `$id`), for tests that walk its structure. */
  schema(name: string): Record<string, unknown>
}

/** Where the schemas live unless `TERRA_SCHEMAS_DIR` says otherwise: `../shared/terra-schemas`. */
export const DEFAULT_TERRA_SCHEMAS_DIR = fileURLToPath(
  new URL('../../../shared/terra-schemas/', import.meta.url),
)

/**
 * A message for `describe.skipIf(!schemas)` suites, naming the folder that was looked for.
 */
export function terraSchemasMissingMessage(): string {
  return `skipping: ../shared/terra-schemas not found (looked in ${terraSchemasDir()}; set TERRA_SCHEMAS_DIR to point elsewhere)`
}

function terraSchemasDir(): string {
  return process.env.TERRA_SCHEMAS_DIR || DEFAULT_TERRA_SCHEMAS_DIR
}

let cached: { dir: string; schemas: TerraSchemas | null } | undefined

/**
 * Loads every `*.yaml` in Terra's schema folder into one ajv 2020-12 instance, or returns null when
 * the folder does not exist (tests then skip with {@link terraSchemasMissingMessage}).
 *
 * Terra's files carry no `$id` and refer to each other by bare file name (`$ref: SleepMetadata.yaml`),
 * plus local `#/$defs/...` pointers. Registering each file with its file name as `$id` makes those
 * relative references resolve against one another, exactly as they would next to each other on disk.
 * Schemas compile lazily on first use and the whole set is cached per folder.
 */
export function loadTerraSchemas(): TerraSchemas | null {
  const dir = terraSchemasDir()
  if (cached?.dir === dir) return cached.schemas
  const schemas = existsSync(dir) ? load(dir) : null
  cached = { dir, schemas }
  return schemas
}

function load(dir: string): TerraSchemas {
  const ajv = new Ajv2020({
    allErrors: true,
    // Terra puts `minimum`/`maximum` next to `anyOf [number, null]` rather than inside the number
    // branch, and uses `prefixItems` without `items`/`minItems`; both are valid 2020-12 that ajv's
    // strict mode only warns about, so those two checks are turned off instead of flooding the log.
    strictTypes: false,
    strictTuples: false,
  })
  addFormats(ajv)

  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
  const parsed = new Map<string, Record<string, unknown>>()
  for (const file of files) {
    const schema: unknown = parse(readFileSync(join(dir, file), 'utf8'))
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      throw new Error(`${file} is not a JSON Schema object`)
    }
    parsed.set(file, schema as Record<string, unknown>)
    ajv.addSchema({ ...schema, $id: file })
  }
  const names = files.map((file) => file.slice(0, -'.yaml'.length))
  const fileOf = (name: string) => (name.endsWith('.yaml') ? name : `${name}.yaml`)

  return {
    dir,
    names,
    schema(name) {
      const schema = parsed.get(fileOf(name))
      if (!schema) throw new Error(`no Terra schema named ${name} in ${dir}`)
      return schema
    },
    validate(name, value) {
      const validator = ajv.getSchema(fileOf(name))
      if (!validator) throw new Error(`no Terra schema named ${name} in ${dir}`)
      const valid = validator(value) === true
      return { valid, errors: valid ? [] : (validator.errors ?? []).map(formatError) }
    },
  }
}

function formatError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath
  return `${where} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`
}
