import type { CheckResult, ConformanceReport } from './context.ts'

/*
 * Output for people and CI: one line per check, a summary line `N passed, M failed`, and the
 * JSON file of `--json`.
 */

const GREEN = '\u001b[32m'
const RED = '\u001b[31m'
const DIM = '\u001b[2m'
const RESET = '\u001b[0m'

/** `✔ discovery: metadata — issuer …` or `✘ data: sleep pagination — <reason>`. */
export function formatResult(result: CheckResult, options: { color?: boolean } = {}): string {
  const mark = result.ok ? '✔' : '✘'
  const detail = result.detail ? ` — ${result.detail}` : ''
  if (!options.color) return `${mark} ${result.name}${detail}`
  const colour = result.ok ? GREEN : RED
  return `${colour}${mark}${RESET} ${result.name}${result.ok ? DIM : ''}${detail}${RESET}`
}

export function summaryLine(report: Pick<ConformanceReport, 'passed' | 'failed'>): string {
  return `${report.passed} passed, ${report.failed} failed`
}

/** The `--json` document: `{checks:[{name, ok, detail, ms}], passed, failed}`. */
export function reportJson(report: ConformanceReport): string {
  return `${JSON.stringify(
    {
      checks: report.checks.map(({ name, ok, detail, ms }) => ({ name, ok, detail, ms })),
      passed: report.passed,
      failed: report.failed,
    },
    null,
    2,
  )}\n`
}
