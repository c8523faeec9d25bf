import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as oauth from 'oauth4webapi'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addClient, addUser, type TestClient } from '../helpers/app.ts'
import {
  type ClientApp,
  type RunningGateway,
  startClientApp,
  startGatewayServer,
} from '../helpers/server.ts'

/*
 * The login and consent pages in a real headless Chromium (Debian's package), against the gateway
 * on a real HTTP server, with the OAuth client's web app on another port of 127.0.0.1.
 */

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SKIP = process.env.SKIP_BROWSER_TESTS === '1'
/** The flags a closed network needs: without them Chromium keeps dialling Google's hosts. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))
const ALL_SCOPES = 'sleep:read activity:read daily:read profile:read'
const CLIENT_NAME = 'Terra & Friends (browser test)'

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}

describe.skipIf(SKIP)('the login and consent pages in headless Chromium', () => {
  let browser: Browser
  let server: RunningGateway
  let clientApp: ClientApp
  let client: TestClient
  let as: oauth.AuthorizationServer
  const httpOptions = { [oauth.allowInsecureRequests]: true }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM_PATH}, so the browser tests cannot run. ` +
          "Install Debian's package (apt-get install -y chromium; .ci/run does it), set CHROMIUM_PATH " +
          'to another Chromium binary, or set SKIP_BROWSER_TESTS=1 to skip these tests.',
      )
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
    })
    server = await startGatewayServer()
    clientApp = await startClientApp({
      // A page of the client's origin that tries to frame a gateway page next to one of its own.
      '/frame': (url) => `<!doctype html><title>framing</title>
        <iframe id="target" src="${escapeHtml(url.searchParams.get('src') ?? '')}"></iframe>
        <iframe id="control" src="/own-page"></iframe>`,
    })
    client = await addClient(server.gw, {
      name: CLIENT_NAME,
      redirectUris: [`${clientApp.url}/callback`],
    })
    const issuer = new URL(server.url)
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...httpOptions }),
    )
  })

  afterAll(async () => {
    await browser?.close()
    await clientApp?.close()
    await server?.close()
  })

  /**
   * A fresh browser profile (no session cookie) and a fresh user (no grant yet, so the consent
   * screen shows) per test.
   */
  async function withContext(
    run: (
      page: Page,
      user: Awaited<ReturnType<typeof addUser>>,
      context: BrowserContext,
    ) => Promise<void>,
  ) {
    const context = await browser.newContext()
    try {
      await run(await context.newPage(), await addUser(server.gw), context)
    } finally {
      await context.close()
    }
  }

  async function authorizationUrl(scope = ALL_SCOPES) {
    const verifier = oauth.generateRandomCodeVerifier()
    const state = oauth.generateRandomState()
    const url = new URL(as.authorization_endpoint as string)
    url.search = new URLSearchParams({
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      response_type: 'code',
      scope,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString()
    return { url: url.toString(), verifier, state }
  }

  /** Clicks something that submits a form and waits for the page that answers it. */
  async function submit(page: Page, selector: string) {
    const loaded = page.waitForEvent('load')
    await page.click(selector)
    await loaded
  }

  async function signIn(page: Page, email: string, password: string) {
    await page.fill('input[name=email]', email)
    await page.fill('input[name=password]', password)
    await submit(page, 'button[type=submit]')
  }

  /** The consent screen's scope checkboxes, in page order. */
  function scopeCheckboxes(page: Page) {
    return page.$$eval('input[type=checkbox][name=scope]', (inputs) =>
      inputs.map((input) => ({
        value: (input as HTMLInputElement).value,
        checked: (input as HTMLInputElement).checked,
        label: input.closest('label')?.textContent?.replace(/\s+/g, ' ').trim() ?? '',
      })),
    )
  }

  function callbackParams(page: Page): Record<string, string> {
    return Object.fromEntries(new URL(page.url()).searchParams)
  }

  it('signs in, unticks a scope on the consent screen, and gets a token without it', async () => {
    await withContext(async (page, user) => {
      const { url, verifier, state } = await authorizationUrl()
      await page.goto(url)
      expect(new URL(page.url()).pathname).toBe('/login')
      await signIn(page, user.email, user.password)

      expect(new URL(page.url()).pathname).toBe('/oauth/consent')
      expect(await page.textContent('#client-name')).toBe(CLIENT_NAME)
      expect(await page.title()).toBe(`Allow ${CLIENT_NAME}?`)
      const boxes = await scopeCheckboxes(page)
      expect(boxes.map(({ value, checked }) => ({ value, checked }))).toStrictEqual([
        { value: 'sleep:read', checked: true },
        { value: 'activity:read', checked: true },
        { value: 'daily:read', checked: true },
        { value: 'profile:read', checked: true },
      ])
      for (const box of boxes) expect(box.label).toContain(box.value)

      await page.uncheck('input[name=scope][value="activity:read"]')
      expect(await page.isChecked('input[name=scope][value="activity:read"]')).toBe(false)
      expect(
        (await scopeCheckboxes(page)).filter((b) => b.checked).map((b) => b.value),
      ).toStrictEqual(['sleep:read', 'daily:read', 'profile:read'])
      mkdirSync(ARTIFACTS, { recursive: true })
      await page.screenshot({ path: `${ARTIFACTS}consent.png`, fullPage: true })

      await submit(page, 'button[name=decision][value=allow]')
      const landed = new URL(page.url())
      expect(`${landed.origin}${landed.pathname}`).toBe(client.redirectUri)
      expect(await page.textContent('body')).toBe('ok')
      expect(Object.keys(callbackParams(page)).sort()).toStrictEqual(['code', 'iss', 'state'])
      expect(callbackParams(page)).toMatchObject({ iss: server.url, state })

      const oClient: oauth.Client = { client_id: client.clientId }
      const params = oauth.validateAuthResponse(as, oClient, landed, state)
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        oClient,
        oauth.ClientSecretBasic(client.clientSecret),
        params,
        client.redirectUri,
        verifier,
        httpOptions,
      )
      const tokens = await oauth.processAuthorizationCodeResponse(as, oClient, response)
      expect(tokens.scope).toBe('sleep:read daily:read profile:read')
      expect(tokens.user_id).toBe(user.userId)
    })
  })

  it('sends the browser back with access_denied, state and iss when the user denies', async () => {
    await withContext(async (page, user) => {
      const { url, state } = await authorizationUrl('sleep:read daily:read')
      await page.goto(url)
      await signIn(page, user.email, user.password)
      expect(new URL(page.url()).pathname).toBe('/oauth/consent')

      await submit(page, 'button[name=decision][value=deny]')
      const landed = new URL(page.url())
      expect(`${landed.origin}${landed.pathname}`).toBe(client.redirectUri)
      expect(callbackParams(page)).toStrictEqual({
        error: 'access_denied',
        error_description: 'The user denied the request.',
        state,
        iss: server.url,
      })
      expect(() =>
        oauth.validateAuthResponse(as, { client_id: client.clientId }, landed, state),
      ).toThrow(oauth.AuthorizationResponseError)
    })
  })

  /** Loads a client-origin page that frames `target`, and checks that Chromium refused it. */
  async function expectFramingRefused(page: Page, target: string) {
    const targetResponse = page.waitForResponse((r) => r.url() === target)
    const refusals: string[] = []
    const onConsole = (message: { text(): string }) => {
      if (message.text().includes('frame-ancestors')) refusals.push(message.text())
    }
    page.on('console', onConsole)
    await page.goto(`${clientApp.url}/frame?src=${encodeURIComponent(target)}`)
    const response = await targetResponse
    page.off('console', onConsole)

    expect(response.status()).toBe(200)
    expect(response.headers()['x-frame-options']).toBe('DENY')
    expect(response.headers()['content-security-policy']).toContain("frame-ancestors 'none'")
    // The harness can tell a framed page from a refused one: the client's own page renders.
    const control = await (await page.$('#control'))?.contentFrame()
    expect(await control?.textContent('body')).toBe('ok')
    // Chromium replaced the gateway's page with its own error page: none of the form is there.
    const framed = await (await page.$('#target'))?.contentFrame()
    expect(framed).toBeTruthy()
    expect(framed?.url()).not.toBe(target)
    expect(await framed?.$$('form, input')).toStrictEqual([])
    expect(refusals.join('\n')).toMatch(
      /violates .*"frame-ancestors 'none'"\. The request has been blocked/,
    )
  }

  it('refuses to be framed by another origin: login and consent pages', async () => {
    await withContext(async (page, user) => {
      // The session cookie is SameSite=Lax and both servers are on 127.0.0.1, i.e. the same site,
      // so the framed pages get the browser's session and would render in full if allowed.
      const { url } = await authorizationUrl()
      await page.goto(url)
      const loginUrl = page.url()
      expect(new URL(loginUrl).pathname).toBe('/login')
      await expectFramingRefused(page, loginUrl)

      await page.goto(loginUrl)
      await signIn(page, user.email, user.password)
      const consentUrl = page.url()
      expect(new URL(consentUrl).pathname).toBe('/oauth/consent')
      await expectFramingRefused(page, consentUrl)
    })
  })

  it('shows the same error for a wrong password and an unknown email, then signs in', async () => {
    await withContext(async (page, user) => {
      const { url } = await authorizationUrl('sleep:read')
      await page.goto(url)
      const loginUrl = page.url()

      const attempts: { status: number; alert: string | null; url: string }[] = []
      for (const [email, password] of [
        [user.email, 'not the password'],
        ['nobody@example.test', user.password],
      ] as const) {
        const posted = page.waitForResponse((r) => r.request().method() === 'POST')
        await signIn(page, email, password)
        attempts.push({
          status: (await posted).status(),
          alert: await page.textContent('[role=alert]'),
          url: page.url(),
        })
        // The page is the login form again, with the email kept and the password cleared.
        expect(await page.inputValue('input[name=email]')).toBe(email)
        expect(await page.inputValue('input[name=password]')).toBe('')
      }
      await page.screenshot({ path: `${ARTIFACTS}login-error.png`, fullPage: true })
      const expected = {
        status: 401,
        alert: 'Incorrect email or password.',
        url: `${server.url}/login`,
      }
      expect(attempts).toStrictEqual([expected, expected])

      // The pending authorization survived the failures.
      expect(loginUrl).toContain('/login?tx=')
      await signIn(page, user.email, user.password)
      expect(new URL(page.url()).pathname).toBe('/oauth/consent')
    })
  })

  // hono/jsx escapes text children: a doctype or stylesheet written as a string used to come out
  // as `&lt;!doctype html&gt;` (quirks mode, the text on screen) and `&quot;Segoe UI&quot;`
  // (the whole `font` declaration dropped).
  it('renders the pages in standards mode, without a stray doctype text', async () => {
    await withContext(async (page) => {
      await page.goto(`${server.url}/login`)
      expect(await page.evaluate(() => document.compatMode)).toBe('CSS1Compat')
      expect(await page.textContent('body')).not.toContain('<!doctype')
    })
  })

  it('applies the whole stylesheet (font included)', async () => {
    await withContext(async (page) => {
      await page.goto(`${server.url}/login`)
      expect(await page.evaluate(() => getComputedStyle(document.body).fontFamily)).toContain(
        'system-ui',
      )
    })
  })
})
