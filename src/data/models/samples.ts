/**
 * A deep copy of a record without its sample arrays: every key whose name contains `samples`
 * (`hr_samples`, `hrv_samples_rmssd`, `samples`, `MET_samples`, `TSS_samples`, ...) and whose value
 * is an array is left out, at any depth. This is the Data API's `with_samples=false` view, which is
 * also Terra's default.
 *
 * A `samples` key holding `null` is left out too: "without samples" means the key is absent, and a
 * null there carries nothing. Anything else under such a name (there is none in Terra's models) is
 * kept. Plain recursion over JSON values, no validation, so it is cheap enough for every response.
 */
export function stripSamples<T>(record: T): T {
  return strip(record) as T
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip)
  if (value === null || typeof value !== 'object') return value
  const copy: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    if (key.includes('samples') && (child === null || Array.isArray(child))) continue
    copy[key] = strip(child)
  }
  return copy
}
