import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FormAgent } from '../../src/kit/form-agent.ts'
import { addClient, addUser, createTestGateway, ISSUER, type TestGateway } from '../helpers/app.ts'
import {
  authorizationUrl,
  authorizeInBrowser,
  type OAuthFixture,
  oauthFixture,
} from '../helpers/oauth.ts'

let gw: TestGateway
let fx: OAuthFixture
beforeEach(async () => {
  gw = createTestGateway()
  fx = await oauthFixture(
    gw,
    () => addClient(gw),
    () => addUser(gw),
  )
})
afterEach(() => gw.close())

const agent = () => new FormAgent((url, init) => gw.fetch(url, init))
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] as string

async function signIn(a: FormAgent, email: string, password: string) {
  const page = await a.get(`${ISSUER}/login`)
  return a.submit(await page.text(), `${ISSUER}/login`, { email, password })
}

describe('sign-in', () => {
  it('redirects with 303 after a successful POST and rotates the session id', async () => {
    const a = agent()
    const page = await a.get(`${ISSUER}/login`)
    const before = page.headers.getSetCookie()[0]
    const response = await a.submit(await page.text(), `${ISSUER}/login`, {
      email: fx.user.email,
      password: fx.user.password,
    })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/account')
    const after = response.headers.getSetCookie()[0]
    expect(after?.split(';')[0]).not.toBe(before?.split(';')[0])
  })

  it('gives the same answer for an unknown email and a wrong password', async () => {
    const a = agent()
    const wrong = await signIn(a, fx.user.email, 'wrong password')
    const wrongBody = (await wrong.text()).replace(fx.user.email, 'EMAIL')
    const unknown = await signIn(a, 'nobody@example.test', 'wrong password')
    const unknownBody = (await unknown.text()).replace('nobody@example.test', 'EMAIL')
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(unknownBody).toBe(wrongBody)
    expect(wrongBody).toContain('Incorrect email or password.')
  })

  it('refuses a POST without the CSRF token', async () => {
    const a = agent()
    await a.get(`${ISSUER}/login`)
    const response = await a.request(`${ISSUER}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: fx.user.email, password: fx.user.password }),
    })
    expect(response.status).toBe(403)
    expect(await response.text()).toContain('This form has expired')
  })

  it("refuses a CSRF token from another browser's session", async () => {
    const attacker = agent()
    const attackerToken = csrfOf(await (await attacker.get(`${ISSUER}/login`)).text())
    const victim = agent()
    const page = await victim.get(`${ISSUER}/login`)
    const response = await victim.submit(await page.text(), `${ISSUER}/login`, {
      email: fx.user.email,
      password: fx.user.password,
      csrf: attackerToken,
    })
    expect(response.status).toBe(403)
  })

  it('refuses a POST with no session at all', async () => {
    const response = await gw.fetch(`${ISSUER}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: fx.user.email, password: fx.user.password, csrf: 'x' }),
    })
    expect(response.status).toBe(403)
  })

  it('locks an account for 15 minutes after 5 failures, even for the right password, with Retry-After', async () => {
    const a = agent()
    for (let i = 0; i < 5; i++) {
      expect((await signIn(a, fx.user.email, `wrong ${i}`)).status).toBe(401)
      gw.clock.advance(1000)
    }
    const locked = await signIn(a, fx.user.email, fx.user.password)
    expect(locked.status).toBe(429)
    // The first failure was 5 s ago: 15 min − 5 s remain.
    expect(locked.headers.get('retry-after')).toBe(String(15 * 60 - 5))
    // Other accounts are not affected.
    const other = await addUser(gw)
    expect((await signIn(agent(), other.email, other.password)).status).toBe(303)
    gw.clock.advance((15 * 60 - 5) * 1000)
    expect((await signIn(a, fx.user.email, fx.user.password)).status).toBe(303)
  })

  it('counts only failures: successes in between do not lock', async () => {
    for (let i = 0; i < 4; i++)
      expect((await signIn(agent(), fx.user.email, 'wrong')).status).toBe(401)
    for (let i = 0; i < 3; i++)
      expect((await signIn(agent(), fx.user.email, fx.user.password)).status).toBe(303)
    expect((await signIn(agent(), fx.user.email, fx.user.password)).status).toBe(303)
  })

  it('locks an address after 100 failures across accounts', async () => {
    for (let i = 0; i < 100; i++) {
      expect((await signIn(agent(), `nobody${i}@example.test`, 'wrong')).status).toBe(401)
    }
    const response = await signIn(agent(), fx.user.email, fx.user.password)
    expect(response.status).toBe(429)
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('keeps naming the client on the sign-in page after a failed attempt', async () => {
    const a = agent()
    const { url } = await authorizationUrl(fx.as, fx.client)
    const { response, url: at } = await a.follow(
      await a.get(url.toString()),
      url.toString(),
      ISSUER,
    )
    const html = await response.text()
    expect(html).toContain('Terra (test)')
    const failed = await a.submit(html, at, { email: fx.user.email, password: 'wrong' })
    expect(failed.status).toBe(401)
    expect(await failed.text()).toContain('to continue to <strong>Terra (test)</strong>')
  })

  it('treats email case-insensitively', async () => {
    expect((await signIn(agent(), fx.user.email.toUpperCase(), fx.user.password)).status).toBe(303)
  })

  it('refuses a wrong content type with a page, not a 500', async () => {
    const a = agent()
    await a.get(`${ISSUER}/login`)
    const response = await a.request(`${ISSUER}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(response.status).toBe(400)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
  })
})

describe('consent form CSRF', () => {
  it('refuses a consent POST whose token belongs to another session', async () => {
    const flowAgent = agent()
    await signIn(flowAgent, fx.user.email, fx.user.password)
    const { url } = await authorizationUrl(fx.as, fx.client)
    const consent = await flowAgent.get(url.toString())
    const html = await consent.text()
    const otherToken = csrfOf(await (await agent().get(`${ISSUER}/login`)).text())
    const response = await flowAgent.submit(
      html,
      url.toString(),
      { csrf: otherToken },
      {
        submit: { name: 'decision', value: 'allow' },
      },
    )
    expect(response.status).toBe(403)
    expect(response.headers.get('location')).toBeNull()
  })

  it('refuses to complete a transaction from another browser session', async () => {
    const a = agent()
    await signIn(a, fx.user.email, fx.user.password)
    const { url } = await authorizationUrl(fx.as, fx.client)
    const html = await (await a.get(url.toString())).text()
    const tx = /name="tx" value="([^"]+)"/.exec(html)?.[1] as string
    const b = agent()
    await signIn(b, fx.user.email, fx.user.password)
    const response = await b.get(`${ISSUER}/oauth/consent?tx=${tx}`)
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('This sign-in has expired')
  })
})

describe('HTML pages', () => {
  it.each(['/login', '/account'])('%s forbids framing and caching', async (path) => {
    const a = agent()
    if (path === '/account') await signIn(a, fx.user.email, fx.user.password)
    const response = await a.get(`${ISSUER}${path}`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(response.headers.get('x-frame-options')).toBe('DENY')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
  })

  it('the consent screen and error pages forbid framing too', async () => {
    const a = agent()
    await signIn(a, fx.user.email, fx.user.password)
    const { url } = await authorizationUrl(fx.as, fx.client)
    const consent = await a.get(url.toString())
    expect(await consent.text()).toContain('name="decision" value="allow"')
    expect(consent.headers.get('x-frame-options')).toBe('DENY')
    const error = await a.get(`${ISSUER}/oauth/authorize?client_id=nope`)
    expect(error.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
  })

  it('sets the session cookie HttpOnly and SameSite=Lax', async () => {
    const response = await agent().get(`${ISSUER}/login`)
    const cookie = response.headers.getSetCookie()[0] ?? ''
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Lax/)
  })
})

describe('account page', () => {
  it('lists connected apps; Disconnect revokes the grant and all its tokens', async () => {
    const tokens = await fx.connect()
    const a = tokens.flow.agent
    const page = await a.get(`${ISSUER}/account`)
    const html = await page.text()
    expect(html).toContain('Terra (test)')
    expect(html).toContain('sleep:read, activity:read, daily:read')
    const response = await a.submit(
      html,
      `${ISSUER}/account`,
      {},
      { formSelector: 'form[action="/account/disconnect"]' },
    )
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/account')
    expect(await fx.introspect(tokens.access_token)).toStrictEqual({ active: false })
    expect((await (await fx.refresh(tokens.refresh_token as string)).json()).error).toBe(
      'invalid_grant',
    )
    expect(await (await a.get(`${ISSUER}/account`)).text()).toContain('No apps can read your data.')
    // Consent is asked again after a disconnect.
    expect((await authorizeInBrowser(gw, fx.as, fx.client, fx.user, { agent: a })).sawConsent).toBe(
      true,
    )
  })

  it("cannot disconnect another user's grant", async () => {
    const victim = await fx.connect()
    const grantId = /name="grant_id" value="([^"]+)"/.exec(
      await (await victim.flow.agent.get(`${ISSUER}/account`)).text(),
    )?.[1] as string
    const other = await addUser(gw)
    const a = agent()
    await signIn(a, other.email, other.password)
    const html = await (await a.get(`${ISSUER}/account`)).text()
    const response = await a.request(`${ISSUER}/account/disconnect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrfOf(html), grant_id: grantId }),
    })
    expect(response.status).toBe(404)
    expect(await fx.introspect(victim.access_token)).toMatchObject({ active: true })
  })

  it('sends a signed-out browser to the login page', async () => {
    const response = await agent().get(`${ISSUER}/account`)
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('/login')
  })

  it('signs out with a CSRF-protected POST', async () => {
    const a = agent()
    await signIn(a, fx.user.email, fx.user.password)
    const html = await (await a.get(`${ISSUER}/account`)).text()
    const out = await a.submit(
      html,
      `${ISSUER}/account`,
      {},
      { formSelector: 'form[action="/logout"]' },
    )
    expect(out.status).toBe(303)
    expect((await a.get(`${ISSUER}/account`)).status).toBe(302)
  })
})
