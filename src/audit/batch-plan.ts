import { StorageError } from '../storage/errors.js'
import { canonicalJson } from './canonical-json.js'
import { appendLinks, indexFieldsOf, type ChainHead, type ChainLink, type PendingLink, type RecordIndexRow } from './chain.js'
import type { CloseUpdate, LedgerAppend, LedgerRecord } from './ledger.js'
import { validateCompletion, validateOpening } from './record-builder.js'
import type { AuditChainPosition, AuditCompletion, AuditOpening } from './record.js'

/**
 * Turns a batch of begin/complete operations into chain links and index rows. Pure: the ledger
 * reads the chain head and the state of the records the batch touches (inside its locked
 * transaction), calls this, and writes what it returns. Errors are `StorageError`s (the one error
 * type of the storage ports that callers fail closed by).
 */

/** Where a half landed in the chain; returned so a writer can hand complete records to sinks. */
export type AuditReceipt = AuditChainPosition

/** One operation's outcome in a batch: an operation can fail on its own without failing its batch. */
export type OpResult<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: Error }

export type AuditOp =
  | { readonly kind: 'begin'; readonly opening: AuditOpening }
  | { readonly kind: 'complete'; readonly id: string; readonly completion: AuditCompletion }

/** New index rows (a record begun and completed in the same batch is inserted closed) and closes of records begun earlier. */
export interface AuditBatchPlan extends LedgerAppend {
  readonly results: Array<OpResult<AuditReceipt>>
}

/** Ids whose state the adapter must load before planning (completions of earlier begins, duplicate begins). */
export function idsOf(ops: readonly AuditOp[]): string[] {
  return [...new Set(ops.map((op) => (op.kind === 'begin' ? String(op.opening.id) : op.id)))]
}

type Step = { readonly link: PendingLink; readonly apply: (link: ChainLink) => void } | { readonly error: StorageError }

export function planAuditBatch(head: ChainHead, ops: readonly AuditOp[], existing: ReadonlyMap<string, LedgerRecord>, at: number): AuditBatchPlan {
  const inserts = new Map<string, RecordIndexRow>()
  const closes: CloseUpdate[] = []
  // Record states as this batch leaves them, on top of what the store had.
  const touched = new Map<string, 'open' | 'closed'>()
  const stateOf = (id: string): 'open' | 'closed' | undefined => {
    const before = existing.get(id)
    return touched.get(id) ?? (before === undefined ? undefined : before.outcome === 'open' ? 'open' : 'closed')
  }
  const steps: Step[] = ops.map((op) => (op.kind === 'begin' ? planBegin(op.opening) : planComplete(op.id, op.completion)))

  function planBegin(opening: AuditOpening): Step {
    const problems = validateOpening(opening)
    if (problems.length > 0) return { error: new StorageError('invalid', `invalid audit opening: ${problems.join('; ')}`) }
    if (stateOf(opening.id) !== undefined) return { error: new StorageError('conflict', `audit record ${opening.id} exists`) }
    const body = serialise(opening)
    if (typeof body !== 'string') return { error: body }
    const fields = indexFieldsOf(opening)
    touched.set(opening.id, 'open')
    return {
      link: { kind: 'open', recordId: opening.id, at, body },
      apply: (link) => inserts.set(opening.id, indexRow(fields, 'open', link.seq, null, null)),
    }
  }

  function planComplete(id: string, completion: AuditCompletion): Step {
    const problems = validateCompletion(completion)
    if (problems.length > 0) return { error: new StorageError('invalid', `invalid audit completion: ${problems.join('; ')}`) }
    const state = stateOf(id)
    if (state === undefined) return { error: new StorageError('not_found', `audit record ${id} does not exist`) }
    if (state === 'closed') return { error: new StorageError('conflict', `audit record ${id} is not open`) }
    const body = serialise(completion)
    if (typeof body !== 'string') return { error: body }
    touched.set(id, 'closed')
    return {
      link: { kind: 'close', recordId: id, at, body },
      apply: (link) => {
        const row = inserts.get(id)
        if (row) inserts.set(id, indexRow(row, completion.outcome, row.seqOpen, link.seq, link.at))
        else closes.push({ id, outcome: completion.outcome, seqClose: link.seq, endedAt: link.at })
      },
    }
  }

  const pending = steps.flatMap((s) => ('link' in s ? [s.link] : []))
  const chained = appendLinks(head, pending)
  let next = 0
  const results = steps.map((step): OpResult<AuditReceipt> => {
    if ('error' in step) return { ok: false, error: step.error }
    const link = chained.links[next++] as ChainLink
    step.apply(link)
    return { ok: true, value: { seq: link.seq, prevHash: link.prevHash, hash: link.hash } }
  })
  return { links: chained.links, inserts: [...inserts.values()], closes, head: chained.head, results }
}

/**
 * An index row written out field by field. `{ ...fields, outcome, … }` would be shorter, but on
 * Node 20's V8 a spread copy grown by keys its source lacks is promoted by the next young-generation
 * collection instead of dying young: every row, and what it points to, went to the old generation
 * and waited for a full collection (bench/young-promotion.mjs; docs/benchmarks.md, "Sixth session").
 * `Object.assign({}, a, b)` and `{ ...a }` alone do not do this.
 */
function indexRow(
  fields: Pick<RecordIndexRow, 'id' | 'startedAt' | 'principal' | 'issuer' | 'rule' | 'decision' | 'skills'>,
  outcome: string,
  seqOpen: number,
  seqClose: number | null,
  endedAt: number | null,
): RecordIndexRow {
  return { id: fields.id, startedAt: fields.startedAt, endedAt, principal: fields.principal, issuer: fields.issuer, rule: fields.rule, decision: fields.decision, outcome, skills: fields.skills, seqOpen, seqClose }
}

/** The half's link body (canonical JSON), or the error for a half that is not JSON. */
function serialise(half: AuditOpening | AuditCompletion): string | StorageError {
  try {
    return canonicalJson(half)
  } catch (error) {
    return new StorageError('invalid', `audit record is not JSON: ${(error as Error).message}`)
  }
}
