import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/*
 * A real webhook receiver on 127.0.0.1 for the notifier's tests: it records every request's raw
 * body and headers, and answers as it is told — a status with headers (Retry-After, Location), a
 * delay, no answer at all (the sender's timeout), or a reset connection.
 */

export interface ReceivedRequest {
  method: string
  path: string
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Record<string, string>
  /** The raw body, exactly as received. */
  body: string
  /** Wall-clock arrival time (ms). */
  at: number
  /** What the receiver answered (a status, `timeout`, `reset`). */
  answer: number | 'timeout' | 'reset'
}

export type Reply =
  | number
  | 'timeout'
  | 'reset'
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }

export interface Receiver {
  /** The webhook URL to register, e.g. `http://127.0.0.1:41234/hook`. */
  url: string
  port: number
  requests: ReceivedRequest[]
  /** Answers for the next requests, in order; after them the default answers. */
  plan(...replies: Reply[]): void
  /** The answer once the plan is used up (default 200), or a function of the request. */
  setDefault(reply: Reply | ((request: ReceivedRequest) => Reply)): void
  /** The most requests being answered at the same time so far. */
  maxConcurrent(): number
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/** A port on 127.0.0.1 with nothing listening on it (for "connection refused"). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

export async function startReceiver(options: { path?: string } = {}): Promise<Receiver> {
  const path = options.path ?? '/hook'
  const requests: ReceivedRequest[] = []
  const queue: Reply[] = []
  let fallback: Reply | ((request: ReceivedRequest) => Reply) = 200
  let active = 0
  let peak = 0
  const waiters: { count: number; resolve: () => void }[] = []

  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    active++
    peak = Math.max(peak, active)
    res.on('close', () => {
      active--
    })
    const body = await readBody(req)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
    }
    const received: ReceivedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers,
      body,
      at: Date.now(),
      answer: 200,
    }
    const reply = queue.shift() ?? (typeof fallback === 'function' ? fallback(received) : fallback)
    received.answer =
      typeof reply === 'number' ? reply : typeof reply === 'string' ? reply : reply.status
    requests.push(received)
    for (const w of waiters.filter((w) => requests.length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve()
    }
    if (reply === 'timeout') return // never answered; the sender gives up
    if (reply === 'reset') {
      req.socket.destroy()
      return
    }
    const spec = typeof reply === 'number' ? { status: reply } : reply
    if (spec.delayMs) await new Promise((r) => setTimeout(r, spec.delayMs))
    if (res.destroyed) return
    res.writeHead(spec.status, { 'content-type': 'text/plain', ...spec.headers })
    res.end(spec.body ?? `answered ${spec.status}`)
  }

  const server: Server = createServer((req, res) => {
    answer(req, res).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    requests,
    plan: (...replies) => {
      queue.push(...replies)
    },
    setDefault: (reply) => {
      fallback = reply
    },
    maxConcurrent: () => peak,
    waitFor: (count, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (requests.length >= count) return resolve()
        const timer = setTimeout(
          () =>
            reject(
              new Error(`receiver: ${requests.length} of ${count} requests after ${timeoutMs} ms`),
            ),
          timeoutMs,
        )
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
        })
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
