import { eq } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { verifyTerraWebhookSignature } from 'terra-api'
import { vi } from 'vitest'
import type { NewClient } from '../../src/admin/records.ts'
import { schema } from '../../src/db/index.ts'
import type { FormAgent } from '../../src/kit/form-agent.ts'
import { createNotifier, type Notifier, type NotifierOptions } from '../../src/notify/worker.ts'
import { addClient, addUser, createTestGateway, type TestGateway } from '../helpers/app.ts'
import { type AuthorizeOptions, type OAuthFixture, oauthFixture } from '../helpers/oauth.ts'
import { type ReceivedRequest, type Receiver, startReceiver } from '../helpers/receiver.ts'
import { loadTerraSchemas, terraSchemasMissingMessage } from '../helpers/terra-schemas.ts'

/*
 * A gateway on an in-memory database with a test clock, a notifier driven by hand (`drain()`
 * sends everything due at the clock's time), a real receiver on 127.0.0.1, and one client
 * connected to one user through the real OAuth flow.
 */

export interface NotifyFixture {
  gw: TestGateway
  fx: OAuthFixture
  receiver: Receiver
  notifier: Notifier
  /** The client's current webhook secret. */
  secret: string
  userId: string
  /** The access token Terra got from the OAuth flow. */
  accessToken: string
  /** The user's browser (signed in) from the OAuth flow. */
  agent: FormAgent
  close(): Promise<void>
}

export async function notifyFixture(
  options: {
    client?: Partial<NewClient>
    connect?: AuthorizeOptions
    notifier?: NotifierOptions
    random?: () => number
    /** The provider's own id for the user (Terra's `reference_id`). */
    reference?: string
  } = {},
): Promise<NotifyFixture> {
  const receiver = await startReceiver()
  const gw = createTestGateway({ deps: { random: options.random ?? (() => 0.5) } })
  // A short timeout keeps the timeout tests quick; everything else is the production policy.
  const notifier = createNotifier(gw.deps, { timeoutMs: 300, ...options.notifier })
  const fx = await oauthFixture(
    gw,
    () => addClient(gw, { webhookUrl: receiver.url, ...options.client }),
    async () => {
      const user = await addUser(gw)
      if (options.reference !== undefined) {
        await gw.deps.db
          .update(schema.users)
          .set({ reference: options.reference })
          .where(eq(schema.users.id, user.userId))
      }
      return user
    },
  )
  const tokens = await fx.connect(options.connect ?? {})
  return {
    gw,
    fx,
    receiver,
    notifier,
    secret: fx.client.webhookSecret,
    userId: fx.user.userId,
    accessToken: tokens.access_token,
    agent: tokens.flow.agent,
    async close() {
      await notifier.stop()
      await receiver.close()
      gw.close()
    },
  }
}

/** Runs `check` with `Date.now()` at `atMs`: both verifiers check the timestamp against it. */
async function atTime<T>(atMs: number, check: () => Promise<T> | T): Promise<T> {
  vi.useFakeTimers({ toFake: ['Date'], now: atMs })
  try {
    return await check()
  } finally {
    vi.useRealTimers()
  }
}

/**
 * Whether Terra's own SDK accepts the request's `terra-signature` for `secret`, verifying at
 * `atMs` (the signature's timestamp is the gateway's injected clock, within SDK's 300 s tolerance).
 */
export async function terraVerifies(
  request: Pick<ReceivedRequest, 'body' | 'headers'>,
  secret: string,
  atMs: number,
): Promise<boolean> {
  const header = request.headers['terra-signature'] ?? ''
  return atTime(atMs, async () => {
    try {
      return await verifyTerraWebhookSignature(request.body, header, secret)
    } catch {
      return false
    }
  })
}

/** Whether the `standardwebhooks` package accepts the request for `secret` at `atMs`. */
export async function standardVerifies(
  request: Pick<ReceivedRequest, 'body' | 'headers'>,
  secret: string,
  atMs: number,
): Promise<boolean> {
  return atTime(atMs, () => {
    try {
      new Webhook(secret).verify(request.body, request.headers)
      return true
    } catch {
      return false
    }
  })
}

/** The parsed bodies the receiver got. */
export function bodies(receiver: Receiver): Record<string, unknown>[] {
  return receiver.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>)
}

const terra = loadTerraSchemas()
if (!terra) console.warn(terraSchemasMissingMessage())
/** Whether Terra's schemas are here (../shared/terra-schemas); tests that need them skip otherwise. */
export const haveTerraSchemas = terra !== null

/** Terra's schema errors for a value (empty when valid); [] when the schemas are absent. */
export function schemaErrors(name: string, value: unknown): string[] {
  return terra ? terra.validate(name, value).errors : []
}

/** The deliveries as rows, oldest first. */
export async function deliveryRows(gw: TestGateway) {
  return await gw.deps.db
    .select()
    .from(schema.deliveries)
    .orderBy(schema.deliveries.sourceSeq, schema.deliveries.createdAt)
    .all()
}

export async function attemptRows(gw: TestGateway, deliveryId: string) {
  return await gw.deps.db
    .select()
    .from(schema.deliveryAttempts)
    .where(eq(schema.deliveryAttempts.deliveryId, deliveryId))
    .orderBy(schema.deliveryAttempts.number, schema.deliveryAttempts.id)
    .all()
}

/** A record in an event's `data`, loosely typed for assertions. */
export type SentRecord = {
  metadata: { summary_id?: string; start_time: string }
  scores?: unknown
  heart_rate_data?: { summary?: unknown; detailed?: { hr_samples?: unknown[] } }
}

/** The records of a full-mode event body. */
export function dataOf(body: unknown): SentRecord[] {
  return (body as { data: SentRecord[] }).data
}
