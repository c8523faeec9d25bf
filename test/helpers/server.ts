import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { createTestGateway, type TestGateway } from './app.ts'

/*
 * Real HTTP servers on 127.0.0.1 for the tests that need a real peer: a browser, or oauth4webapi
 * over the network instead of `app.request`.
 */

export interface RunningGateway {
  /** The server's base URL, which is also the gateway's `ISSUER` (e.g. `http://127.0.0.1:41234`). */
  url: string
  /**
   * The gateway's deps and helpers. `gw.fetch` and `gw.admin` still call the app in process;
   * use {@link url} for anything that must cross the network.
   */
  gw: TestGateway
  close: () => Promise<void>
}

/** Listens on a free port of 127.0.0.1 and resolves with it. */
function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/** Closes a server, including the keep-alive connections a browser holds open. */
function shut(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()))
    server.closeAllConnections()
  })
}

/**
 * Starts a test gateway (in-memory SQLite, test clock, fast password KDF — see
 * {@link createTestGateway}) behind `@hono/node-server` on a free port of 127.0.0.1, with `ISSUER`
 * set to that server's URL. The issuer has to contain the port, so the socket listens first and the
 * app is built once the port is known; requests cannot arrive before that.
 */
export async function startGatewayServer(
  options: Parameters<typeof createTestGateway>[0] = {},
): Promise<RunningGateway> {
  let gw: TestGateway | undefined
  const server = serve({
    fetch: (request, env) => {
      if (!gw) return new Response('starting', { status: 503 })
      return gw.app.fetch(request, env)
    },
    port: 0,
    hostname: '127.0.0.1',
  }) as Server
  // serve() has already called listen(); wait for it.
  if (!server.listening) {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve)
      server.once('error', reject)
    })
  }
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  gw = createTestGateway({
    ...options,
    env: { ...options.env, ISSUER: url },
    deps: { remoteAddress: (c) => getConnInfo(c).remote.address, ...options.deps },
  })
  const running = gw
  return {
    url,
    gw: running,
    close: async () => {
      await shut(server)
      running.close()
    },
  }
}

export interface ClientApp {
  /** Base URL, e.g. `http://127.0.0.1:41235`. */
  url: string
  /** Every request the app received, as absolute URLs, oldest first. */
  requests: URL[]
  close: () => Promise<void>
}

/** An HTML page of the client app: fixed, or built from the request URL. */
export type ClientAppPage = string | ((url: URL) => string)

/**
 * A stand-in for the OAuth client's web app (Terra) on its own port of 127.0.0.1: it answers
 * `200 ok` on every path — so a browser sent to a redirect_uri lands somewhere real — except the
 * paths given in `pages`, which it serves as HTML.
 */
export async function startClientApp(
  pages: Record<string, ClientAppPage> = {},
): Promise<ClientApp> {
  const requests: URL[] = []
  let base = ''
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base)
    requests.push(url)
    const page = pages[url.pathname]
    if (page !== undefined) {
      const html = typeof page === 'string' ? page : page(url)
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html)
    } else {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok')
    }
  })
  base = `http://127.0.0.1:${await listen(server)}`
  return { url: base, requests, close: () => shut(server) }
}
