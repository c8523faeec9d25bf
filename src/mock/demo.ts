import { count, eq, isNull } from 'drizzle-orm'
import {
  createClientRecord,
  createUserRecord,
  findClientById,
  findUserByEmail,
  findUserById,
  liveWebhookSecrets,
} from '../admin/records.ts'
import { SCOPES } from '../config.ts'
import { base64url, hashSecret, pkceChallenge, randomSecret, sha256 } from '../crypto.ts'
import { addDays, localDay } from '../data/date-range.ts'
import { clients, records, settings } from '../db/schema.ts'
import type { Deps } from '../http/env.ts'
import { syncUser } from './sync.ts'

/*
 * Mock mode's fixed cast: one demo client (Terra) and a few demo users. Everything a script may
 * want to hard-code — the client secret, the user ids, the PKCE verifier — is derived from
 * MOCK_SEED, so a fresh database with the same seed always has the same values. These are
 * public by construction: mock mode only.
 */

export const DEMO_CLIENT_ID = 'demo-terra-client'
export const DEMO_CLIENT_NAME = 'Terra (demo)'
export const DEMO_PASSWORD = 'mockwear-demo'
/** The `state` of the banner's authorize URL. */
export const DEMO_STATE = 'demo'
/** The settings row that keeps mock mode's generated admin key across restarts. */
export const MOCK_ADMIN_KEY_SETTING = 'mock_admin_key'

export interface DemoUser {
  email: string
  displayName: string
  timezone: string
}

/** Time zones chosen to exercise local-day logic: DST, east of UTC+9, UTC+14, European DST. */
export const DEMO_USERS: readonly DemoUser[] = [
  { email: 'alice@mockwear.test', displayName: 'Alice Moreau', timezone: 'America/New_York' },
  { email: 'kenji@mockwear.test', displayName: 'Kenji Sato', timezone: 'Asia/Tokyo' },
  { email: 'tia@mockwear.test', displayName: 'Tia Kaiea', timezone: 'Pacific/Kiritimati' },
  { email: 'lena@mockwear.test', displayName: 'Lena Hoffmann', timezone: 'Europe/Berlin' },
]

async function derived(label: string, seed: number): Promise<string> {
  return base64url(await sha256(`partner-gateway ${label} ${seed}`))
}

/** The demo client's secret for a seed. */
export async function demoClientSecret(seed: number): Promise<string> {
  return `pgs_demo_${(await derived('demo client', seed)).slice(0, 32)}`
}

/** The demo client's webhook secret for a seed (terra scheme), so receivers in CI can hard-code it. */
export async function demoWebhookSecret(seed: number): Promise<string> {
  return `pgw_demo_${(await derived('demo webhook', seed)).slice(0, 32)}`
}

