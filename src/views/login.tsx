import type { Context } from 'hono'
import { renderPage } from './layout.tsx'

export interface LoginView {
  csrf: string
  tx: string | null
  email?: string
  error?: string
  clientName?: string
  /** Mock mode only: demo accounts offered for one-click sign-in. */
  demoUsers?: { email: string; displayName: string | null; password: string }[]
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
      {view.demoUsers && view.demoUsers.length > 0 ? (
        <section class="demo">
          <h2>Demo accounts (mock mode)</h2>
          <p class="muted">One click signs in; every demo account uses the same password.</p>
          {view.demoUsers.map((demo) => (
            <form method="post" action="/login">
              <input type="hidden" name="csrf" value={view.csrf} />
              {view.tx ? <input type="hidden" name="tx" value={view.tx} /> : null}
              <input type="hidden" name="email" value={demo.email} />
              <input type="hidden" name="password" value={demo.password} />
              <button type="submit">
                {demo.displayName ?? demo.email} <span class="muted">{demo.email}</span>
              </button>
            </form>
          ))}
        </section>
      ) : null}
    </>,
    { status: view.status ?? 200 },
  )
}
