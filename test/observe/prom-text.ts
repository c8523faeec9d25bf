/*
 * A strict parser of the Prometheus text exposition format 0.0.4 (what Prometheus itself scrapes:
 * prometheus.io/docs/instrumenting/exposition_formats), for the tests: it throws on anything a
 * Prometheus server would refuse or misread — bad names, bad escapes, a TYPE after its samples,
 * a family split in two, a duplicate series, a histogram whose buckets are not cumulative or
 * whose +Inf bucket differs from its count. Written here because the parser on npm
 * (parse-prometheus-text-format 1.1.1, unchanged since 2019) merges a histogram's labelled series
 * into one and drops their labels, _sum and _count: tried on prom-client's own output.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface MetricFamily {
  name: string
  type: MetricType
  help: string | null
  samples: Sample[]
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

export class ExpositionError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`)
  }
}

function parseValue(raw: string, line: number): number {
  if (raw === 'NaN') return Number.NaN
  if (raw === '+Inf' || raw === 'Inf') return Number.POSITIVE_INFINITY
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) {
    throw new ExpositionError(line, `not a number: ${JSON.stringify(raw)}`)
  }
  return Number(raw)
}

/** Parses `{a="x",b="y"}` starting at `text[start] === '{'`; returns the labels and the end index. */
function parseLabels(
  text: string,
  start: number,
  line: number,
): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {}
  let i = start + 1
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 }
    const eq = text.indexOf('=', i)
    if (eq < 0) throw new ExpositionError(line, 'label without "="')
    const name = text.slice(i, eq)
    if (!LABEL_NAME.test(name))
      throw new ExpositionError(line, `bad label name ${JSON.stringify(name)}`)
    if (name in labels) throw new ExpositionError(line, `label ${name} repeated`)
    if (text[eq + 1] !== '"') throw new ExpositionError(line, `label ${name}: value not quoted`)
    let value = ''
    let j = eq + 2
    for (;;) {
      const ch = text[j]
      if (ch === undefined) throw new ExpositionError(line, `label ${name}: unterminated value`)
      if (ch === '"') break
      if (ch === '\\') {
        const next = text[j + 1]
        if (next === '\\') value += '\\'
        else if (next === '"') value += '"'
        else if (next === 'n') value += '\n'
        else throw new ExpositionError(line, `label ${name}: bad escape \\${next ?? ''}`)
        j += 2
        continue
      }
      value += ch
      j++
    }
    labels[name] = value
    i = j + 1
    if (text[i] === ',') i++
    else if (text[i] !== '}')
      throw new ExpositionError(line, `after label ${name}: "," or "}" expected`)
  }
}

/** The family a sample name belongs to, given the TYPEs declared so far. */
function familyOf(name: string, types: Map<string, MetricType>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue
    const base = name.slice(0, -suffix.length)
    const type = types.get(base)
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base
  }
  return name
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`
}

function checkHistogram(family: MetricFamily): void {
  const groups = new Map<string, Sample[]>()
  const sums = new Set<string>()
  const counts = new Map<string, number>()
  for (const s of family.samples) {
    const { le, ...rest } = s.labels
    const key = seriesKey('', rest)
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`)
      groups.set(key, [...(groups.get(key) ?? []), s])
    } else if (s.name.endsWith('_sum')) sums.add(key)
    else if (s.name.endsWith('_count')) counts.set(key, s.value)
    else throw new Error(`${family.name}: sample ${s.name} does not belong to a histogram`)
  }
  for (const [key, buckets] of groups) {
    let previousLe = Number.NEGATIVE_INFINITY
    let previousCount = 0
    for (const b of buckets) {
      const le = parseValue(b.labels.le as string, 0)
      if (!(le > previousLe)) throw new Error(`${family.name}${key}: le not increasing`)
      if (b.value < previousCount) throw new Error(`${family.name}${key}: buckets not cumulative`)
      previousLe = le
      previousCount = b.value
    }
    if (previousLe !== Number.POSITIVE_INFINITY)
      throw new Error(`${family.name}${key}: no +Inf bucket`)
    if (counts.get(key) !== previousCount) {
      throw new Error(`${family.name}${key}: _count differs from the +Inf bucket`)
    }
    if (!sums.has(key)) throw new Error(`${family.name}${key}: no _sum`)
  }
}

export function parseExposition(text: string): Map<string, MetricFamily> {
  if (text !== '' && !text.endsWith('\n')) throw new ExpositionError(0, 'must end with a newline')
  const families = new Map<string, MetricFamily>()
  const types = new Map<string, MetricType>()
  const helps = new Map<string, string>()
  const series = new Set<string>()
  const closed = new Set<string>()
  let current: string | null = null
  const lines = text.split('\n')
  lines.forEach((raw, index) => {
    const n = index + 1
    if (raw.trim() === '') return
    if (raw.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw)
      if (!m) return // a plain comment
      const [, keyword, name = '', rest = ''] = m
      if (!METRIC_NAME.test(name)) throw new ExpositionError(n, `bad metric name ${name}`)
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest as MetricType)) throw new ExpositionError(n, `unknown type ${rest}`)
        if (types.has(name)) throw new ExpositionError(n, `second TYPE for ${name}`)
        if (families.has(name)) throw new ExpositionError(n, `TYPE for ${name} after its samples`)
        types.set(name, rest as MetricType)
      } else {
        if (helps.has(name)) throw new ExpositionError(n, `second HELP for ${name}`)
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) {
          throw new ExpositionError(n, `bad escape in HELP for ${name}`)
        }
        helps.set(name, rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\'))
      }
      return
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw)
    if (!nameMatch) throw new ExpositionError(n, `bad sample line ${JSON.stringify(raw)}`)
    const name = nameMatch[0]
    let rest = raw.slice(name.length)
    let labels: Record<string, string> = {}
    if (rest.startsWith('{')) {
      const parsed = parseLabels(raw, name.length, n)
      labels = parsed.labels
      rest = raw.slice(parsed.end)
    }
    const parts = rest.trim().split(/\s+/)
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) {
      throw new ExpositionError(n, `bad sample line ${JSON.stringify(raw)}`)
    }
    const value = parseValue(parts[0] as string, n)
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) {
      throw new ExpositionError(n, `bad timestamp ${parts[1]}`)
    }
    const familyName = familyOf(name, types)
    if (familyName !== current) {
      if (closed.has(familyName)) throw new ExpositionError(n, `family ${familyName} split in two`)
      if (current !== null) closed.add(current)
      current = familyName
    }
    const key = seriesKey(name, labels)
    if (series.has(key)) throw new ExpositionError(n, `duplicate series ${key}`)
    series.add(key)
    let family = families.get(familyName)
    if (!family) {
      family = {
        name: familyName,
        type: types.get(familyName) ?? 'untyped',
        help: helps.get(familyName) ?? null,
        samples: [],
      }
      families.set(familyName, family)
    }
    if (family.type === 'counter' && (value < 0 || Number.isNaN(value))) {
      throw new ExpositionError(n, `counter ${name} is ${value}`)
    }
    family.samples.push({ name, labels, value })
  })
  for (const family of families.values()) {
    if (family.type === 'histogram') checkHistogram(family)
  }
  return families
}

/** The value of the one sample `name` with exactly `labels`; `undefined` if there is none. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = seriesKey(name, labels)
  for (const family of families.values()) {
    for (const s of family.samples) if (seriesKey(s.name, s.labels) === wanted) return s.value
  }
  return undefined
}
