import { loadConfig } from '../config.ts'
import { type RunningGateway, startGateway } from '../server.ts'
import { type Command, CommandError, EXIT, PROGRAM, parseOptions } from './command.ts'

/*
 * Serving: `partner-gateway start` and `npm start` (src/node.ts) are this one function, so both
 * print the same banner and stop the same way.
 */

/** Why the server could not listen, in words that say what to change. */
function listenProblem(err: unknown, host: string, port: number): string | null {
  const code = (err as { code?: unknown } | null)?.code
  if (code === 'EADDRINUSE') {
    return `cannot listen on ${host}:${port}: the address is already in use. Stop what is using it, or set PORT to another port (PORT=0 picks a free one).`
  }
  if (code === 'EACCES') {
    return `cannot listen on ${host}:${port}: permission denied. Use a port above 1023, or a HOST this user may bind.`
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return `cannot listen on ${host}:${port}: HOST is not an address of this machine (try 127.0.0.1 or 0.0.0.0).`
  }
  return null
}

/**
 * Starts the gateway from the environment, prints the mock banner, and resolves with the exit code
 * once SIGTERM or SIGINT has stopped it gracefully (in-flight requests and webhook sends finish).
 * A configuration error throws `ConfigError`; a port that cannot be bound throws
 * {@link CommandError}.
 */
export async function serveUntilSignal(env: Record<string, string | undefined>): Promise<number> {
  const config = loadConfig(env)
  let gateway: RunningGateway
  try {
    // Seeding on first start takes a few seconds: show progress on one line of stderr.
    gateway = await startGateway(config, {
      onProgress: (line) => process.stderr.write(`\r${line}   `),
    })
  } catch (err) {
    const problem = listenProblem(err, config.host, config.port)
    if (problem) throw new CommandError(problem)
    throw err
  }
  if (gateway.banner) {
    process.stderr.write('\n')
    console.log(gateway.banner)
  }
  gateway.deps.log('info', { msg: 'listening', url: gateway.url, issuer: config.issuer })
  const running = gateway
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      running.deps.log('info', { msg: 'shutting down', signal })
      // `once`: a second Ctrl-C during the drain gets Node's default, an immediate exit.
      running.close().then(
        () => resolve(EXIT.ok),
        (err: unknown) => {
          process.stderr.write(`${PROGRAM}: shutdown failed: ${String(err)}\n`)
          resolve(EXIT.failure)
        },
      )
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
  })
}

export const startCommand: Command = {
  name: 'start',
  summary: 'serve the gateway (mock mode unless MOCK=0) until SIGTERM or SIGINT',
  help: `Usage: ${PROGRAM} start

Serves the gateway on HOST:PORT (default 127.0.0.1:8787): creates and migrates DATABASE_PATH
(default ./data/gateway.sqlite), and in mock mode (the default, MOCK=1) seeds it on first start
and prints the demo client's credentials, the demo users and the admin key. SIGTERM or SIGINT
stops it gracefully: in-flight requests and webhook deliveries finish, then it exits 0.

Configuration is the environment: PORT (0 picks a free port), HOST, ISSUER, DATABASE_PATH,
ADMIN_API_KEY, MOCK, MOCK_SEED, MOCK_AUTO_CONSENT, MOCK_SYNC_INTERVAL, LOG_LEVEL, … (see the
README). MOCK=0 (production) requires ISSUER, ADMIN_API_KEY and DATABASE_PATH.

Exit codes: 0 stopped by a signal, 1 could not start, 2 usage error, 78 invalid configuration.`,
  run: async (argv) => {
    if (parseOptions(argv, {}) === null) {
      console.log(startCommand.help)
      return EXIT.ok
    }
    return serveUntilSignal(process.env)
  },
}
