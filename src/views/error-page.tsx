import type { Context } from 'hono'
import type { PageError } from '../http/errors.ts'
import { renderPage } from './layout.tsx'

/** A gateway error shown to a person, e.g. an unknown client or unregistered redirect_uri. */
export function renderErrorPage(c: Context, err: PageError) {
  return renderPage(
    c,
    err.title,
    <>
      <h1>{err.title}</h1>
      <p>{err.detail}</p>
      <p class="muted">Request id: {c.get('requestId') as string}</p>
    </>,
    { status: err.status, headers: err.headers },
  )
}
