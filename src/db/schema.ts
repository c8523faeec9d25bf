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
 * notifier turns them into per-client deliveries and deletes them (src/notify/outbox-dispatch.ts).
 * `change` is what happened to the record; lifecycle events (`access_revoked`,
 * `permission_change`) are `change: 'event'`, carry their `type`, the one client they are for and
 * a JSON `payload` snapshot (the user may be gone by the time the event is sent). No foreign keys:
 * an event must survive the deletion of the user it is about.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: text('user_id').notNull(),
    type: text('type').notNull(),
    recordKey: text('record_key'),
    change: text('change', { enum: ['upsert', 'delete', 'event'] }).notNull(),
    /** The record's change sequence at the time (for coalescing and ordering). */
    seq: integer('seq'),
    /** Lifecycle events: the one client the event is for. */
    clientId: text('client_id'),
    /** Lifecycle events: a JSON snapshot of what the event says. */
    payload: text('payload'),
    /** A dispatcher's claim on the row (a token and a lease), so two never fan out one change. */
    claimToken: text('claim_token'),
    claimUntil: integer('claim_until'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('outbox_created').on(t.createdAt)],
)

export const DELIVERY_STATUSES = ['pending', 'delivering', 'succeeded', 'failed', 'held'] as const

/**
 * One webhook event to one client, from creation until it is delivered or given up on. The event
 * body is rendered when it is sent, from the current versions of the records in `record_keys`,
 * so `event_id` (the `webhook-id`) is stable while the content stays current.
 *
 * `pending` (due at `next_attempt_at`) → `delivering` (claimed: `lease_token` until
 * `lease_until`) → `succeeded` | `pending` again (retry scheduled) | `failed` (the schedule is
 * used up) | `held` (the client's webhook is disabled or has no URL; released when it is active
 * again). `attempts` counts every attempt; `retry_index` only the automatic ones, which drive the
 * backoff schedule (src/notify/policy.ts).
 */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: text('id').primaryKey(),
    /** The `webhook-id` header: the same on every attempt. */
    eventId: text('event_id').notNull().unique(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    /** No foreign key: `access_revoked` outlives the deleted user. */
    userId: text('user_id').notNull(),
    /** The event's `type`: sleep, activity, daily, deletion, access_revoked, permission_change. */
    type: text('type').notNull(),
    /** The record type of a data or `deletion` event. */
    dataType: text('data_type'),
    /**
     * The keys of the records a data or `deletion` event covers (at most 10), a JSON array: one
     * column rather than a row per record, which is what a delivery costs most to write.
     */
    recordKeys: text('record_keys', { mode: 'json' }).$type<string[]>(),
    /**
     * Deliveries to the same client that were in flight with an older rendering of one of these
     * records when this one was created (JSON array): it waits until they are done, so that the
     * newer version always arrives last.
     */
    afterIds: text('after_ids', { mode: 'json' }).$type<string[]>(),
    /** Lifecycle events: the JSON snapshot copied from the outbox. */
    payload: text('payload'),
    /** The outbox id it came from (the lowest, for a batch): creation order for claiming. */
    sourceSeq: integer('source_seq').notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    retryIndex: integer('retry_index').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at'),
    nextTrigger: text('next_trigger', { enum: ['auto', 'manual'] })
      .notNull()
      .default('auto'),
    leaseToken: text('lease_token'),
    leaseUntil: integer('lease_until'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    lastAttemptAt: integer('last_attempt_at'),
    deliveredAt: integer('delivered_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  // Partial indexes: a delivery enters and leaves them as its status changes, so most of the
  // rows (succeeded, the history) are in none of them, and an update touches few index pages.
  (t) => [
    // What to claim next, per client, in order.
    index('deliveries_due')
      .on(t.clientId, t.nextAttemptAt, t.sourceSeq)
      .where(sql`${t.status} = 'pending'`),
    // The open deliveries of one user's records: coalescing (`pending`, `held`) and ordering
    // (`delivering`) look them up by these.
    index('deliveries_open')
      .on(t.userId, t.dataType, t.clientId)
      .where(sql`${t.status} in ('pending', 'held', 'delivering')`),
    // The sweeper (expired leases, held deliveries) and recovery (failed since). Queries repeat
    // this condition word for word to use it (statusIs in src/notify/queries.ts).
    index('deliveries_state')
      .on(t.status, t.clientId)
      .where(sql`${t.status} in ('held', 'delivering', 'failed')`),
    index('deliveries_delivered').on(t.clientId, t.userId, t.deliveredAt),
    index('deliveries_created').on(t.createdAt, t.id),
  ],
)

/** Every attempt to deliver, oldest first: the operator's log. */
export const deliveryAttempts = sqliteTable(
  'delivery_attempts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    trigger: text('trigger', { enum: ['auto', 'manual'] }).notNull(),
    startedAt: integer('started_at').notNull(),
    durationMs: integer('duration_ms'),
    statusCode: integer('status_code'),
    /** The failure's class (timeout, connection_refused, redirect, http_5xx, …); null on success. */
    error: text('error'),
    responseExcerpt: text('response_excerpt'),
  },
  (t) => [index('delivery_attempts_delivery').on(t.deliveryId, t.number)],
)

/** Named monotonically increasing counters, bumped inside transactions (e.g. the record change sequence). */
export const counters = sqliteTable('counters', {
  name: text('name').primaryKey(),
  value: integer('value').notNull(),
})

/**
 * Data API rate-limit windows for runtimes with many isolates (Workers + D1): one row per key and
 * fixed window, bumped with an upsert, expired by the cron.
 */
export const rateLimitWindows = sqliteTable(
  'rate_limit_windows',
  {
    key: text('key').notNull(),
    windowStart: integer('window_start').notNull(),
    hits: integer('hits').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.key, t.windowStart] }),
    index('rate_limit_windows_start').on(t.windowStart),
  ],
)

/** Mock mode: faults armed for the next requests to a target (data, token, authorize). */
export const mockFaults = sqliteTable('mock_faults', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  target: text('target', { enum: ['data', 'token', 'authorize'] }).notNull(),
  /** `null`: stall only, then answer normally. */
  status: integer('status'),
  delayMs: integer('delay_ms').notNull(),
  retryAfter: integer('retry_after').notNull(),
  remaining: integer('remaining').notNull(),
  createdAt: integer('created_at').notNull(),
})
