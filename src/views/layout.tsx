import type { Context } from 'hono'
import { raw } from 'hono/html'
import type { Child } from 'hono/jsx'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

const STYLE = `
:root { color-scheme: light; --accent: #1f6feb; --muted: #57606a; --border: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; background: #f6f8fa; color: #1f2328; }
main { max-width: 28rem; margin: 3rem auto; background: #fff; border: 1px solid var(--border); border-radius: 12px; padding: 2rem; }
main.wide { max-width: 44rem; }
h1 { font-size: 1.35rem; margin: 0 0 1rem; }
p.muted, .muted { color: var(--muted); font-size: .9rem; }
label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
input[type=email], input[type=password] { width: 100%; padding: .55rem .7rem; border: 1px solid var(--border); border-radius: 6px; font: inherit; }
button { font: inherit; padding: .55rem 1.1rem; border-radius: 6px; border: 1px solid var(--border); background: #f6f8fa; cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
.error { background: #ffebe9; border: 1px solid #ff8182; border-radius: 6px; padding: .6rem .8rem; margin-bottom: 1rem; }
ul.scopes { list-style: none; padding: 0; margin: 1rem 0; }
ul.scopes li { border: 1px solid var(--border); border-radius: 8px; padding: .6rem .8rem; margin-bottom: .5rem; }
ul.scopes label { display: flex; gap: .6rem; align-items: flex-start; margin: 0; font-weight: normal; }
ul.scopes input { margin-top: .3rem; }
ul.scopes code { display: block; width: fit-content; margin-top: .2rem; }
ul.scopes strong { display: block; }
table { width: 100%; border-collapse: collapse; }
td, th { text-align: left; padding: .5rem; border-bottom: 1px solid var(--border); vertical-align: top; }
section.demo { margin-top: 2rem; border-top: 1px solid var(--border); padding-top: 1rem; }
section.demo h2 { font-size: 1rem; margin: 0 0 .25rem; }
section.demo form { margin: .4rem 0; }
section.demo button { width: 100%; text-align: left; }
code { font-size: .85em; background: #eff1f3; padding: .1em .3em; border-radius: 4px; }
`

/**
 * The security headers every HTML page carries: no framing (clickjacking on the consent screen),
 * no scripts, no caching of pages that hold CSRF tokens, and no Referer that could leak a code.
 */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

export function Layout(props: { title: string; wide?: boolean; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <style>{raw(STYLE)}</style>
      </head>
      <body>
        <main class={props.wide ? 'wide' : undefined}>{props.children}</main>
      </body>
    </html>
  )
}

/** Renders a full page with {@link PAGE_HEADERS}. */
export function renderPage(
  c: Context,
  title: string,
  body: Child,
  options: { status?: number; wide?: boolean; headers?: Record<string, string> } = {},
): Response | Promise<Response> {
  for (const [name, value] of Object.entries({ ...PAGE_HEADERS, ...options.headers })) {
    c.header(name, value)
  }
  c.status((options.status ?? 200) as ContentfulStatusCode)
  return c.html(
    <>
      {raw('<!doctype html>')}
      <Layout title={title} wide={options.wide ?? false}>
        {body}
      </Layout>
    </>,
  )
}
