import { ConfigError, loadConfig } from './config.ts'
import { startGateway } from './server.ts'

/* `npm start`: the gateway on Node, configured from the environment, stopped by SIGTERM/SIGINT. */
try {
  const config = loadConfig(process.env)
  // Seeding on first start takes a few seconds: show progress on one line of stderr.
  const gateway = await startGateway(config, {
    onProgress: (line) => process.stderr.write(`\r${line}   `),
  })
  if (gateway.banner) {
    process.stderr.write('\n')
    console.log(gateway.banner)
  }
  gateway.deps.log('info', { msg: 'listening', url: gateway.url, issuer: config.issuer })
  const stop = (signal: string) => {
    gateway.deps.log('info', { msg: 'shutting down', signal })
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`partner-gateway: ${err.message}`)
    process.exit(78) // EX_CONFIG
  }
  throw err
}
