/**
 * `partner-gateway doctor`. Placeholder while the diagnostics are being built (issue 7): it
 * refuses to pretend and exits non-zero.
 */
export async function runDoctor(_argv: string[]): Promise<number> {
  console.error('partner-gateway doctor: not built yet')
  return 1
}
