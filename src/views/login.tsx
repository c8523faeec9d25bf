import type { Context } from 'hono'
import { renderPage } from './layout.tsx'

export interface LoginView {
  csrf: string
  tx: string | null
  email?: string
  error?: string
  clientName?: string
  /** Mock mode only: demo accounts offered for one-click sign-in. */
  demoUsers?: { email: string; displayName: string | null }[]
  status?: number
}

export function renderLogin(c: Context, view: LoginView) {
  return renderPage(
    c,
    'Sign in',
    <>
      <h1>Sign in</h1>
      {view.clientName ? (
        <p class="muted">
          to continue to <strong>{view.clientName}</strong>
        </p>
      ) : null}
      {view.error ? (
        <p class="error" role="alert">
          {view.error}
        </p>
      ) : null}
      <form method="post" action="/login">
        <input type="hidden" name="csrf" value={view.csrf} />
        {view.tx ? <input type="hidden" name="tx" value={view.tx} /> : null}
        <label for="email">Email</label>
        <input
          id="email"
          type="email"
          name="email"
          value={view.email ?? ''}
          autocomplete="username"
          required
        />
        <label for="password">Password</label>
        <input
          id="password"
          type="password"
          name="password"
          autocomplete="current-password"
          required
        />
        <div class="actions">
          <button class="primary" type="submit">
            Sign in
          </button>
        </div>
      </form>
    </>,
    { status: view.status ?? 200 },
  )
}