/** A demo user's id: a UUID (version 8, "custom", RFC 9562 §5.8) from a hash of seed and email. */
export async function demoUserId(seed: number, email: string): Promise<string> {
  const bytes = (await sha256(`partner-gateway demo user ${seed} ${email}`)).slice(0, 16)
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/**
 * The PKCE pair of the banner's authorize URL. A published verifier defeats PKCE's purpose, which
 * is fine for a demo whose client secret is printed too; real clients generate one per request.
 */
export async function demoPkce(seed: number): Promise<{ verifier: string; challenge: string }> {
  const verifier = `demo-verifier-${await derived('demo pkce', seed)}`
  return { verifier, challenge: await pkceChallenge(verifier) }
}

export function demoRedirectUris(issuer: string): string[] {
  return [`${issuer}/demo/callback`, 'http://localhost:3000/callback']
}

/** The authorize URL a newcomer can open: all scopes, PKCE with the demo verifier, back to /demo/callback. */
export async function demoAuthorizeUrl(issuer: string, seed: number): Promise<string> {
  const url = new URL(`${issuer}/oauth/authorize`)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('client_id', DEMO_CLIENT_ID)
  url.searchParams.set('redirect_uri', `${issuer}/demo/callback`)
  url.searchParams.set('scope', SCOPES.join(' '))
  url.searchParams.set('state', DEMO_STATE)
  url.searchParams.set('code_challenge', (await demoPkce(seed)).challenge)
  url.searchParams.set('code_challenge_method', 'S256')
  return url.toString()
}

/**
 * The admin key: `ADMIN_API_KEY` if set; otherwise the one generated on the first mock start and
 * kept in `settings`. It is put on `deps.config`, where the admin middleware reads it.
 */
export async function ensureAdminKey(
  deps: Deps,
): Promise<{ key: string; source: 'env' | 'generated' }> {
  if (deps.config.adminApiKey) return { key: deps.config.adminApiKey, source: 'env' }
  await deps.db
    .insert(settings)
    .values({ key: MOCK_ADMIN_KEY_SETTING, value: randomSecret('pgadm_') })
    .onConflictDoNothing()
  const row = await deps.db
    .select()
    .from(settings)
    .where(eq(settings.key, MOCK_ADMIN_KEY_SETTING))
    .get()
  if (!row) throw new Error('the mock admin key could not be stored')
  deps.config.adminApiKey = row.value
  return { key: row.value, source: 'generated' }
}

/**
 * Creates the demo client, or brings an existing one in line with this start's seed and issuer:
 * the seed's secret, and both demo redirect URIs (others added by hand are kept).
 */
export async function ensureDemoClient(
  deps: Deps,
): Promise<{ clientSecret: string; redirectUris: string[] }> {
  const seed = deps.config.mockSeed
  const clientSecret = await demoClientSecret(seed)
  const wanted = demoRedirectUris(deps.config.issuer)
  const existing = await findClientById(deps, DEMO_CLIENT_ID)
  if (!existing) {
    await createClientRecord(deps, {
      id: DEMO_CLIENT_ID,
      name: DEMO_CLIENT_NAME,
      redirectUris: wanted,
      clientSecret,
      webhookSecret: await demoWebhookSecret(seed),
    })
    return { clientSecret, redirectUris: wanted }
  }
  const redirectUris = [...wanted, ...existing.redirectUris.filter((u) => !wanted.includes(u))]
  const secretHash = await hashSecret(clientSecret)
  const changed =
    existing.secretHash !== secretHash ||
    JSON.stringify(existing.redirectUris) !== JSON.stringify(redirectUris)
  if (changed) {
    await deps.db
      .update(clients)
      .set({ secretHash, redirectUris, updatedAt: deps.now() })
      .where(eq(clients.id, DEMO_CLIENT_ID))
  }
  return { clientSecret, redirectUris }
}

/**
 * Creates the demo users that do not exist yet (matched by email). An existing account is left
 * alone, so a database first seeded with another MOCK_SEED keeps that seed's user ids.
 */
export async function ensureDemoUsers(deps: Deps): Promise<(DemoUser & { userId: string })[]> {
  const out: (DemoUser & { userId: string })[] = []
  for (const demo of DEMO_USERS) {
    const existing = await findUserByEmail(deps, demo.email)
    const user =
      existing ??
      (await createUserRecord(deps, {
        id: await demoUserId(deps.config.mockSeed, demo.email),
        email: demo.email,
        password: DEMO_PASSWORD,
        timezone: demo.timezone,
        displayName: demo.displayName,
      }))
    out.push({ ...demo, timezone: user.timezone, userId: user.id })
  }
  return out
}

/** Days of synthetic history the demo users get on first start. */
export const SEED_DAYS = 90

/** At most five years of history: the longest range the data API serves in one query. */
export const MAX_SEED_DAYS = 1826

export interface PrepareMockOptions {
  /**
   * Days of history per demo user on first start, today included (default {@link SEED_DAYS});
   * 0 seeds none. Seeding 90 days of four users takes seconds, which a test suite may not want.
   */
  days?: number | undefined
}

/**
 * On first start only (remembered in `settings`): `days` days of synthetic data up to now for
 * each demo user, through the real ingest path. Returns a note for the banner.
 */
async function seedDemoData(
  deps: Deps,
  users: { email: string; userId: string }[],
  onProgress: (line: string) => void,
  days: number,
): Promise<string> {
  if (!Number.isInteger(days) || days < 0 || days > MAX_SEED_DAYS) {
    throw new RangeError(`days must be a whole number from 0 to ${MAX_SEED_DAYS}, not ${days}`)
  }
  const done = await deps.db.select().from(settings).where(eq(settings.key, 'mock_seeded_at')).get()
  if (!done) {
    const now = deps.now()
    let records = 0
    for (const [i, demo] of users.entries()) {
      const user = await findUserById(deps, demo.userId)
      if (!user || days === 0) continue
      const fromDay = addDays(localDay(now, user.timezone), -(days - 1))
      records += (await syncUser(deps, user, now, fromDay)).received
      onProgress(
        `seeding demo data: ${i + 1}/${users.length} users, ${records} records (${days} days each)`,
      )
    }
    await deps.db
      .insert(settings)
      .values({ key: 'mock_seeded_at', value: new Date(now).toISOString() })
  }
  // The same words on every start, so the banner is stable for scripts that read it.
  const [stored] = await deps.db
    .select({ n: count() })
    .from(records)
    .where(isNull(records.deletedAt))
    .all()
  return ` — ${stored?.n ?? 0} records; POST /admin/v1/mock/sync adds more`
}

/**
 * Mock mode start-up: makes sure the admin key, the demo client and the demo users exist (safe to
 * run on every start) and returns the banner to print.
 */
export async function prepareMock(
  deps: Deps,
  onProgress: (line: string) => void = () => {},
  options: PrepareMockOptions = {},
): Promise<string> {
  const admin = await ensureAdminKey(deps)
  const client = await ensureDemoClient(deps)
  const users = await ensureDemoUsers(deps)
  const [webhookSecret] = await liveWebhookSecrets(deps, DEMO_CLIENT_ID)
  const seeded = await seedDemoData(deps, users, onProgress, options.days ?? SEED_DAYS)
  const { issuer, mockSeed } = deps.config
  const { verifier } = await demoPkce(mockSeed)
  const authorizeUrl = await demoAuthorizeUrl(issuer, mockSeed)
  const width = Math.max(...users.map((u) => u.email.length))
  const rule = '─'.repeat(72)
  return [
    rule,
    ` partner-gateway — mock provider (MOCK_SEED=${mockSeed})`,
    rule,
    `  Issuer         ${issuer}`,
    `  Metadata       ${issuer}/.well-known/oauth-authorization-server`,
    `  API docs       ${issuer}/docs`,
    `  Your account   ${issuer}/account`,
    '',
    '  Demo client (Terra)',
    `    client_id       ${DEMO_CLIENT_ID}`,
    `    client_secret   ${client.clientSecret}`,
    `    webhook secret  ${webhookSecret ?? '(none)'}`,
    ...client.redirectUris.map(
      (uri, i) => `    ${(i === 0 ? 'redirect_uris' : '').padEnd(16)}${uri}`,
    ),
    '',
    `  Demo users (password: ${DEMO_PASSWORD})${seeded}`,
    ...users.map((u) => `    ${u.email.padEnd(width)}  ${u.userId}  ${u.timezone}`),
    '',
    admin.source === 'generated'
      ? `  Admin API key  ${admin.key}`
      : '  Admin API key  (set by ADMIN_API_KEY)',
    `    curl -H "Authorization: Bearer ${admin.source === 'generated' ? admin.key : '$ADMIN_API_KEY'}" ${issuer}/admin/v1/users/${users[0]?.userId ?? ''}`,
    '',
    '  Try the flow: open this URL, sign in as a demo user and allow;',
    '  /demo/callback then shows the curl command that exchanges the code.',
    `    ${authorizeUrl}`,
    `    PKCE code_verifier  ${verifier}`,
    rule,
  ].join('\n')
}

/** What a prepared mock provider offers a script or a test, as values rather than banner text. */
export interface MockCast {
  adminKey: string
  client: { id: string; secret: string; webhookSecret: string; redirectUris: string[] }
  users: (DemoUser & { userId: string; password: string })[]
}

/**
 * Reads the demo cast of a database {@link prepareMock} has prepared (it writes nothing). The
 * client secret is derived from the seed: the database keeps only its hash.
 */
export async function describeMock(deps: Deps): Promise<MockCast> {
  const adminKey = deps.config.adminApiKey
  const client = await findClientById(deps, DEMO_CLIENT_ID)
  const [webhookSecret] = await liveWebhookSecrets(deps, DEMO_CLIENT_ID)
  if (!adminKey || !client || webhookSecret === undefined) {
    throw new Error('the mock provider is not prepared: run prepareMock first')
  }
  const users: MockCast['users'] = []
  for (const demo of DEMO_USERS) {
    const user = await findUserByEmail(deps, demo.email)
    if (user)
      users.push({ ...demo, timezone: user.timezone, userId: user.id, password: DEMO_PASSWORD })
  }
  return {
    adminKey,
    client: {
      id: DEMO_CLIENT_ID,
      secret: await demoClientSecret(deps.config.mockSeed),
      webhookSecret,
      redirectUris: client.redirectUris,
    },
    users,
  }
}
