import { and, asc, eq, gt, isNotNull, isNull, lte, or } from 'drizzle-orm'
import { hashPassword, hashSecret, randomSecret } from '../crypto.ts'
import { atomic, type Db, type Statement } from '../db/index.ts'
import { clients, users, webhookSecrets } from '../db/schema.ts'
import type { Deps } from '../http/env.ts'

export type ClientRow = typeof clients.$inferSelect
export type UserRow = typeof users.$inferSelect

export interface NewClient {
  name: string
  redirectUris: string[]
  webhookUrl?: string | null
  signatureScheme?: 'terra' | 'standard'
  payloadMode?: 'full' | 'ping'
  /** Fixed id (mock mode's demo client); generated otherwise. */
  id?: string
  /** Fixed secret (mock mode's demo client); generated otherwise. */
  clientSecret?: string
  /** Fixed webhook secret (mock mode's demo client); generated otherwise in the scheme's format. */
  webhookSecret?: string
}

export type SignatureScheme = ClientRow['signatureScheme']
export type PayloadMode = ClientRow['payloadMode']
export type WebhookStatus = ClientRow['webhookStatus']

/** How long a rotated-out webhook secret keeps signing alongside the new one. */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000

/** A webhook signing secret in the format of the client's scheme (Standard Webhooks: whsec_ + base64). */
export function newWebhookSecret(scheme: 'terra' | 'standard'): string {
  if (scheme === 'standard') {
    const bytes = crypto.getRandomValues(new Uint8Array(32))
    return `whsec_${btoa(String.fromCharCode(...bytes))}`
  }
  return randomSecret('pgw_')
}

/** Registers a client; the returned secrets exist only in this answer (the client secret is stored hashed). */
export async function createClientRecord(deps: Deps, input: NewClient) {
  const now = deps.now()
  const clientSecret = input.clientSecret ?? randomSecret('pgs_')
  const scheme = input.signatureScheme ?? 'terra'
  const webhookSecret = input.webhookSecret ?? newWebhookSecret(scheme)
  const row: ClientRow = {
    id: input.id ?? crypto.randomUUID(),
    name: input.name,
    secretHash: await hashSecret(clientSecret),
    redirectUris: input.redirectUris,
    webhookUrl: input.webhookUrl ?? null,
    signatureScheme: scheme,
    payloadMode: input.payloadMode ?? 'full',
    webhookStatus: 'active',
    createdAt: now,
    updatedAt: now,
  }
  await atomic(deps.db, [
    deps.db.insert(clients).values(row),
    deps.db.insert(webhookSecrets).values({
      id: crypto.randomUUID(),
      clientId: row.id,
      secret: webhookSecret,
      createdAt: now,
      expiresAt: null,
    }),
  ])
  return { client: row, clientSecret, webhookSecret }
}

export interface NewUser {
  email: string
  password?: string | null
  timezone: string
  reference?: string | null
  displayName?: string | null
  id?: string
}

export async function createUserRecord(deps: Deps, input: NewUser): Promise<UserRow> {
  const row: UserRow = {
    id: input.id ?? crypto.randomUUID(),
    email: input.email.trim().toLowerCase(),
    passwordHash: input.password
      ? await hashPassword(input.password, deps.passwordIterations)
      : null,
    timezone: input.timezone,
    reference: input.reference ?? null,
    displayName: input.displayName ?? null,
    createdAt: deps.now(),
  }
  await deps.db.insert(users).values(row)
  return row
}

export async function findUserByEmail(deps: Deps, email: string): Promise<UserRow | undefined> {
  return deps.db.select().from(users).where(eq(users.email, email.trim().toLowerCase())).get()
}

export async function findUserById(deps: Deps, id: string): Promise<UserRow | undefined> {
  return deps.db.select().from(users).where(eq(users.id, id)).get()
}

export async function findClientById(deps: Deps, id: string): Promise<ClientRow | undefined> {
  return deps.db.select().from(clients).where(eq(clients.id, id)).get()
}

/** A position in the `(created_at, id)` order, for keyset pagination. */
export interface CreatedKey {
  createdAt: number
  id: string
}

/** Clients in registration order, `limit` of them after `after` (exclusive). */
export async function listClients(
  deps: Deps,
  options: { limit: number; after?: CreatedKey | undefined },
): Promise<ClientRow[]> {
  const { after } = options
  return deps.db
    .select()
    .from(clients)
    .where(
      after
        ? or(
            gt(clients.createdAt, after.createdAt),
            and(eq(clients.createdAt, after.createdAt), gt(clients.id, after.id)),
          )
        : undefined,
    )
    .orderBy(asc(clients.createdAt), asc(clients.id))
    .limit(options.limit)
    .all()
}

export interface ClientChanges {
  name?: string
  redirectUris?: string[]
  webhookUrl?: string | null
  signatureScheme?: SignatureScheme
  payloadMode?: PayloadMode
  webhookStatus?: WebhookStatus
}

/**
 * Applies a partial update. When the signature scheme changes, the webhook secrets are replaced
 * at once by one new secret in the new scheme's format (Standard Webhooks needs `whsec_` +
 * base64): the receiver has to switch its verifier anyway, an old-format secret cannot sign in
 * the new scheme, so there is no overlap window. The new secret is returned (shown once).
 * `undefined` if there is no such client.
 */
