import { and, eq, inArray, isNotNull, isNull, lt, ne, or, sql } from 'drizzle-orm'
import packageJson from '../../package.json' with { type: 'json' }
import { atomic, type Db, type Statement } from '../db/index.ts'
import { clients, deliveries, deliveryAttempts } from '../db/schema.ts'
import type { Deps } from '../http/env.ts'
import { splitScope } from '../oauth/scopes.ts'
import { notePeerClock } from '../observe/peer-clock.ts'
import { type CompletedAttempt, recordAttemptsStatements } from './attempt-log.ts'
import {
  type DeliveryRow,
  dispatchOutbox,
  insertDeliveryStatements,
  newDeliveryRow,
} from './outbox-dispatch.ts'
import {
  fits,
  type LifecyclePayload,
  type RecordVersion,
  type Rendered,
  renderDeletionEvent,
  renderFullEvent,
  renderLifecycleEvent,
  renderPingEvent,
  terraUser,
} from './payload.ts'
import {
  classifyError,
  classifyStatus,
  type FailureClass,
  LEASE_MS,
  MAX_EVENT_BYTES,
  nextStep,
  parseRetryAfter,
  REQUEST_TIMEOUT_MS,
  RESPONSE_EXCERPT_BYTES,
  RETRY_SCHEDULE_MS,
} from './policy.ts'
import { notifierQueries, statusIs } from './queries.ts'
import { signatureHeaders } from './signing.ts'

/*
 * The delivery worker: claims due deliveries with a lease (a compare-and-set UPDATE … RETURNING,
 * so two workers never send one delivery at once), renders and signs each event, POSTs it,
 * records the attempt and schedules what follows in one atomic() write, guarded by the lease so
 * a worker that lost its claim changes nothing but the log. The sweeper takes back deliveries
 * whose worker died (expired leases) and keeps `held` in step with the clients' webhook status.
 *
 * Everything it knows is in the database; memory holds only what is in flight right now (a
 * crash between a receiver's answer and the write of the attempt means that event is sent
 * again: at-least-once). Runtime-agnostic: the Node entry drives it with timers (runner.ts),
 * Workers would from a cron trigger and waitUntil.
 *
 * Throughput: the claims, the renders' reads and the attempts' writes each serve a batch (the
 * sends that finish close together are recorded in one write), because on SQLite a commit costs
 * more than the rows it writes.
 */

export const USER_AGENT = `partner-gateway/${packageJson.version}`

/** Room left for the envelope (type, user, version) when deciding a record is too large. */
const ENVELOPE_ALLOWANCE = 64 * 1024

/** Completed attempts wait at most this long to be written together with others. */
const FLUSH_WINDOW_MS = 5

/** Deliveries to one endpoint in flight at once, per process. */
export const DEFAULT_CONCURRENCY = 8

export interface NotifierOptions {
  /** Per-endpoint concurrency cap (per webhook URL, in this process). */
  concurrency?: number
  /** Per-request timeout; the contract's 10 s by default. */
  timeoutMs?: number
  /** Claim lease; must exceed the timeout. */
  leaseMs?: number
  /** The retry schedule (tests and the benchmark compress it). */
  schedule?: readonly number[]
  maxEventBytes?: number
  /** A monotonic clock in ms for attempt durations. */
  elapsed?: () => number
}

export interface Notifier {
  /** Fans out new outbox rows and starts sending what is due; resolves once sends have started. */
  kick(): Promise<void>
  /**
   * Sends everything that is due at the current clock and waits for it, until a round claims
   * nothing more (retries scheduled later are left for later). For tests and scripts.
   */
  drain(): Promise<void>
  /** Takes back expired leases, holds or releases deliveries by client status, then kicks. */
  sweep(): Promise<void>
  /** When the earliest pending delivery of an active client is due; `null` if none is. */
  nextDueAt(): Promise<number | null>
  /** Stops claiming and waits for the sends in flight to be recorded. */
  stop(): Promise<void>
}

interface ClientTarget {
  id: string
  webhookUrl: string
  signatureScheme: 'terra' | 'standard'
  payloadMode: 'full' | 'ping'
}

