import { type HTMLElement, parse } from 'node-html-parser'
import * as oauth from 'oauth4webapi'
import { FormAgent } from '../form-agent.ts'
import type { KitContext } from './context.ts'
import { excerpt, fail, pageSummary } from './util.ts'

/*
 * The browser half of the authorization code flow, driven over HTTP the way the contract
 * describes the pages: a login form with inputs `email` and `password`, a consent form with
 * `scope` checkboxes and `decision` buttons, every other field hidden and carried back unchanged.
 * Pages are recognised by their forms, not by their paths, so any deployment of the contract can
 * be driven.
 */

export interface BrowserResult {
  /** Where the gateway finally sent the browser: the redirect URI with the response. */
  callbackUrl: URL
  verifier: string
  state: string
  signedIn: boolean
  /** The scopes the consent screen offered, or `null` when it was skipped (consent remembered). */
  consentScopes: string[] | null
}

/** Builds an authorization request URL; `pkce: false` leaves the challenge out, `'plain'` uses it. */
export async function authorizationUrl(
  ctx: KitContext,
  options: { pkce?: true | false | 'plain' } = {},
): Promise<{ url: URL; verifier: string; state: string }> {
  const as = ctx.as ?? fail('no authorization server metadata')
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const url = new URL(as.authorization_endpoint ?? fail('no authorization_endpoint'))
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('client_id', ctx.options.clientId)
  url.searchParams.set('redirect_uri', ctx.options.redirectUri)
  url.searchParams.set('scope', ctx.scope)
  url.searchParams.set('state', state)
  const pkce = options.pkce ?? true
  if (pkce === true) {
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier))
    url.searchParams.set('code_challenge_method', 'S256')
  } else if (pkce === 'plain') {
    url.searchParams.set('code_challenge', verifier)
    url.searchParams.set('code_challenge_method', 'plain')
  }
  return { url, verifier, state }
}

/** Whether `url` is the registered redirect URI (same origin and path, its query included). */
export function isRedirectTarget(url: URL, redirectUri: string): boolean {
  const target = new URL(redirectUri)
  if (url.origin !== target.origin || url.pathname !== target.pathname) return false
  for (const [name, value] of target.searchParams) {
    if (!url.searchParams.getAll(name).includes(value)) return false
  }
  return true
}

export function newAgent(ctx: KitContext): FormAgent {
  return new FormAgent((url, init) => ctx.fetch(url, init))
}

/**
 * Follows the gateway's redirects from `response` until the browser is sent to the redirect URI.
 * Returns that URL, or the page the browser stopped on.
 */
export async function followRedirects(
  ctx: KitContext,
  agent: FormAgent,
  start: Response,
  startUrl: string,
): Promise<{ callback: URL } | { page: Response; url: string }> {
  let response = start
  let url = startUrl
  const issuerOrigin = new URL(ctx.options.issuer).origin
  for (let hops = 0; hops < 10; hops++) {
    const location = response.headers.get('location')
    if (response.status < 300 || response.status >= 400 || !location) return { page: response, url }
    const next = new URL(location, url)
    if (isRedirectTarget(next, ctx.options.redirectUri)) return { callback: next }
    if (next.origin !== issuerOrigin) {
      fail(`${url} redirected to ${next.href}, which is neither the gateway nor the redirect URI`)
    }
    url = next.toString()
    response = await agent.get(url)
  }
  fail(`more than 10 redirects, the last to ${url}`)
}

function formWith(root: HTMLElement, selector: string): HTMLElement | undefined {
  return root.querySelectorAll('form').find((form) => form.querySelector(selector) !== null)
}

/**
 * Runs the browser part of an authorization: GET the authorization URL, sign in if the login
 * form appears, allow on the consent screen if it appears, until the gateway redirects to the
 * redirect URI.
 */
export async function authorizeInBrowser(
  ctx: KitContext,
  agent: FormAgent,
  request: { url: URL; verifier: string; state: string },
): Promise<BrowserResult> {
  let step = await followRedirects(
    ctx,
    agent,
    await agent.get(request.url.toString()),
    request.url.toString(),
  )
  let signedIn = false
  let consentScopes: string[] | null = null
  for (let pages = 0; pages < 6; pages++) {
    if ('callback' in step) {
      return { callbackUrl: step.callback, ...request, signedIn, consentScopes }
    }
    const { page, url } = step
    const html = await page.text()
    if (page.status === 429) {
      fail(
        `${url} answered 429 (sign-in throttled; Retry-After: ${page.headers.get('retry-after') ?? 'none'}): ${pageSummary(html)}`,
      )
    }
    const root = parse(html)
    const login = formWith(root, 'input[name=password]')
    const consent = formWith(root, '[name=decision]')
    if (login?.querySelector('input[name=email]')) {
      if (signedIn)
        fail(`signing in as ${ctx.options.user} failed (${page.status}): ${pageSummary(html)}`)
      signedIn = true
      const next = await agent.submit(login.outerHTML, url, {
        email: ctx.options.user,
        password: ctx.options.password,
      })
      step = await followRedirects(ctx, agent, next, url)
    } else if (consent) {
      if (consentScopes !== null)
        fail(`the consent screen came back after Allow (${page.status}): ${pageSummary(html)}`)
      consentScopes = consent
        .querySelectorAll('input[name=scope]')
        .filter((input) => (input.getAttribute('type') ?? '').toLowerCase() === 'checkbox')
        .map((input) => input.getAttribute('value') ?? '')
      const requested = ctx.scope.split(' ').filter(Boolean)
      const missing = requested.filter((s) => !consentScopes?.includes(s))
      if (missing.length > 0) {
        fail(
          `the consent screen has no scope checkbox for ${missing.join(', ')} (it offers ${consentScopes.join(', ') || 'none'})`,
        )
      }
      const allow = consent
        .querySelectorAll('[name=decision]')
        .some((button) => button.getAttribute('value') === 'allow')
      if (!allow) fail('the consent form has no decision=allow button')
      const next = await agent.submit(
        consent.outerHTML,
        url,
        {},
        { submit: { name: 'decision', value: 'allow' } },
      )
      step = await followRedirects(ctx, agent, next, url)
    } else if (page.status !== 200) {
      fail(`${url} answered ${page.status}: ${pageSummary(html)}`)
    } else {
      fail(
        `${url} is neither a login form (email, password) nor a consent form (decision): ${excerpt(pageSummary(html))}`,
      )
    }
  }
  fail('no redirect to the redirect URI after 6 pages')
}
