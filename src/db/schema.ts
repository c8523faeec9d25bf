import { sql } from 'drizzle-orm'
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/*
 * One schema for both runtimes (better-sqlite3 on Node, D1 on Workers). Instants are integer
 * milliseconds since the epoch; scopes are space-separated strings as on the wire (RFC 6749 §3.3).
 * Tokens, codes, sessions and client secrets are stored only as SHA-256 hashes.
 */

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  /** `null`: the account cannot sign in with a password (e.g. created for data only). */
  passwordHash: text('password_hash'),
  /** IANA time zone; date-only ranges are whole local days in it. */
  timezone: text('timezone').notNull(),
  reference: text('reference'),
  displayName: text('display_name'),
  createdAt: integer('created_at').notNull(),
})

export const clients = sqliteTable('clients', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  secretHash: text('secret_hash').notNull(),
  /** JSON array of exact redirect URIs. */
  redirectUris: text('redirect_uris', { mode: 'json' }).$type<string[]>().notNull(),
  webhookUrl: text('webhook_url'),
  signatureScheme: text('signature_scheme', { enum: ['terra', 'standard'] })
    .notNull()
    .default('terra'),
  payloadMode: text('payload_mode', { enum: ['full', 'ping'] }).notNull().default('full'),
  webhookStatus: text('webhook_status', { enum: ['active', 'disabled'] })
    .notNull()
    .default('active'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
})

/**
 * Webhook signing secrets. They sign outgoing events, so unlike client secrets they must be kept
 * usable; after a rotation the old one stays live until `expiresAt` (24 h).
 */
export const webhookSecrets = sqliteTable(
  'webhook_secrets',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    secret: text('secret').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at'),
  },
  (t) => [index('webhook_secrets_client').on(t.clientId)],
)

/** A user's standing consent for one client. At most one live grant per (user, client). */
export const grants = sqliteTable(
  'grants',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    scope: text('scope').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [
    uniqueIndex('grants_live_user_client')
      .on(t.userId, t.clientId)
      .where(sql`${t.revokedAt} is null`),
    index('grants_client').on(t.clientId),
  ],
)

export const authorizationCodes = sqliteTable(
  'authorization_codes',
  {
    id: text('id').primaryKey(),
    codeHash: text('code_hash').notNull().unique(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    grantId: text('grant_id')
      .notNull()
      .references(() => grants.id, { onDelete: 'cascade' }),
    redirectUri: text('redirect_uri').notNull(),
    scope: text('scope').notNull(),
    codeChallenge: text('code_challenge').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [index('authorization_codes_expires').on(t.expiresAt)],
)

/**
 * Access and refresh tokens. `familyId` is the authorization code they descend from, so a
 * replayed code or a revoked refresh token can take down everything issued from it.
 */
export const tokens = sqliteTable(
  'tokens',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['access', 'refresh'] }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    grantId: text('grant_id')
      .notNull()
      .references(() => grants.id, { onDelete: 'cascade' }),
    familyId: text('family_id').notNull(),
    /** The refresh token this one was issued in exchange for. */
    parentId: text('parent_id'),
    scope: text('scope').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    /** Refresh tokens: when it was first exchanged (the grace window counts from here). */
    rotatedAt: integer('rotated_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [
    index('tokens_family').on(t.familyId),
    index('tokens_grant').on(t.grantId),
    index('tokens_expires').on(t.expiresAt),
  ],
)

/** Browser sessions for the login, consent and account pages. */
export const sessions = sqliteTable(
  'sessions',
  {
    idHash: text('id_hash').primaryKey(),
    /** `null` until the browser signs in. */
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
    csrfToken: text('csrf_token').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_expires').on(t.expiresAt)],
)

/** An authorization request waiting for the user to sign in and consent, bound to one session. */
export const authorizationRequests = sqliteTable(
  'authorization_requests',
  {
    id: text('id').primaryKey(),
    sessionHash: text('session_hash').notNull(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    redirectUri: text('redirect_uri').notNull(),
    scope: text('scope').notNull(),
    state: text('state'),
    codeChallenge: text('code_challenge').notNull(),
    loginHint: text('login_hint'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('authorization_requests_expires').on(t.expiresAt)],
)

/** Failed sign-ins, for throttling per account and per address. Only failures are recorded. */
export const loginFailures = sqliteTable(
  'login_failures',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** `account:<email>` or `address:<ip>`. */
    key: text('key').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [index('login_failures_key_at').on(t.key, t.at)],
)

/** Small key/value facts about this installation (e.g. the mock mode's generated admin key). */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
})