interface Outcome {
  failure: FailureClass | null
  statusCode: number | null
  retryAfterMs: number | null
  excerpt: string | null
  startedAt: number
  durationMs: number
}

/** Reads at most `limit` bytes of a response body, then lets the rest go. */
async function readExcerpt(response: Response, limit = RESPONSE_EXCERPT_BYTES): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const parts: Uint8Array[] = []
  let total = 0
  try {
    while (total < limit) {
      const { done, value } = await reader.read()
      if (done) break
      parts.push(value)
      total += value.byteLength
    }
  } catch {
    // a body cut off (timeout, reset) still leaves what was read
  } finally {
    reader.cancel().catch(() => {})
  }
  const bytes = new Uint8Array(Math.min(total, limit))
  let offset = 0
  for (const part of parts) {
    if (offset >= bytes.length) break
    const take = part.subarray(0, bytes.length - offset)
    bytes.set(take, offset)
    offset += take.byteLength
  }
  return new TextDecoder().decode(bytes)
}

function errorText(err: unknown): string {
  const messages: string[] = []
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; depth++) {
    messages.push(e.message)
    e = e.cause
  }
  return (messages.join(': ') || String(err)).slice(0, RESPONSE_EXCERPT_BYTES)
}

export function createNotifier(deps: Deps, options: NotifierOptions = {}): Notifier {
  const { db } = deps
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS
  const leaseMs = options.leaseMs ?? LEASE_MS
  const schedule = options.schedule ?? RETRY_SCHEDULE_MS
  const maxEventBytes = options.maxEventBytes ?? MAX_EVENT_BYTES
  const elapsed = options.elapsed ?? (() => performance.now())
  const q = notifierQueries(db)

  const inFlight = new Map<string, number>()
  /** Work that drain() and stop() wait for: sends, and refills started from completions. */
  const work = new Set<Promise<void>>()
  const refillRequested = new Set<string>()
  let pumping: Promise<void> | null = null
  let again = false
  let stopped = false
  let claims = 0

  function track(promise: Promise<void>) {
    work.add(promise)
    void promise.finally(() => work.delete(promise))
  }

  async function dispatchAll(): Promise<void> {
    while ((await dispatchOutbox(db, deps.now())).outboxRows > 0) {
      if (stopped) return
    }
  }

  async function dueClients(): Promise<ClientTarget[]> {
    return (await q.dueClients.all({ now: deps.now() })) as ClientTarget[]
  }

  /**
   * Claims up to `n` due deliveries of one client, in order, skipping any that must wait for a
   * delivery still in flight with an older rendering of one of its records (`after_ids`, set at
   * fan-out): the newer version must not be overtaken. A compare-and-set: only rows still
   * `pending` are taken, so two workers never claim the same delivery.
   */
  async function claim(client: ClientTarget, n: number): Promise<DeliveryRow[]> {
    const now = deps.now()
    const claimed = (await q.claim.all({
      clientId: client.id,
      now,
      limit: n,
      token: crypto.randomUUID(),
      leaseUntil: now + leaseMs,
    })) as DeliveryRow[]
    claims += claimed.length
    return claimed.sort((a, b) => a.sourceSeq - b.sourceSeq)
  }

  /** What each claimed delivery should send, read in a few queries for the whole batch. */
  async function render(
    client: ClientTarget,
    batch: DeliveryRow[],
  ): Promise<Map<string, Rendered>> {
    const out = new Map<string, Rendered>()
    const userIds = JSON.stringify([...new Set(batch.map((d) => d.userId))])
    const grantOf = new Map<
      string,
      { scope: string; grantedAt: number; reference: string | null }
    >()
    const lastUpdate = new Map<string, number | null>()
    for (const r of await q.grants.all({ clientId: client.id, userIds })) {
      grantOf.set(r.userId, r)
      lastUpdate.set(r.userId, r.lastDelivered)
    }
    if (batch.some((d) => d.payload !== null)) {
      for (const r of await q.lastDelivered.all({ clientId: client.id, userIds })) {
        lastUpdate.set(r.userId, r.at)
      }
    }
    const versions = new Map<string, RecordVersion[]>()
    const ping = client.payloadMode === 'ping'
    const ids = JSON.stringify(batch.filter((d) => d.payload === null).map((d) => d.id))
    const add = (deliveryId: string, version: RecordVersion | null) => {
      const list = versions.get(deliveryId) ?? []
      if (version) list.push(version)
      versions.set(deliveryId, list)
    }
    // A record with no row at all went with its user (deleted): nothing to say about it.
    if (ping) {
      for (const r of await q.recordsPing.all({ ids })) {
        add(
          r.deliveryId,
          r.startMs === null
            ? null
            : {
                key: r.key,
                startMs: r.startMs,
                bodyFull: r.live ? '' : null,
                bodyLite: null,
                deleted: r.deletedAt !== null,
                startTime: r.startTime,
                endTime: r.endTime,
              },
        )
      }
    } else {
      const huge: [string, string, string][] = []
      const owner = new Map(batch.map((d) => [d.id, d]))
      for (const r of await q.recordsFull.all({ ids })) {
        add(
          r.deliveryId,
          r.startMs === null
            ? null
            : {
                key: r.key,
                startMs: r.startMs,
                bodyFull: r.bodyFull,
                bodyLite: null,
                deleted: r.deletedAt !== null,
              },
        )
        // Too large to go whole even alone: the renderer falls back to the body without samples.
        if (r.bodyFull !== null && !fits(r.bodyFull, maxEventBytes - ENVELOPE_ALLOWANCE)) {
          const d = owner.get(r.deliveryId) as DeliveryRow
          huge.push([d.userId, d.dataType as string, r.key])
        }
      }
      if (huge.length > 0) {
        const lite = new Map<string, string | null>()
        for (const r of await q.liteBodies.all({ records: JSON.stringify(huge) })) {
          lite.set(r.key, r.bodyLite)
        }
        for (const list of versions.values()) {
          for (const v of list) if (lite.has(v.key)) v.bodyLite = lite.get(v.key) ?? null
        }
      }
    }
    const provider = deps.config.providerSlug
    for (const d of batch) {
      try {
        const last = lastUpdate.get(d.userId) ?? null
        if (d.payload !== null) {
          const payload = JSON.parse(d.payload) as LifecyclePayload
          out.set(
            d.id,
            renderLifecycleEvent(d.type as 'access_revoked' | 'permission_change', payload, {
              userId: d.userId,
              provider,
              lastWebhookUpdate: last,
            }),
          )
          continue
        }
        const grant = grantOf.get(d.userId)
        const dataType = d.dataType as string
        if (!grant || !splitScope(grant.scope).some((s) => s === `${dataType}:read`)) {
          out.set(d.id, {
            kind: 'skip',
            reason: `the user no longer grants this client ${dataType}:read`,
          })
          continue
        }
        const user = terraUser({
          userId: d.userId,
          provider,
          reference: grant.reference,
          scope: grant.scope,
          grantedAt: grant.grantedAt,
          lastWebhookUpdate: last,
          active: true,
        })
        const list = versions.get(d.id) ?? []
        if (d.type === 'deletion') out.set(d.id, renderDeletionEvent(dataType, user, list))
        else if (ping) out.set(d.id, renderPingEvent(d.type, user, list))
        else out.set(d.id, renderFullEvent(d.type, user, list, maxEventBytes))
      } catch (err) {
        deps.log('error', {
          msg: 'webhook render failed',
          delivery_id: d.id,
          error: errorText(err),
        })
      }
    }
    return out
  }

  /** The client's live webhook secrets, the current one first, then those rotating out. */
  async function secretsOf(clientId: string): Promise<string[]> {
    const rows = await q.secrets.all({ clientId, now: deps.now() })
    const order = (expiresAt: number | null) => expiresAt ?? Number.POSITIVE_INFINITY
    return rows.sort((a, b) => order(b.expiresAt) - order(a.expiresAt)).map((r) => r.secret)
  }

  async function post(client: ClientTarget, d: DeliveryRow, body: string, secrets: string[]) {
    const startedAt = deps.now()
    const t0 = elapsed()
    const result: Outcome = {
      failure: null,
      statusCode: null,
      retryAfterMs: null,
      excerpt: null,
      startedAt,
      durationMs: 0,
    }
    let peerDate: string | null = null
    try {
      const signed = await signatureHeaders(
        client.signatureScheme,
        d.eventId,
        body,
        secrets,
        startedAt,
      )
      const response = await deps.fetch(client.webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': d.eventId,
          'user-agent': USER_AGENT,
          ...signed,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
      result.statusCode = response.status
      result.failure = classifyStatus(response.status)
      result.retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), deps.now())
      result.excerpt = await readExcerpt(response)
      peerDate = response.headers.get('date')
    } catch (err) {
      result.failure = classifyError(err)
      result.excerpt = errorText(err)
    }
    result.durationMs = Math.max(0, Math.round(elapsed() - t0))
    // The receiver's Date header against our clock, which signed the request (at most one write
    // a minute; see peer-clock.ts). A failure to note it never affects the delivery.
    await notePeerClock(db, {
      url: client.webhookUrl,
      dateHeader: peerDate,
      sentAt: startedAt,
      receivedAt: deps.now(),
    }).catch((err) =>
      deps.log('warn', { msg: 'could not record the receiver clock', error: errorText(err) }),
    )
    return result
  }

  /**
   * The attempt and what follows it (recorded in bulk with other attempts, see attempt-log.ts),
   * plus the rare extra writes: a 410 disables the client's webhook, and records that did not
   * fit in the event move to a delivery of their own.
   */
  function completion(d: DeliveryRow, outcome: Outcome, spill: string[]) {
    const now = deps.now()
    const step = nextStep({
      outcome,
      trigger: d.nextTrigger,
      retryIndex: d.retryIndex,
      now,
      random: deps.random,
      schedule,
    })
    const attempt: CompletedAttempt = {
      deliveryId: d.id,
      leaseToken: d.leaseToken as string,
      number: d.attempts,
      trigger: d.nextTrigger,
      startedAt: outcome.startedAt,
      durationMs: outcome.durationMs,
      statusCode: outcome.statusCode,
      error: outcome.failure,
      responseExcerpt: outcome.excerpt,
      status: step.status,
      retryIndex: step.retryIndex,
      nextAttemptAt: step.status === 'pending' ? step.nextAttemptAt : null,
      deliveredAt: outcome.failure === null ? outcome.startedAt : null,
    }
    const extra: Statement[] = []
    if (step.status === 'held') {
      // 410 Gone: the receiver says the endpoint is gone. Disable the webhook and hold every
      // delivery for the client until an operator re-enables it.
      extra.push(
        db
          .update(clients)
          .set({ webhookStatus: 'disabled', updatedAt: now })
          .where(eq(clients.id, d.clientId)),
        db
          .update(deliveries)
          .set({ status: 'held', nextAttemptAt: null, updatedAt: now })
          .where(and(eq(deliveries.clientId, d.clientId), statusIs('pending'))),
      )
    }
    if (spill.length > 0) {
      const rest = newDeliveryRow({
        clientId: d.clientId,
        userId: d.userId,
        type: d.type,
        dataType: d.dataType,
        recordKeys: spill,
        payload: null,
        sourceSeq: d.sourceSeq,
        held: false,
        now,
        createdAt: d.createdAt,
      })
      const kept = (d.recordKeys ?? []).filter((key) => !spill.includes(key))
      extra.push(
        ...insertDeliveryStatements(db, [rest]),
        db.update(deliveries).set({ recordKeys: kept }).where(eq(deliveries.id, d.id)),
      )
    }
    return { attempt, extra }
  }

  /*
   * Completions are written in small groups: every attempt that finishes within one turn of the
   * event loop goes into the same atomic() write (one transaction instead of one per attempt).
   * Each delivery's own statements stay in order — the attempt first, then what follows it.
   */
  type Completion = ReturnType<typeof completion>
  let toRecord: { completion: Completion; done: () => void; failed: (err: unknown) => void }[] = []
  let flushTimer: ReturnType<typeof setTimeout> | undefined
  const soon: (fn: () => void) => void =
    typeof setImmediate === 'function' ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0)

  /**
   * Queues an attempt for the next group write: at once when a group's worth is waiting, else
   * within {@link FLUSH_WINDOW_MS}.
   */
  function recordCompletion(c: Completion): Promise<void> {
    return new Promise((done, failed) => {
      toRecord.push({ completion: c, done, failed })
      if (toRecord.length >= 2 * concurrency) {
        clearTimeout(flushTimer)
        flushTimer = undefined
        void flushCompletions()
      } else if (flushTimer === undefined) {
        flushTimer = setTimeout(() => {
          flushTimer = undefined
          void flushCompletions()
        }, FLUSH_WINDOW_MS)
      }
    })
  }

  const statementsFor = (group: readonly Completion[]) => [
    ...recordAttemptsStatements(
      db,
      group.map((c) => c.attempt),
      deps.now(),
    ),
    ...group.flatMap((c) => c.extra),
  ]

  async function flushCompletions(): Promise<void> {
    const group = toRecord
    toRecord = []
    if (group.length === 0) return
    try {
      await atomic(db, statementsFor(group.map((c) => c.completion)))
      for (const c of group) c.done()
    } catch {
      // One bad write must not take the others along: record them one by one.
      for (const c of group) {
        try {
          await atomic(db, statementsFor([c.completion]))
          c.done()
        } catch (err) {
          c.failed(err)
        }
      }
    }
  }

  async function deliver(
    client: ClientTarget,
    d: DeliveryRow,
    rendered: Rendered | undefined,
    secrets: string[],
    release: () => void,
  ): Promise<void> {
    let outcome: Outcome
    let spill: string[] = []
    if (!rendered) {
      outcome = {
        failure: 'internal',
        statusCode: null,
        retryAfterMs: null,
        excerpt: 'the event could not be rendered (see the log)',
        startedAt: deps.now(),
        durationMs: 0,
      }
    } else if (rendered.kind === 'skip') {
      outcome = {
        failure: 'skipped',
        statusCode: null,
        retryAfterMs: null,
        excerpt: `not sent: ${rendered.reason}`,
        startedAt: deps.now(),
        durationMs: 0,
      }
    } else {
      for (const note of rendered.notes) {
        deps.log('warn', { msg: 'webhook payload', delivery_id: d.id, note })
      }
      spill = rendered.spill
      outcome = await post(client, d, rendered.body, secrets)
    }
    deps.metrics?.deliveryAttempt(outcome.failure ?? 'succeeded')
    // The endpoint's slot is free once the exchange is over; recording it follows in a group.
    release()
    await recordCompletion(completion(d, outcome, spill))
    if (outcome.failure !== null && outcome.failure !== 'skipped') {
      deps.log('info', {
        msg: 'webhook attempt failed',
        delivery_id: d.id,
        event_id: d.eventId,
        client_id: d.clientId,
        attempt: d.attempts,
        status_code: outcome.statusCode,
        error: outcome.failure,
        duration_ms: outcome.durationMs,
      })
    }
  }

  /** Claims as many of a client's due deliveries as its free slots allow, and sends them. */
  async function fill(client: ClientTarget): Promise<void> {
    if (stopped) return
    const slot = client.webhookUrl
    const free = concurrency - (inFlight.get(slot) ?? 0)
    if (free <= 0) return
    // Reserve the slots before awaiting, so a concurrent fill cannot take them too.
    inFlight.set(slot, (inFlight.get(slot) ?? 0) + free)
    let batch: DeliveryRow[] = []
    let rendered = new Map<string, Rendered>()
    let secrets: string[] = []
    try {
      batch = await claim(client, free)
      if (batch.length > 0) {
        secrets = await secretsOf(client.id)
        rendered = await render(client, batch)
      }
    } finally {
      inFlight.set(slot, (inFlight.get(slot) ?? 0) - (free - batch.length))
    }
    for (const d of batch) {
      let released = false
      const release = () => {
        if (released) return
        released = true
        inFlight.set(slot, (inFlight.get(slot) ?? 1) - 1)
        requestRefill(client)
      }
      track(
        deliver(client, d, rendered.get(d.id), secrets, release)
          .catch((err) => {
            // The attempt could not be recorded (database error): the lease runs out and the
            // sweeper takes the delivery back.
            deps.log('error', {
              msg: 'webhook completion failed',
              delivery_id: d.id,
              error: errorText(err),
            })
          })
          .finally(() => {
            release()
            // Deliveries that waited for this one (a shared record) may go now.
            requestRefill(client)
          }),
      )
    }
  }

  /** One refill per client per turn of the event loop, however many sends just finished. */
  function requestRefill(client: ClientTarget) {
    if (stopped || refillRequested.has(client.id)) return
    refillRequested.add(client.id)
    track(
      new Promise<void>((resolve) => {
        soon(() => {
          refillRequested.delete(client.id)
          fill(client).catch(logPumpError).finally(resolve)
        })
      }),
    )
  }

  function logPumpError(err: unknown) {
    deps.log('error', { msg: 'webhook worker failed', error: errorText(err) })
  }

  function pump(): Promise<void> {
    if (pumping) {
      again = true
      return pumping
    }
    pumping = (async () => {
      do {
        again = false
        await dispatchAll()
        if (stopped) return
        for (const client of await dueClients()) await fill(client)
      } while (again && !stopped)
    })().finally(() => {
      pumping = null
    })
    return pumping
  }

  async function sweep(): Promise<void> {
    const now = deps.now()
    const expired = and(statusIs('delivering'), lt(deliveries.leaseUntil, now))
    await atomic(db, [
      db.insert(deliveryAttempts).select(
        db
          .select({
            id: sql<number>`null`.as('id'),
            deliveryId: deliveries.id,
            number: deliveries.attempts,
            trigger: deliveries.nextTrigger,
            startedAt: sql<number>`${deliveries.leaseUntil} - ${leaseMs}`.as('started_at'),
            durationMs: sql<null>`null`.as('duration_ms'),
            statusCode: sql<null>`null`.as('status_code'),
            error: sql<string>`'interrupted'`.as('error'),
            responseExcerpt:
              sql<string>`'the worker stopped before recording an outcome; sending again'`.as(
                'response_excerpt',
              ),
          })
          .from(deliveries)
          .where(expired),
      ),
      db
        .update(deliveries)
        .set({
          status: 'pending',
          nextAttemptAt: now,
          leaseToken: null,
          leaseUntil: null,
          updatedAt: now,
        })
        .where(expired),
      ...syncHeldStatements(db, now),
    ])
    await pump()
  }

  async function nextDueAt(): Promise<number | null> {
    const row = await q.nextDue.get()
    return row?.at ?? null
  }

  return {
    kick: () => pump().catch(logPumpError),
    async drain() {
      for (;;) {
        const before = claims
        await pump()
        while (work.size > 0) await Promise.all([...work])
        if (pumping) await pumping
        if (claims === before && work.size === 0) return
      }
    },
    sweep,
    nextDueAt,
    async stop() {
      stopped = true
      if (pumping) await pumping.catch(() => {})
      while (work.size > 0) await Promise.all([...work])
    },
  }
}

/**
 * Keeps `held` in step with the clients: pending deliveries of a client that cannot receive
 * (webhook disabled, or no URL) are held; held deliveries of a client that can are due now.
 */
export function syncHeldStatements(db: Db, now: number, clientId?: string): Statement[] {
  const scope = clientId === undefined ? undefined : eq(deliveries.clientId, clientId)
  // Phrased as "client in (…)" so that each reads the partial indexes by client.
  const receiving = db
    .select({ id: clients.id })
    .from(clients)
    .where(and(eq(clients.webhookStatus, 'active'), isNotNull(clients.webhookUrl)))
  const notReceiving = db
    .select({ id: clients.id })
    .from(clients)
    .where(or(ne(clients.webhookStatus, 'active'), isNull(clients.webhookUrl)))
  return [
    db
      .update(deliveries)
      .set({ status: 'held', nextAttemptAt: null, updatedAt: now })
      .where(and(scope, statusIs('pending'), inArray(deliveries.clientId, notReceiving))),
    db
      .update(deliveries)
      .set({ status: 'pending', nextAttemptAt: now, updatedAt: now })
      .where(and(scope, statusIs('held'), inArray(deliveries.clientId, receiving))),
  ]
}
