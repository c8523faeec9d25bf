import { Hono } from 'hono'
import type { AppEnv } from '../http/env.ts'
import { renderPage } from '../views/layout.tsx'
import { DEMO_CLIENT_ID, DEMO_STATE, demoAuthorizeUrl, demoClientSecret, demoPkce } from './demo.ts'

/**
 * `/demo/callback` (mock mode only): the demo client's redirect URI, so that a newcomer can run
 * the authorization code flow with nothing but a browser and curl. It shows the authorization
 * response and the token request that redeems the code.
 */
export const demoRoutes = new Hono<AppEnv>()

const PRE_STYLE =
  'white-space: pre-wrap; word-break: break-all; background: #eff1f3; padding: .75rem; border-radius: 6px; font-size: .85em'

/** POSIX shell single-quoting, so that whatever arrived in the query cannot break the command. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/** The token request for a code, as a curl command, with the demo client's credentials. */
export function exchangeCommand(options: {
  issuer: string
  clientSecret: string
  code: string
  verifier: string
}): string {
  const { issuer } = options
  return [
    `curl -sS -u ${shellQuote(`${DEMO_CLIENT_ID}:${options.clientSecret}`)} \\`,
    '  -d grant_type=authorization_code \\',
    `  --data-urlencode ${shellQuote(`code=${options.code}`)} \\`,
    `  --data-urlencode ${shellQuote(`redirect_uri=${issuer}/demo/callback`)} \\`,
    `  --data-urlencode ${shellQuote(`code_verifier=${options.verifier}`)} \\`,
    `  ${shellQuote(`${issuer}/oauth/token`)}`,
  ].join('\n')
}

demoRoutes.get('/demo/callback', async (c) => {
  const { config } = c.var.deps
  if (!config.mock) return c.notFound()
  const code = c.req.query('code')
  const state = c.req.query('state')
  const iss = c.req.query('iss')
  const error = c.req.query('error')
  const errorDescription = c.req.query('error_description')
  const startUrl = await demoAuthorizeUrl(config.issuer, config.mockSeed)
  const startAgain = (
    <p class="muted">
      <a href={startUrl}>Start the demo authorization again</a>
    </p>
  )

  const responseTable = (
    <table>
      <tbody>
        {(
          [
            ['code', code],
            ['state', state],
            ['iss', iss],
            ['error', error],
            ['error_description', errorDescription],
          ] as const
        )
          .filter(([, value]) => value !== undefined)
          .map(([name, value]) => (
            <tr>
              <th>
                <code>{name}</code>
              </th>
              <td>
                <code>{value}</code>
              </td>
            </tr>
          ))}
      </tbody>
    </table>
  )

  // RFC 9207: a client must compare iss with the issuer it started the flow with.
  const issWarning =
    iss !== undefined && iss !== config.issuer ? (
      <p class="error" role="alert">
        <code>iss</code> is not this gateway's issuer ({config.issuer}); a real client must reject
        this response (RFC 9207).
      </p>
    ) : null

  if (error !== undefined) {
    return renderPage(
      c,
      'Authorization failed',
      <>
        <h1>The authorization ended with an error</h1>
        <p class="error" role="alert">
          <strong>{error}</strong>
          {errorDescription ? `: ${errorDescription}` : null}
        </p>
        {issWarning}
        {responseTable}
        {startAgain}
      </>,
      { wide: true },
    )
  }

  if (code === undefined) {
    return renderPage(
      c,
      'Demo callback',
      <>
        <h1>Demo callback</h1>
        <p>
          This is the demo client's redirect URI. It shows the <code>code</code> that the gateway
          sends back after you sign in and allow access; nothing has arrived here yet.
        </p>
        {startAgain}
      </>,
      { wide: true },
    )
  }

  const { verifier } = await demoPkce(config.mockSeed)
  const command = exchangeCommand({
    issuer: config.issuer,
    clientSecret: await demoClientSecret(config.mockSeed),
    code,
    verifier,
  })
  return renderPage(
    c,
    'Authorization code received',
    <>
      <h1>Authorization code received</h1>
      {issWarning}
      {responseTable}
      <h2>Exchange it for tokens</h2>
      <p>
        The code works once and for 60 seconds. Run this in a terminal; the answer holds the access
        and refresh tokens.
      </p>
      <pre style={PRE_STYLE}>{command}</pre>
      {state !== DEMO_STATE ? (
        <p class="muted">
          The state is not the banner's <code>{DEMO_STATE}</code>: if you started the flow with your
          own PKCE pair, put your <code>code_verifier</code> in the command instead.
        </p>
      ) : null}
      <p class="muted">
        Then call the data API, e.g.{' '}
        <code>{`curl -H "Authorization: Bearer <access_token>" ${config.issuer}/v1/user`}</code>
      </p>
      {startAgain}
    </>,
    { wide: true },
  )
})
