import { SCOPES, type Scope } from '../config.ts'

export const SCOPE_DESCRIPTIONS: Record<string, { title: string; detail: string }> = {
  'sleep:read': { title: 'Sleep', detail: 'Your sleep sessions: stages, heart rate, breathing.' },
  'activity:read': {
    title: 'Workouts',
    detail: 'Your activities: type, distance, heart rate, calories.',
  },
  'daily:read': { title: 'Daily summaries', detail: 'Steps, calories and active time per day.' },
  'profile:read': { title: 'Profile', detail: 'Your email address and display name.' },
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value)
}

/** Parses a space-delimited scope string (RFC 6749 §3.3); unknown scopes are returned apart. */
export function parseScope(value: string): { scopes: Scope[]; unknown: string[] } {
  const parts = [...new Set(value.split(' ').filter((s) => s !== ''))]
  return { scopes: sortScopes(parts.filter(isScope)), unknown: parts.filter((s) => !isScope(s)) }
}

/** Canonical order: the order of {@link SCOPES}, so stored strings compare equal. */
export function sortScopes(scopes: Iterable<string>): Scope[] {
  const set = new Set(scopes)
  return SCOPES.filter((s) => set.has(s))
}

export function formatScope(scopes: Iterable<string>): string {
  return sortScopes(scopes).join(' ')
}

export function splitScope(value: string): Scope[] {
  return parseScope(value).scopes
}

export function intersectScope(a: string, b: string): Scope[] {
  const other = new Set(splitScope(b))
  return splitScope(a).filter((s) => other.has(s))
}
