import type { StoredHead } from '../audit/heads/head.js'
import { run, type Step } from './sql/step.js'

/** The `audit_heads` table: signed chain heads as the gateway made them, oldest position first. */

/** Heads returned by one list call at most; `after` pages on. */
export const maxHeadsPage = 10_000

const columns = 'jws, position, time, writer, event, timestamp'

/** Rows as `StoredHead`s: both dialects return int8 columns as numbers. */
export const selectHeads = `SELECT ${columns} FROM audit_heads`

/**
 * A page of `limit` heads out of `rows` (read one further): a full page stops before the position
 * the next head shares, so paging on with `after` = its last position misses none.
 */
export function wholePositions(rows: readonly StoredHead[], limit: number): StoredHead[] {
  const next = rows[limit]
  const page = rows.slice(0, limit)
  if (next === undefined) return page
  const whole = page.filter((h) => h.position !== next.position)
  // Only when one position holds a whole page (thousands of heads at one link) is it cut.
  return whole.length > 0 ? whole : page
}

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
