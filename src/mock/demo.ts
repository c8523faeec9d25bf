import type { Deps } from '../http/env.ts'

/**
 * Mock mode start-up: makes sure the demo client, demo users and admin key exist and returns the
 * banner to print. (Filled in by the admin/demo work.)
 */
export async function prepareMock(deps: Deps): Promise<string> {
  if (!deps.config.adminApiKey) throw new Error('mock admin key not prepared yet')
  return `partner-gateway (mock mode) at ${deps.config.issuer}`
}
