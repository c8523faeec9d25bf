import { ActivityRecord } from './activity.ts'
import { DailyRecord } from './daily.ts'
import { SleepRecord } from './sleep.ts'

/** The record types the gateway serves, as they appear in URLs, scopes and webhook `type`s. */
export type DataType = 'sleep' | 'activity' | 'daily'

/** The record model for each {@link DataType}. */
export interface DataRecordByType {
  sleep: SleepRecord
  activity: ActivityRecord
  daily: DailyRecord
}

/** The zod schema for each {@link DataType}, for code that handles all three alike (ingest, pull). */
export const DATA_RECORD_SCHEMAS = {
  sleep: SleepRecord,
  activity: ActivityRecord,
  daily: DailyRecord,
} as const
