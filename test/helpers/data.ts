import type { ActivityRecord, DailyRecord, SleepRecord } from '../../src/data/models/index.ts'
import { makeActivity, makeDaily, makeSleep } from '../fixtures/records.ts'
import { ISSUER, type TestGateway } from './app.ts'

/** `2026-03-08T05:30:00Z` in a zone offset like `-05:00`, written as Terra does. */
export function terraTime(isoUtc: string, offset = '+00:00'): string {
  const ms = Date.parse(isoUtc)
  const sign = offset.startsWith('-') ? -1 : 1
  const [h, m] = offset.slice(1).split(':').map(Number) as [number, number]
  const local = new Date(ms + sign * (h * 60 + m) * 60_000).toISOString().slice(0, 19)
  return `${local}.000000${offset}`
}

/** A sleep session starting at `startUtc` (ISO, UTC), lasting 7 h. */
export function sleepAt(summaryId: string, startUtc: string, offset = '+00:00'): SleepRecord {
  const end = new Date(Date.parse(startUtc) + 7 * 3600_000).toISOString()
  return makeSleep({
    metadata: {
      summary_id: summaryId,
      start_time: terraTime(startUtc, offset),
      end_time: terraTime(end, offset),
    },
  })
}

export function activityAt(summaryId: string, startUtc: string, offset = '+00:00'): ActivityRecord {
  const end = new Date(Date.parse(startUtc) + 3600_000).toISOString()
  return makeActivity({
    metadata: {
      summary_id: summaryId,
      start_time: terraTime(startUtc, offset),
      end_time: terraTime(end, offset),
    },
  })
}

/** The daily summary for local date `day` at a fixed `offset`. */
export function dailyOn(day: string, offset = '+00:00', hours = 24): DailyRecord {
  const start = `${day}T00:00:00.000000${offset}`
  const end = terraTime(new Date(Date.parse(start) + hours * 3600_000).toISOString(), offset)
  return makeDaily({ metadata: { start_time: start, end_time: end } })
}

export async function ingest(gw: TestGateway, userId: string, type: string, data: unknown[]) {
  const response = await gw.admin(`/users/${userId}/${type}`, { method: 'PUT', json: { data } })
  return { status: response.status, body: await response.json() }
}

export async function pull(gw: TestGateway, token: string, path: string) {
  const response = await gw.fetch(`${ISSUER}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  })
  const text = await response.text()
  return { response, status: response.status, body: text ? JSON.parse(text) : null, text }
}
