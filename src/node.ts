import { CommandError, EXIT } from './cli/command.ts'
import { exitWhenDone } from './cli/exit.ts'
import { serveUntilSignal } from './cli/start.ts'
import { ConfigError } from './config.ts'

/* `npm start`: the gateway on Node, configured from the environment, stopped by SIGTERM/SIGINT. */
try {
  exitWhenDone(await serveUntilSignal(process.env))
} catch (err) {
  if (!(err instanceof ConfigError || err instanceof CommandError)) throw err
  console.error(`partner-gateway: ${err.message}`)
  exitWhenDone(err instanceof ConfigError ? EXIT.config : EXIT.failure)
}
