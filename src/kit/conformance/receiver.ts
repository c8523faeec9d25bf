import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One webhook request as it arrived: raw body, lower-case headers. */
export interface ReceivedWebhook {
  method: string
  path: string
  headers: Record<string, string>
  body: string
  /** Arrival time (ms since the epoch, the kit's clock). */
  at: number
}

export interface WebhookReceiver {
  /** The URL to register as the client's `webhook_url`. */
  url: string
  received: ReceivedWebhook[]
  close(): Promise<void>
}

/** A request's whole body as UTF-8, exactly as received. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/**
 * A webhook receiver on a free port of `host` (127.0.0.1 by default): records every request and
 * answers `200`, as a healthy Terra endpoint does.
 */
export async function startWebhookReceiver(
  options: { host?: string; path?: string } = {},
): Promise<WebhookReceiver> {
  const host = options.host ?? '127.0.0.1'
  const path = options.path ?? '/terra-webhook'
  const received: ReceivedWebhook[] = []
  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => {
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
        }
        received.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers,
          body,
          at: Date.now(),
        })
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
      })
      .catch(() => res.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const hostInUrl = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${hostInUrl}:${port}${path}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
