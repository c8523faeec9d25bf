import { eq } from 'drizzle-orm'
import { hashPassword, hashSecret, randomSecret } from '../crypto.ts'
import { atomic } from '../db/index.ts'
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
}

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
  const webhookSecret = newWebhookSecret(scheme)
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
    deps.db
      .insert(webhookSecrets)
      .values({ id: crypto.randomUUID(), clientId: row.id, secret: webhookSecret, createdAt: now, expiresAt: null }),
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
    passwordHash: input.password ? await hashPassword(input.password, deps.passwordIterations) : null,
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
