import type { ActivityRecord } from './activity.ts'
import type { DataRecordByType, DataType } from './data-type.ts'
import type { SleepRecord } from './sleep.ts'

/**
 * The per-user key under which a record is stored and overwritten (Terra's superset rule: a newer
 * payload for the same key replaces the older one).
 *
 * Sleep and activity are keyed by `metadata.summary_id`. Daily has no id and is keyed by its local
 * date: the first 10 characters of `metadata.start_time`, taken before any time-zone conversion, as
 * Terra does: converted to UTC, `2026-03-07T00:00:00.000000+02:00` would become 2026-03-06.
 */
export function recordKey<T extends DataType>(type: T, record: DataRecordByType[T]): string {
  if (type === 'daily') return record.metadata.start_time.slice(0, 10)
  return (record as SleepRecord | ActivityRecord).metadata.summary_id
}
