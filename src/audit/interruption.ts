import { planAuditBatch, type AuditOp } from './batch-plan.js'
import type { AuditLedger } from './ledger.js'
import { interruptedCompletion } from './record-builder.js'

/** Records closed per transaction, so a store with many abandoned records never holds the lock long. */
const pageSize = 500

/**
 * At start-up: closes records left open by writers that are gone (their lease expired) with outcome
 * `interrupted`, oldest first, a page per locked transaction. The ledger picks the records under the
 * chain lock, so a live writer's completion and this check cannot interleave. Returns the count.
 */
export async function markInterrupted(ledger: AuditLedger, now: () => Date, olderThan?: Date): Promise<number> {
  const startedBefore = olderThan?.getTime() ?? Number.MAX_SAFE_INTEGER
  let total = 0
  for (;;) {
    const at = now().getTime()
    const page = await ledger.append('marking interrupted audit records', at, { kind: 'abandoned', startedBefore, limit: pageSize }, (view) => {
      const ops = [...view.records.values()].map(
        (record): AuditOp => ({ kind: 'complete', id: record.id, completion: interruptedCompletion(new Date(record.startedAt).toISOString(), new Date(at)) }),
      )
      const plan = planAuditBatch(view.head, ops, view.records, at)
      return { write: plan, result: { found: ops.length, closed: plan.results.filter((r) => r.ok).length } }
    })
    total += page.closed
    if (page.found < pageSize) return total
  }
}
