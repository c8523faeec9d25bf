import { parse } from 'node-html-parser'

/**
 * A minimal scripted browser for the gateway's HTML forms: keeps cookies, follows nothing by
 * itself, and fills forms the way the contract describes them (named inputs, hidden fields carried
 * back unchanged). Used by the conformance kit and the tests.
 */
export class FormAgent {
  private readonly cookies = new Map<string, string>()

  constructor(private readonly fetchImpl: (url: string, init?: RequestInit) => Promise<Response>) {}

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    }
    const response = await this.fetchImpl(url, { ...init, headers, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const eq = pair?.indexOf('=') ?? -1
      if (!pair || eq < 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))
      if (expired || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return response
  }

  get(url: string): Promise<Response> {
    return this.request(url)
  }

  /** Follows redirects on the same origin as `origin`; stops at the first one that leaves it. */
  async follow(
    response: Response,
    base: string,
    origin: string,
  ): Promise<{ response: Response; url: string }> {
    let current = response
    let url = base
    for (let hops = 0; hops < 10; hops++) {
      const location = current.headers.get('location')
      if (current.status < 300 || current.status >= 400 || !location)
        return { response: current, url }
      url = new URL(location, url).toString()
      if (new URL(url).origin !== new URL(origin).origin) return { response: current, url }
      current = await this.get(url)
    }
    throw new Error(`too many redirects from ${base}`)
  }

  /** Submits the first form of an HTML page, with `values` overriding (or adding) fields. */
  async submit(
    html: string,
    pageUrl: string,
    values: Record<string, string | string[]>,
    options: { submit?: { name: string; value: string }; formSelector?: string } = {},
  ): Promise<Response> {
    const root = parse(html)
    const form = root.querySelector(options.formSelector ?? 'form')
    if (!form) throw new Error(`no form on ${pageUrl}`)
    const fields = new URLSearchParams()
    const overridden = new Set(Object.keys(values))
    for (const input of form.querySelectorAll('input')) {
      const name = input.getAttribute('name')
      const type = (input.getAttribute('type') ?? 'text').toLowerCase()
      if (!name || overridden.has(name)) continue
      if ((type === 'checkbox' || type === 'radio') && !input.hasAttribute('checked')) continue
      fields.append(name, input.getAttribute('value') ?? (type === 'checkbox' ? 'on' : ''))
    }
    for (const [name, value] of Object.entries(values)) {
      for (const v of Array.isArray(value) ? value : [value]) fields.append(name, v)
    }
    if (options.submit) fields.append(options.submit.name, options.submit.value)
    const action = new URL(form.getAttribute('action') ?? pageUrl, pageUrl).toString()
    return this.request(action, {
      method: (form.getAttribute('method') ?? 'get').toUpperCase(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: fields.toString(),
    })
  }
}
