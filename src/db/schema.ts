import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

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
  payloadMode: text('payload_mode', { enum: ['full', 'ping'] })
    .notNull()
    .default('full'),
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

export const DATA_TYPES = ['sleep', 'activity', 'daily'] as const

/**
 * Every sleep, activity and daily record, keyed per user by summary_id (sleep, activity) or local
 * date (daily). Each record's JSON is stored ready to send, with and without samples, so a pull
 * concatenates stored strings. `seq` orders changes for `updated_since`; a deletion leaves a
 * tombstone (bodies null, `deletedAt` set) so that feeds can report it.
 */
export const records = sqliteTable(
  'records',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    type: text('type', { enum: DATA_TYPES }).notNull(),
    key: text('key').notNull(),
    /** `metadata.start_time` as a UTC instant (ms): the range queries' column. */
    startMs: integer('start_ms').notNull(),
    /** The local calendar date of `metadata.start_time` in the user's zone. */
    localDay: text('local_day').notNull(),
    seq: integer('seq').notNull(),
    bodyFull: text('body_full'),
    bodyLite: text('body_lite'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    deletedAt: integer('deleted_at'),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.type, t.key] }),
    index('records_range').on(t.userId, t.type, t.startMs, t.key),
    index('records_changes').on(t.userId, t.type, t.seq),
  ],
)

/**
 * Changes waiting to be announced to clients, written in the same transaction as the data. The
 * notifier turns them into per-client deliveries. `change` is what happened to the record.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: text('user_id').notNull(),
    type: text('type').notNull(),
    recordKey: text('record_key'),
    change: text('change', { enum: ['upsert', 'delete'] }).notNull(),
    /** The record's change sequence at the time (for coalescing and ordering). */
    seq: integer('seq'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('outbox_created').on(t.createdAt)],
)

/** Named monotonically increasing counters, bumped inside transactions (e.g. the record change sequence). */
export const counters = sqliteTable('counters', {
  name: text('name').primaryKey(),
  value: integer('value').notNull(),
})
