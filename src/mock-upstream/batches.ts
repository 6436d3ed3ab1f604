/**
 * Message Batches in memory (reference §11). A batch is `in_progress` in the create response and has
 * ended by the next request that touches it, so tests need no polling loop; a cancel first moves it to
 * `canceling`, and it then ends with every request `canceled`. Results are rendered with the same reply
 * planner as /v1/messages, so batch results are real-looking messages (mock-error models → `errored`).
 */
import { badRequest, header, isRecord, notFound, sendJson, sendRaw } from './http-io.js'
import { newId, newRequestId } from './ids.js'
import { messageJson } from './message-shape.js'
import { errorSpec, version20261021Problem } from './messages.js'
import { idPage } from './pagination.js'
import { planReply } from './reply-plan.js'
import type { Ctx, MockState, StoredBatch } from './types.js'

const DAY_MS = 24 * 60 * 60 * 1000

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

function errorStatusOf(params: Record<string, unknown>): number | undefined {
  const match = typeof params.model === 'string' ? /^mock-error-(\d{3})$/.exec(params.model) : null
  return match?.[1] === undefined ? undefined : Number(match[1])
}

function counts(batch: StoredBatch): Record<string, number> {
  const out = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 }
  for (const request of batch.requests) {
    if (batch.status !== 'ended') out.processing++
    else if (batch.canceled) out.canceled++
    else if (errorStatusOf(request.params) !== undefined) out.errored++
    else out.succeeded++
  }
  return out
}

function batchJson(state: MockState, batch: StoredBatch): Record<string, unknown> {
  return {
    id: batch.id,
    type: 'message_batch',
    processing_status: batch.status,
    request_counts: counts(batch),
    ended_at: iso(batch.endedAt),
    created_at: iso(batch.createdAt),
    expires_at: iso(batch.createdAt + DAY_MS),
    archived_at: null,
    cancel_initiated_at: iso(batch.cancelInitiatedAt),
    results_url: batch.status === 'ended' ? `${state.baseUrl}/v1/messages/batches/${batch.id}/results` : null,
  }
}

/** Every request after the create one finds the batch ended. */
function advance(batch: StoredBatch): void {
  if (batch.status === 'ended') return
  batch.canceled = batch.status === 'canceling'
  batch.status = 'ended'
  batch.endedAt = Date.now()
}

/**
 * `params` are read under the create call's `anthropic-version` (claude-api-2026.md §1): with
 * 2026-10-21 an entry with sampling parameters, an assistant document or cited user text refuses the
 * whole create with 400 `invalid_request_error`, its message naming the entry
 * (`requests.2.params.temperature: …`), as the API reports other invalid params.
 */
function parseRequests(body: unknown, version: string | undefined): StoredBatch['requests'] | string {
  if (!isRecord(body) || !Array.isArray(body.requests) || body.requests.length === 0) return 'requests: Field required'
  const out: StoredBatch['requests'] = []
  const seen = new Set<string>()
  for (const [i, entry] of body.requests.entries()) {
    if (!isRecord(entry) || typeof entry.custom_id !== 'string' || !isRecord(entry.params)) {
      return `requests.${i}: custom_id and params are required`
    }
    if (seen.has(entry.custom_id)) return `requests: custom_id "${entry.custom_id}" is not unique`
    const problem = version === '2026-10-21' ? version20261021Problem(entry.params) : undefined
    if (problem !== undefined) return `requests.${i}.params.${problem}`
    seen.add(entry.custom_id)
    out.push({ custom_id: entry.custom_id, params: entry.params })
  }
  return out
}

export function handleCreateBatch(ctx: Ctx): void {
  const requests = parseRequests(ctx.rec.json, header(ctx, 'anthropic-version'))
  if (typeof requests === 'string') {
    badRequest(ctx, requests)
    return
  }
  const batch: StoredBatch = {
    id: newId('msgbatch'), status: 'in_progress', requests, createdAt: Date.now(), endedAt: null, cancelInitiatedAt: null, canceled: false,
  }
  ctx.state.batches.set(batch.id, batch)
  sendJson(ctx, 200, batchJson(ctx.state, batch))
}

export function handleListBatches(ctx: Ctx): void {
  const all = [...ctx.state.batches.values()].reverse()
  all.forEach(advance)
  const page = idPage(all, ctx.query)
  sendJson(ctx, 200, { ...page, data: page.data.map((b) => batchJson(ctx.state, b)) })
}

function findBatch(ctx: Ctx, id: string): StoredBatch | undefined {
  const batch = ctx.state.batches.get(id)
  if (batch === undefined) notFound(ctx, `Message batch not found: ${id}`)
  return batch
}

export function handleGetBatch(ctx: Ctx, id: string): void {
  const batch = findBatch(ctx, id)
  if (batch === undefined) return
  advance(batch)
  sendJson(ctx, 200, batchJson(ctx.state, batch))
}

export function handleCancelBatch(ctx: Ctx, id: string): void {
  const batch = findBatch(ctx, id)
  if (batch === undefined) return
  if (batch.status === 'in_progress') {
    batch.status = 'canceling'
    batch.cancelInitiatedAt = Date.now()
  }
  sendJson(ctx, 200, batchJson(ctx.state, batch))
}

export function handleDeleteBatch(ctx: Ctx, id: string): void {
  const batch = findBatch(ctx, id)
  if (batch === undefined) return
  advance(batch)
  ctx.state.batches.delete(id)
  sendJson(ctx, 200, { id, type: 'message_batch_deleted' })
}

function resultLine(state: MockState, batch: StoredBatch, request: StoredBatch['requests'][number]): string {
  let result: Record<string, unknown>
  const status = errorStatusOf(request.params)
  if (batch.canceled) result = { type: 'canceled' }
  else if (status !== undefined) {
    const spec = errorSpec(status)
    result = { type: 'errored', error: { type: 'error', error: { type: spec.type, message: spec.message }, request_id: newRequestId() } }
  } else result = { type: 'succeeded', message: messageJson(planReply(request.params, state)) }
  return JSON.stringify({ custom_id: request.custom_id, result })
}

/** JSONL; the SDK asks for `application/binary` and reads lines regardless of the content-type. */
export function handleBatchResults(ctx: Ctx, id: string): void {
  const batch = findBatch(ctx, id)
  if (batch === undefined) return
  advance(batch)
  const lines = batch.requests.map((request) => resultLine(ctx.state, batch, request))
  sendRaw(ctx, 200, 'application/binary', `${lines.join('\n')}\n`)
}
