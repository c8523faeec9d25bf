/** The Terra-side conformance kit: `runConformance(options)`; `src/kit/cli.ts` wraps it. */
export type { Check } from './check.ts'
export type { CheckResult, ConformanceOptions, ConformanceReport } from './context.ts'
export { DEFAULT_SCOPE } from './context.ts'
export { formatResult, reportJson, summaryLine } from './reporter.ts'
export { conformanceChecks, runConformance } from './runner.ts'
