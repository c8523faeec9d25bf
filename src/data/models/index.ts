/**
 * Terra's data models (`Sleep`, `Activity`, `Daily` and everything they reference) as zod schemas,
 * checked against Terra's own JSON Schemas by `test/data/models.test.ts`.
 */
export * from './activity.ts'
export * from './common.ts'
export * from './daily.ts'
export * from './data-type.ts'
export * from './enums.ts'
export * from './record-key.ts'
export * from './samples.ts'
export * from './sleep.ts'
export * from './timestamp.ts'
