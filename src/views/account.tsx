import type { Context } from 'hono'
import { renderPage } from './layout.tsx'

export interface ConnectedApp {
  grantId: string
  clientName: string
  scopes: string[]
  connectedAt: string
}

export function renderAccount(
  c: Context,
  view: { csrf: string; email: string; apps: ConnectedApp[]; notice?: string },
) {
  return renderPage(
    c,
    'Connected apps',
    <>
      <h1>Connected apps</h1>
      <p class="muted">Signed in as {view.email}.</p>
      {view.notice ? <p class="muted">{view.notice}</p> : null}
      {view.apps.length === 0 ? (
        <p>No apps can read your data.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>App</th>
              <th>Can read</th>
              <th>Since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {view.apps.map((app) => (
              <tr>
                <td>{app.clientName}</td>
                <td>{app.scopes.join(', ')}</td>
                <td>{app.connectedAt}</td>
                <td>
                  <form method="post" action="/account/disconnect">
                    <input type="hidden" name="csrf" value={view.csrf} />
                    <input type="hidden" name="grant_id" value={app.grantId} />
                    <button type="submit">Disconnect</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form method="post" action="/logout" class="actions">
        <input type="hidden" name="csrf" value={view.csrf} />
        <button type="submit">Sign out</button>
      </form>
    </>,
    { wide: true },
  )
}