export async function updateClientRecord(
  deps: Deps,
  id: string,
  changes: ClientChanges,
): Promise<{ client: ClientRow; webhookSecret: string | null } | undefined> {
  const current = await findClientById(deps, id)
  if (!current) return undefined
  const now = deps.now()
  const set: Partial<ClientRow> = { updatedAt: now }
  if (changes.name !== undefined) set.name = changes.name
  if (changes.redirectUris !== undefined) set.redirectUris = changes.redirectUris
  if (changes.webhookUrl !== undefined) set.webhookUrl = changes.webhookUrl
  if (changes.signatureScheme !== undefined) set.signatureScheme = changes.signatureScheme
  if (changes.payloadMode !== undefined) set.payloadMode = changes.payloadMode
  if (changes.webhookStatus !== undefined) set.webhookStatus = changes.webhookStatus
  const statements: Statement[] = [deps.db.update(clients).set(set).where(eq(clients.id, id))]
  let webhookSecret: string | null = null
  if (
    changes.signatureScheme !== undefined &&
    changes.signatureScheme !== current.signatureScheme
  ) {
    webhookSecret = newWebhookSecret(changes.signatureScheme)
    statements.push(
      deps.db.delete(webhookSecrets).where(eq(webhookSecrets.clientId, id)),
      insertWebhookSecret(deps.db, id, webhookSecret, now),
    )
  }
  await atomic(deps.db, statements)
  return { client: { ...current, ...set }, webhookSecret }
}

/** A new client secret; the old one stops working at once. `undefined` if there is no such client. */
export async function rotateClientSecret(deps: Deps, id: string): Promise<string | undefined> {
  const clientSecret = randomSecret('pgs_')
  const updated = await deps.db
    .update(clients)
    .set({ secretHash: await hashSecret(clientSecret), updatedAt: deps.now() })
    .where(eq(clients.id, id))
    .returning({ id: clients.id })
    .all()
  return updated.length > 0 ? clientSecret : undefined
}

/**
 * A new webhook secret. The current one keeps signing for {@link WEBHOOK_SECRET_OVERLAP_MS} so
 * that the receiver can switch without losing events (the notifier signs with every live
 * secret); secrets already past their expiry are deleted. `undefined` if there is no such client.
 */
export async function rotateWebhookSecret(
  deps: Deps,
  id: string,
): Promise<{ webhookSecret: string; previousExpiresAt: number | null } | undefined> {
  const client = await findClientById(deps, id)
  if (!client) return undefined
  const now = deps.now()
  const current = await deps.db
    .select({ id: webhookSecrets.id })
    .from(webhookSecrets)
    .where(and(eq(webhookSecrets.clientId, id), isNull(webhookSecrets.expiresAt)))
    .all()
  const previousExpiresAt = current.length > 0 ? now + WEBHOOK_SECRET_OVERLAP_MS : null
  const webhookSecret = newWebhookSecret(client.signatureScheme)
  await atomic(deps.db, [
    deps.db
      .delete(webhookSecrets)
      .where(
        and(
          eq(webhookSecrets.clientId, id),
          isNotNull(webhookSecrets.expiresAt),
          lte(webhookSecrets.expiresAt, now),
        ),
      ),
    deps.db
      .update(webhookSecrets)
      .set({ expiresAt: now + WEBHOOK_SECRET_OVERLAP_MS })
      .where(and(eq(webhookSecrets.clientId, id), isNull(webhookSecrets.expiresAt))),
    insertWebhookSecret(deps.db, id, webhookSecret, now),
    deps.db.update(clients).set({ updatedAt: now }).where(eq(clients.id, id)),
  ])
  return { webhookSecret, previousExpiresAt }
}

function insertWebhookSecret(db: Db, clientId: string, secret: string, now: number): Statement {
  return db
    .insert(webhookSecrets)
    .values({ id: crypto.randomUUID(), clientId, secret, createdAt: now, expiresAt: null })
}

/** The secrets that sign a client's webhooks right now: the current one first, then those rotating out. */
export async function liveWebhookSecrets(deps: Deps, clientId: string): Promise<string[]> {
  const now = deps.now()
  const rows = await deps.db
    .select({ secret: webhookSecrets.secret, expiresAt: webhookSecrets.expiresAt })
    .from(webhookSecrets)
    .where(
      and(
        eq(webhookSecrets.clientId, clientId),
        or(isNull(webhookSecrets.expiresAt), gt(webhookSecrets.expiresAt, now)),
      ),
    )
    .all()
  const order = (expiresAt: number | null) => expiresAt ?? Number.POSITIVE_INFINITY
  return rows.sort((a, b) => order(b.expiresAt) - order(a.expiresAt)).map((r) => r.secret)
}

/**
 * Deletes a client; its grants, codes, tokens, pending authorization requests and webhook
 * secrets go with it (ON DELETE CASCADE). `false` if there was no such client.
 */
export async function deleteClientRecord(deps: Deps, id: string): Promise<boolean> {
  const deleted = await deps.db
    .delete(clients)
    .where(eq(clients.id, id))
    .returning({ id: clients.id })
    .all()
  return deleted.length > 0
}
