import type { z } from 'zod'
import { CreateClientBody, registerClient } from '../admin/clients.ts'
import { CreateUserBody, registerUser, userView } from '../admin/users.ts'
import { loadConfig } from '../config.ts'
import { fieldErrors, Problem } from '../http/errors.ts'
import {
  type Command,
  CommandError,
  EXIT,
  PROGRAM,
  parseOptions,
  requireFlags,
  UsageError,
} from './command.ts'
import { withDatabase } from './database.ts'

/*
 * `client create` and `user create`: the admin API's POST /clients and POST /users without the
 * HTTP round trip. The flags become the same JSON body, checked by the same zod schema and stored
 * by the same function, so what is accepted and every message are the API's.
 */

/**
 * Validates a body built from flags with the admin API's schema. A failure is a usage error that
 * lists each problem as the API would (`redirect_uris[0]: Must use https; …`) with its flag.
 */
function validate<S extends z.ZodType>(
  schema: S,
  body: Record<string, unknown>,
  what: string,
  flags: Record<string, string>,
): z.infer<S> {
  const result = schema.safeParse(body)
  if (result.success) return result.data
  const lines = fieldErrors(result.error).map(({ path, message }) => {
    const field = path.split(/[.[]/)[0] ?? path
    const flag = flags[field]
    return `  ${path}${flag ? ` (${flag})` : ''}: ${message}`
  })
  throw new UsageError(`the ${what} is not valid:\n${lines.join('\n')}`)
}

/** The flags whose values are set, as the JSON body's fields (absent flags stay absent). */
function bodyOf(
  values: Record<string, string | string[] | boolean | undefined>,
  fields: Record<string, string>,
): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  for (const [flag, field] of Object.entries(fields)) {
    if (values[flag] !== undefined) body[field] = values[flag]
  }
  return body
}

/** A 4xx from the shared record code (e.g. 409, the email is taken) is the command's failure. */
async function asCommandError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof Problem && err.status < 500) throw new CommandError(err.detail)
    throw err
  }
}

const CLIENT_FLAGS = {
  name: 'name',
  'redirect-uri': 'redirect_uris',
  'webhook-url': 'webhook_url',
  'signature-scheme': 'signature_scheme',
  'payload-mode': 'payload_mode',
}

export const clientCreateCommand: Command = {
  name: 'client create',
  summary: 'register an OAuth client (Terra) and print its secrets, once',
  help: `Usage: ${PROGRAM} client create --name <name> --redirect-uri <uri> [--redirect-uri <uri> …]
         [--webhook-url <url>] [--signature-scheme terra|standard] [--payload-mode full|ping]

Registers an OAuth client in the database at DATABASE_PATH, as POST /admin/v1/clients does, and
prints it as JSON with client_secret and webhook_secret. Store both now: the client secret is
kept only as a hash and neither is shown again (rotate with POST /admin/v1/clients/{id}/rotate-secret).

Options:
  --name <name>                 the name the consent screen shows (required)
  --redirect-uri <uri>          a redirect URI, matched exactly; repeat for several (required)
  --webhook-url <url>           where sync events are POSTed (optional)
  --signature-scheme <scheme>   terra (default) or standard (Standard Webhooks)
  --payload-mode <mode>         full (default: records in the event) or ping (ids; the client pulls)
  -h, --help                    this help

Exit codes: 0 created, 1 failure, 2 usage error or invalid value, 78 invalid configuration.`,
  run: async (argv) => {
    const values = parseOptions(argv, {
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'webhook-url': { type: 'string' },
      'signature-scheme': { type: 'string' },
      'payload-mode': { type: 'string' },
    })
    if (values === null) {
      console.log(clientCreateCommand.help)
      return EXIT.ok
    }
    requireFlags(values, ['name', 'redirect-uri'])
    const flagOf = Object.fromEntries(
      Object.entries(CLIENT_FLAGS).map(([flag, field]) => [field, `--${flag}`]),
    )
    const body = validate(CreateClientBody, bodyOf(values, CLIENT_FLAGS), 'client', flagOf)
    const config = loadConfig(process.env)
    const created = await withDatabase(config, (deps) =>
      asCommandError(() => registerClient(deps, body)),
    )
    console.log(JSON.stringify(created, null, 2))
    process.stderr.write('Store client_secret and webhook_secret now: they are not shown again.\n')
    return EXIT.ok
  },
}

const USER_FLAGS = {
  email: 'email',
  timezone: 'timezone',
  password: 'password',
  reference: 'reference',
  'display-name': 'display_name',
}

export const userCreateCommand: Command = {
  name: 'user create',
  summary: 'create a user who can sign in and connect Terra',
  help: `Usage: ${PROGRAM} user create --email <email> --timezone <iana zone> [--password <password>]
         [--reference <your id>] [--display-name <name>]

Creates a user in the database at DATABASE_PATH, as POST /admin/v1/users does, and prints it as
JSON (with its user_id). Date-only ranges of the data API are whole days in this time zone.

Options:
  --email <email>          the sign-in email (required; stored lower-case)
  --timezone <zone>        an IANA time zone such as Europe/Berlin (required)
  --password <password>    at least 8 characters; without it the user cannot sign in yet
  --reference <id>         your back end's id for the user
  --display-name <name>    shown with profile:read
  -h, --help               this help

Exit codes: 0 created, 1 failure (e.g. the email is taken), 2 usage error or invalid value,
78 invalid configuration.`,
  run: async (argv) => {
    const values = parseOptions(argv, {
      email: { type: 'string' },
      timezone: { type: 'string' },
      password: { type: 'string' },
      reference: { type: 'string' },
      'display-name': { type: 'string' },
    })
    if (values === null) {
      console.log(userCreateCommand.help)
      return EXIT.ok
    }
    requireFlags(values, ['email', 'timezone'])
    const flagOf = Object.fromEntries(
      Object.entries(USER_FLAGS).map(([flag, field]) => [field, `--${flag}`]),
    )
    const body = validate(CreateUserBody, bodyOf(values, USER_FLAGS), 'user', flagOf)
    const config = loadConfig(process.env)
    const user = await withDatabase(config, (deps) =>
      asCommandError(() => registerUser(deps, body)),
    )
    console.log(JSON.stringify(userView(user), null, 2))
    return EXIT.ok
  },
}
