import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import {
  type ConformanceOptions,
  DEFAULT_SCOPE,
  formatResult,
  reportJson,
  runConformance,
  summaryLine,
} from './conformance/index.ts'

/*
 * The conformance kit on the command line, as a function: `npm run conformance -- <options>`
 * (src/kit/cli.ts) and `partner-gateway conformance <options>` (src/cli/main.ts) both call
 * {@link main}. Exit 0 when every check passed, 1 when any failed (a check skipped because one it
 * depends on failed counts as failed), 2 for a usage error.
 */

/** How the kit is invoked from the repository; the published CLI passes its own. */
export const NPM_COMMAND = 'npm run conformance --'

/** The help text, for the command line `command` (e.g. `partner-gateway conformance`). */
export function usage(command: string = NPM_COMMAND): string {
  const indent = ' '.repeat(command.length + 8)
  return `Usage: ${command} --issuer <url> --client-id <id> --client-secret <secret>
${indent}--redirect-uri <uri> --user <email> --password <password> [options]

Plays Terra against a partner-gateway deployment over HTTP: discovery, authorization code +
PKCE through the login and consent forms, token, refresh, PKCE and code_verifier refusals,
/v1/user, every data type over the last days with pagination and with_samples both ways, every
record against Terra's models, introspection and revocation. With --admin-key, also webhooks:
a receiver on 127.0.0.1 is registered as the client's webhook_url, a mock sync is triggered,
and what arrives is verified; the previous webhook_url is restored afterwards.

Required:
  --issuer <url>           the deployment's issuer, exactly as its metadata states it
  --client-id <id>         Terra's client id on the deployment
  --client-secret <s>      its client secret
  --redirect-uri <uri>     a redirect URI registered for the client (never called)
  --user <email>           a user who can sign in on the login page
  --password <password>    that user's password

Options:
  --admin-key <key>        the admin API key: enables the webhook checks
  --webhook-secret <s>     the client's webhook secret, to verify signatures
  --json <file>            also write the results as JSON ({checks, passed, failed})
  --scope <scopes>         scopes to ask for (default "${DEFAULT_SCOPE}")
  --days <n>               the data checks' range, ending now (default 30)
  --page-size <n>          the limit of the pagination checks (default 5)
  --webhook-timeout <s>    seconds to wait for webhook events after the sync (default 30)
  --timeout <s>            seconds per HTTP request (default 30)
  -h, --help               this help

Prints one line per check and a summary "N passed, M failed". A check that depends on a failed
one is reported failed ("skipped: depends on …"). Exit code: 0 all passed, 1 some failed,
2 usage error.`
}

const REQUIRED = [
  'issuer',
  'client-id',
  'client-secret',
  'redirect-uri',
  'user',
  'password',
] as const

class UsageError extends Error {}

function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive number, not ${JSON.stringify(value)}`)
  return n
}

/** Parses the command line into kit options; `null` for --help. Throws UsageError. */
export function parseCli(argv: string[]): { options: ConformanceOptions; json?: string } | null {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        issuer: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        'redirect-uri': { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        'admin-key': { type: 'string' },
        'webhook-secret': { type: 'string' },
        json: { type: 'string' },
        scope: { type: 'string' },
        days: { type: 'string' },
        'page-size': { type: 'string' },
        'webhook-timeout': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  if (values.help) return null
  const str = (name: string) => {
    const v = values[name]
    return typeof v === 'string' ? v : undefined
  }
  const missing = REQUIRED.filter((name) => !str(name))
  if (missing.length > 0) {
    throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`)
  }
  try {
    new URL(str('issuer') as string)
  } catch {
    throw new UsageError(`--issuer must be an absolute URL, not ${JSON.stringify(str('issuer'))}`)
  }
  const webhookTimeout = positiveNumber('webhook-timeout', str('webhook-timeout'))
  const timeout = positiveNumber('timeout', str('timeout'))
  const options: ConformanceOptions = {
    issuer: str('issuer') as string,
    clientId: str('client-id') as string,
    clientSecret: str('client-secret') as string,
    redirectUri: str('redirect-uri') as string,
    user: str('user') as string,
    password: str('password') as string,
    adminKey: str('admin-key'),
    webhookSecret: str('webhook-secret'),
    scope: str('scope'),
    days: positiveNumber('days', str('days')),
    pageSize: positiveNumber('page-size', str('page-size')),
    webhookTimeoutMs: webhookTimeout === undefined ? undefined : webhookTimeout * 1000,
    requestTimeoutMs: timeout === undefined ? undefined : timeout * 1000,
  }
  const json = str('json')
  return json === undefined ? { options } : { options, json }
}

/**
 * Runs the kit for a command line (without the program name) and resolves with the exit code;
 * writes to stdout and stderr. `command` is how the help text says the kit is invoked.
 */
export async function main(argv: string[], command: string = NPM_COMMAND): Promise<number> {
  let parsed: ReturnType<typeof parseCli>
  try {
    parsed = parseCli(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`conformance: ${err.message}\n\n${usage(command)}\n`)
    return 2
  }
  if (parsed === null) {
    process.stdout.write(`${usage(command)}\n`)
    return 0
  }
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR
  const report = await runConformance({
    ...parsed.options,
    onResult: (result) => process.stdout.write(`${formatResult(result, { color })}\n`),
    onProgress: (message) => process.stderr.write(`  … ${message}\n`),
  })
  process.stdout.write(`${summaryLine(report)}\n`)
  if (parsed.json) writeFileSync(parsed.json, reportJson(report))
  return report.failed > 0 ? 1 : 0
}
