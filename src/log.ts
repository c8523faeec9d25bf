import type { LogFn } from './http/env.ts'

const ORDER = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const

/** Structured JSON logs, one object per line, at or above `level`. */
export function jsonLogger(
  level: keyof typeof ORDER,
  write: (line: string) => void = (line) => console.log(line),
): LogFn {
  return (lineLevel, fields) => {
    if (ORDER[lineLevel] < ORDER[level]) return
    write(JSON.stringify({ time: new Date().toISOString(), level: lineLevel, ...fields }))
  }
}
