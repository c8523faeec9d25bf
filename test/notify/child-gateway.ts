import { type ChildProcess, spawn } from 'node:child_process'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import * as oauth from 'oauth4webapi'
import { FormAgent } from '../../src/kit/form-agent.ts'

/*
 * The gateway as a real production process (`src/node.ts`, MOCK=0) for the crash-safety test:
 * started with node + tsx's loader directly (not through npx), so that a signal reaches the
 * gateway itself and not a wrapper.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface ChildGateway {
  url: string
  process: ChildProcess
  /** Every stdout line so far (JSON logs). */
  lines: string[]
  /** What it wrote to stderr so far. */
  stderr: () => string
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>
}

export function startChildGateway(env: {
  port: number
  databasePath: string
  adminKey: string
}): Promise<ChildGateway> {
  const url = `http://127.0.0.1:${env.port}`
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      MOCK: '0',
      ISSUER: url,
      PORT: String(env.port),
      HOST: '127.0.0.1',
      ADMIN_API_KEY: env.adminKey,
      DATABASE_PATH: env.databasePath,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let buffered = ''
  let stderr = ''
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the gateway did not start in 20 s:\n${stderr}\n${lines.join('\n')}`)),
      20_000,
    )
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const parts = buffered.split('\n')
      buffered = parts.pop() ?? ''
      for (const line of parts) {
        lines.push(line)
        if (line.includes('"msg":"listening"')) {
          clearTimeout(timer)
          resolve({ url, process: child, lines, exited, stderr: () => stderr })
        }
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`the gateway exited (${code}) before listening:\n${stderr}`))
    })
  })
}

/**
 * Admin API calls over HTTP, one connection per request: a pooled keep-alive connection that the
 * server closes for idleness just as a large PUT starts writing fails with EPIPE, and a PUT is not
 * retried by fetch.
 */
export function adminClient(url: string, key: string) {
  return (path: string, init: { method?: string; json?: unknown } = {}) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const payload = init.json === undefined ? undefined : Buffer.from(JSON.stringify(init.json))
      const req = request(
        `${url}/admin/v1${path}`,
        {
          method: init.method ?? 'GET',
          agent: false,
          headers: {
            authorization: `Bearer ${key}`,
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': payload.length }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null })
          })
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end(payload)
    })
}

/**
 * The whole authorization code flow over HTTP against a running gateway, as Terra would run it:
 * discovery, authorize with PKCE, the HTML login and consent forms, and the code exchange.
 */
export async function connectOverHttp(
  issuer: string,
  client: { clientId: string; clientSecret: string; redirectUri: string },
  user: { email: string; password: string },
  scope = 'sleep:read activity:read daily:read',
): Promise<oauth.TokenEndpointResponse> {
  const options = { [oauth.allowInsecureRequests]: true }
  const as = await oauth.processDiscoveryResponse(
    new URL(issuer),
    await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...options }),
  )
  const oClient: oauth.Client = { client_id: client.clientId }
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const url = new URL(as.authorization_endpoint as string)
  url.searchParams.set('client_id', client.clientId)
  url.searchParams.set('redirect_uri', client.redirectUri)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('scope', scope)
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier))
  url.searchParams.set('code_challenge_method', 'S256')
  url.searchParams.set('state', state)

  const agent = new FormAgent((u, init) => fetch(u, init))
  let { response, url: at } = await agent.follow(
    await agent.get(url.toString()),
    url.toString(),
    issuer,
  )
  for (let step = 0; step < 4 && new URL(at).origin === new URL(issuer).origin; step++) {
    if (response.status !== 200) throw new Error(`unexpected ${response.status} at ${at}`)
    const html = await response.text()
    const next =
      new URL(at).pathname === '/login'
        ? await agent.submit(html, at, { email: user.email, password: user.password })
        : await agent.submit(html, at, {}, { submit: { name: 'decision', value: 'allow' } })
    ;({ response, url: at } = await agent.follow(next, at, issuer))
  }
  const params = oauth.validateAuthResponse(as, oClient, new URL(at), state)
  const tokenResponse = await oauth.authorizationCodeGrantRequest(
    as,
    oClient,
    oauth.ClientSecretBasic(client.clientSecret),
    params,
    client.redirectUri,
    verifier,
    options,
  )
  return oauth.processAuthorizationCodeResponse(as, oClient, tokenResponse)
}

/**
 * Registers a client whose webhook is `webhookUrl` and `count` users who each connect it through
 * the whole OAuth flow: the set-up of a delivery burst against a running gateway.
 */
export async function connectedClientAndUsers(
  url: string,
  admin: ReturnType<typeof adminClient>,
  options: { webhookUrl: string; redirectUri: string; count: number; emailPrefix: string },
): Promise<{ webhookSecret: string; userIds: string[] }> {
  const created = await admin('/clients', {
    method: 'POST',
    json: { name: 'Terra', redirect_uris: [options.redirectUri], webhook_url: options.webhookUrl },
  })
  if (created.status !== 201) throw new Error(`client not created: ${JSON.stringify(created)}`)
  const client = {
    clientId: created.body.client_id as string,
    clientSecret: created.body.client_secret as string,
    redirectUri: options.redirectUri,
  }
  const userIds: string[] = []
  for (let u = 0; u < options.count; u++) {
    const email = `${options.emailPrefix}${u}@example.test`
    const password = 'a long enough password'
    const user = await admin('/users', {
      method: 'POST',
      json: { email, password, timezone: 'Europe/Berlin' },
    })
    if (user.status !== 201) throw new Error(`user not created: ${JSON.stringify(user)}`)
    const tokens = await connectOverHttp(url, client, { email, password })
    if (tokens.user_id !== user.body.user_id) throw new Error('the token is for another user')
    userIds.push(user.body.user_id as string)
  }
  return { webhookSecret: created.body.webhook_secret as string, userIds }
}

/** The summary_ids of the records a full-payload webhook body carries. */
export function summaryIds(body: string): string[] {
  const parsed = JSON.parse(body) as { data?: { metadata: { summary_id: string } }[] }
  return (parsed.data ?? []).map((r) => r.metadata.summary_id)
}
