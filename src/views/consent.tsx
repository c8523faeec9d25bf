import type { Context } from 'hono'
import { SCOPE_DESCRIPTIONS } from '../oauth/scopes.ts'
import { renderPage } from './layout.tsx'

export interface ConsentView {
  csrf: string
  tx: string
  clientName: string
  userEmail: string
  scopes: string[]
  error?: string
  status?: number
}

export function renderConsent(c: Context, view: ConsentView) {
  return renderPage(
    c,
    `Allow ${view.clientName}?`,
    <>
      <h1>
        Allow <span id="client-name">{view.clientName}</span> to access your data?
      </h1>
      <p class="muted">
        Signed in as {view.userEmail} (<a href="/account">not you?</a>). Untick anything you do not
        want to share.
      </p>
      {view.error ? (
        <p class="error" role="alert">
          {view.error}
        </p>
      ) : null}
      <form method="post" action="/oauth/consent">
        <input type="hidden" name="csrf" value={view.csrf} />
        <input type="hidden" name="tx" value={view.tx} />
        <ul class="scopes">
          {view.scopes.map((scope) => (
            <li>
              <label>
                <input type="checkbox" name="scope" value={scope} checked />
                <span>
                  <strong>{SCOPE_DESCRIPTIONS[scope]?.title ?? scope}</strong>
                  <span class="muted">
                    {SCOPE_DESCRIPTIONS[scope]?.detail ?? ''} <code>{scope}</code>
                  </span>
                </span>
              </label>
            </li>
          ))}
        </ul>
        <div class="actions">
          <button class="primary" type="submit" name="decision" value="allow">
            Allow
          </button>
          <button type="submit" name="decision" value="deny">
            Deny
          </button>
        </div>
      </form>
    </>,
    { status: view.status ?? 200 },
  )
}
