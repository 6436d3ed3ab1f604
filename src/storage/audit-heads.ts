import type { HeadEvent, StoredHead } from '../audit/heads/head.js'
import { StorageError } from './errors.js'
import type { SqlDb } from './sql/db.js'
import { all, get, run, type Step } from './sql/step.js'

/** The `audit_heads` table: signed chain heads as the gateway made them, oldest position first. */

/** Heads returned by one list call at most; `after` pages on. */
export const maxHeadsPage = 10_000

type HeadRow = { jws: string; position: number; time: number; writer: string; event: string | null; timestamp: string | null }

const columns = 'jws, position, time, writer, event, timestamp'

export function* insertHead(head: StoredHead): Step<void> {
  yield* run(`INSERT INTO audit_heads (${columns}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (jws) DO NOTHING`, [
    head.jws,
    head.position,
    head.time,
    head.writer,
    head.event,
    head.timestamp ?? null,
  ])
}

export async function saveHead(db: SqlDb, head: StoredHead): Promise<void> {
  await db.single('saving a signed audit head', 'write', () => insertHead(head))
}

/** Adds the RFC 3161 token obtained after the head was stored (the first one obtained stays). */
export async function saveHeadTimestamp(db: SqlDb, jws: string, timestamp: string): Promise<void> {
  await db.single('saving an audit head timestamp', 'write', () => run('UPDATE audit_heads SET timestamp = ? WHERE jws = ? AND timestamp IS NULL', [timestamp, jws]))
}

/** Heads with `position > after` (all when undefined), by position then time. */
export async function listHeads(db: SqlDb, after: number | undefined, limit = maxHeadsPage): Promise<StoredHead[]> {
  if (after !== undefined && !(Number.isSafeInteger(after) && after >= 0)) throw new StorageError('invalid', 'after must be a non-negative integer')
  const rows = await db.single('listing signed audit heads', 'read', () =>
    all<HeadRow>(`SELECT ${columns} FROM audit_heads WHERE position > ? ORDER BY position, time LIMIT ?`, [after ?? -1, limit]),
  )
  return rows.map(fromRow)
}

export async function latestHead(db: SqlDb): Promise<StoredHead | undefined> {
  const row = await db.single('reading the latest signed audit head', 'read', () =>
    get<HeadRow>(`SELECT ${columns} FROM audit_heads ORDER BY position DESC, time DESC LIMIT 1`),
  )
  return row && fromRow(row)
}

function fromRow(r: HeadRow): StoredHead {
  return { jws: r.jws, position: Number(r.position), time: Number(r.time), writer: r.writer, event: r.event as HeadEvent | null, timestamp: r.timestamp }
}

export async function linkHashAt(db: SqlDb, seq: number): Promise<string | undefined> {
  const row = await db.single('reading an audit link hash', 'read', () => get<{ hash: string }>('SELECT hash FROM audit_chain WHERE seq = ?', [seq]))
  return row?.hash
}
