import { readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type Database from 'better-sqlite3'
import type { Db } from '../db/index.ts'
import { MIGRATIONS_DIR } from '../db/sqlite.ts'
import { errorLine, type ProbeResult } from './probes.ts'

/*
 * The Node runtime's storage probes, for /readyz, the diagnostics and `doctor`. Node only.
 *
 * A query alone proves little about a SQLite file: better-sqlite3 keeps its file descriptor, so
 * after the file is deleted (or replaced, e.g. a restore copied over it) every query still
 * succeeds, on an unlinked inode that vanishes at the next restart with everything written
 * since. And permissions say little either: root ignores them. So the probes look at what really
 * decides: the path still names the inode we opened, and SQLite accepts a write (made inside a
 * transaction that is rolled back, so nothing is written).
 */

/** The better-sqlite3 connection under a drizzle database (drizzle exposes it as `$client`). */
export function sqliteClient(db: Db): Database.Database {
  return (db as unknown as { $client: Database.Database }).$client
}

interface FileIdentity {
  dev: number
  ino: number
}

function identity(path: string): FileIdentity | null {
  try {
    const s = statSync(path)
    return { dev: s.dev, ino: s.ino }
  } catch {
    return null
  }
}

const ACCEPTS_WRITES = 'accepts writes'

/**
 * A write SQLite would accept, rolled back. `BEGIN IMMEDIATE` takes the write lock (it fails on a
 * connection made read-only, e.g. `PRAGMA query_only`), and the insert fails where the file or
 * the database is read-only (a read-only mount, a file SQLite must treat as read-only). The busy
 * timeout is off for the probe: it must never stall the process (better-sqlite3 is synchronous)
 * behind another process's write; a lock held elsewhere proves the database is being written.
 */
export function probeWrite(client: Database.Database): ProbeResult {
  // Our own writes are synchronous (atomic()), so none can be open here; if one were, probing
  // inside it would commit or roll back someone else's work.
  if (client.inTransaction) return { ok: true, detail: 'a write is in progress' }
  const busyTimeout = client.pragma('busy_timeout', { simple: true }) as number
  client.pragma('busy_timeout = 0')
  try {
    client.exec('BEGIN IMMEDIATE')
    try {
      client
        .prepare(
          "insert into settings (key, value) values ('observe_write_probe', '') on conflict (key) do update set value = excluded.value",
        )
        .run()
    } finally {
      client.exec('ROLLBACK')
    }
    return { ok: true, detail: ACCEPTS_WRITES }
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'SQLITE_BUSY') return { ok: true, detail: 'another connection is writing' }
    if (client.inTransaction) client.exec('ROLLBACK')
    // No settings table: not a storage problem but a schema one, which the migrations probe names.
    if (/no such table/.test(errorLine(err))) {
      return {
        ok: true,
        detail: 'takes the write lock (the schema is missing: see the migrations)',
      }
    }
    return {
      ok: false,
      detail: `the database refuses writes (${errorLine(err)})`,
      action:
        "make the database file, its directory and its -wal/-shm files writable by the gateway's user (check for a read-only mount or a full disk), then restart the gateway",
    }
  } finally {
    client.pragma(`busy_timeout = ${busyTimeout}`)
  }
}

/** Storage probe for a SQLite file: still the file we opened, and writable. */
export function sqliteDatabaseProbe(
  client: Database.Database,
  path: string,
): () => Promise<ProbeResult> {
  const absolute = resolve(path)
  const opened = path === ':memory:' ? null : identity(absolute)
  return async () => {
    if (opened) {
      const now = identity(absolute)
      if (!now) {
        return {
          ok: false,
          detail: `the database file ${absolute} was removed while the gateway runs: what it writes now is lost when it stops`,
          action:
            'stop sending traffic here; restore the file from a backup (or accept a new empty one) and restart the gateway',
        }
      }
      if (now.dev !== opened.dev || now.ino !== opened.ino) {
        return {
          ok: false,
          detail: `the database file ${absolute} was replaced by another file while the gateway runs: the gateway still writes to the old one`,
          action: 'restart the gateway to use the new file',
        }
      }
    }
    const write = probeWrite(client)
    if (!write.ok || !opened) return write
    return {
      ok: true,
      detail:
        write.detail === ACCEPTS_WRITES
          ? `${absolute} answers queries and accepts writes`
          : `${absolute}: ${write.detail}`,
    }
  }
}

interface JournalEntry {
  idx: number
  when: number
  tag: string
}

/** The migrations this code ships with (drizzle/meta/_journal.json). */
export function shippedMigrations(dir = MIGRATIONS_DIR): JournalEntry[] {
  const journal = JSON.parse(readFileSync(join(dir, 'meta', '_journal.json'), 'utf8')) as {
    entries: JournalEntry[]
  }
  return journal.entries
}

/**
 * Whether the database's applied drizzle migrations (`__drizzle_migrations`, one row per
 * migration with the journal entry's `when` as `created_at`) are exactly the shipped ones:
 * drizzle's migrator applies every entry newer than the last applied one, so a missing entry is
 * a pending migration, and an unknown newer one means a newer gateway migrated this database.
 */
export function sqliteMigrationsProbe(client: Database.Database): () => Promise<ProbeResult> {
  const shipped = shippedMigrations()
  return async () => {
    let applied: number[]
    try {
      applied = (
        client.prepare('select created_at from __drizzle_migrations').all() as {
          created_at: number
        }[]
      ).map((r) => Number(r.created_at))
    } catch (err) {
      if (/no such table/.test(errorLine(err))) applied = []
      else {
        return {
          ok: false,
          detail: `cannot read the applied migrations: ${errorLine(err)}`,
          action: 'check that DATABASE_PATH names a gateway database',
        }
      }
    }
    const appliedSet = new Set(applied)
    const pending = shipped.filter((m) => !appliedSet.has(m.when))
    const known = new Set(shipped.map((m) => m.when))
    const unknown = applied.filter((when) => !known.has(when))
    if (pending.length > 0) {
      return {
        ok: false,
        detail: `${pending.length} of ${shipped.length} migrations not applied (${pending.map((m) => m.tag).join(', ')})`,
        action: 'start (or restart) the gateway: it applies pending migrations at start-up',
      }
    }
    if (unknown.length > 0) {
      return {
        ok: false,
        detail: `the database has ${unknown.length} migration(s) this version does not know: a newer gateway migrated it`,
        action: 'run the newer version of the gateway (or restore a backup made for this one)',
      }
    }
    return { ok: true, detail: `all ${shipped.length} migrations applied` }
  }
}
