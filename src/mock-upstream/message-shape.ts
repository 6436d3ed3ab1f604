/**
 * Renders a `ReplyPlan` in the two wire forms: the non-streaming Message JSON (reference §5) and the SSE
 * event sequence (reference §7.2): message_start, per block start / deltas / stop with one ping after the
 * first block start, message_delta with cumulative usage (and the container), message_stop.
 */
import type { PlannedBlock, ReplyPlan } from './reply-plan.js'

export interface Frame {
  /** The complete SSE event text, blank line included. */
  text: string
  /** A content_block_delta: what `mock-stream-error-after` / `-reset-after` count. */
  delta: boolean
  /** The message_delta frame: where a cut lands when the stream has fewer deltas than asked. */
  messageDelta: boolean
}

/** Real streams send the ping with a space after the colon; keep the exact bytes. */
const PING_FRAME = 'event: ping\ndata: {"type": "ping"}\n\n'

function frame(event: string, data: unknown, kind: 'delta' | 'messageDelta' | 'other' = 'other'): Frame {
  return { text: `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`, delta: kind === 'delta', messageDelta: kind === 'messageDelta' }
}

/**
 * message_delta usage has no cache_creation / service_tier (SDK `MessageDeltaUsage`). `iterations`
 * are known only at the end: in the JSON message and the final message_delta, not in message_start.
 */
function usage(plan: ReplyPlan, outputTokens: number, forDelta = false, final = true): Record<string, unknown> {
  const out: Record<string, unknown> = forDelta
    ? { input_tokens: plan.inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: outputTokens }
    : {
        input_tokens: plan.inputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
        output_tokens: outputTokens,
        service_tier: 'standard',
      }
  if (plan.thinkingTokens > 0) out.output_tokens_details = { thinking_tokens: plan.thinkingTokens }
  if (final && plan.iterations !== undefined) out.iterations = plan.iterations
  return out
}

export function blockJson(block: PlannedBlock): Record<string, unknown> {
  switch (block.kind) {
    case 'text':
      return { type: 'text', text: block.chunks.join('') }
    case 'thinking':
      return { type: 'thinking', thinking: block.chunks.join(''), signature: block.signature }
    case 'input':
      return { ...block.block, input: block.input }
    case 'whole':
      return block.block
  }
}

export function messageJson(plan: ReplyPlan): Record<string, unknown> {
  return {
    id: plan.id,
    type: 'message',
    role: 'assistant',
    model: plan.model,
    content: plan.blocks.map(blockJson),
    stop_reason: plan.stopReason,
    stop_sequence: null,
    stop_details: null,
    container: plan.container,
    usage: usage(plan, plan.outputTokens),
  }
}

function startBlock(block: PlannedBlock): Record<string, unknown> {
  switch (block.kind) {
    case 'text':
      return { type: 'text', text: '' }
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' }
    case 'input':
      return block.block
    case 'whole':
      return block.block
  }
}

function blockDeltas(block: PlannedBlock): Array<Record<string, unknown>> {
  switch (block.kind) {
    case 'text':
      return block.chunks.map((text) => ({ type: 'text_delta', text }))
    case 'thinking':
      return [
        ...block.chunks.map((thinking) => ({ type: 'thinking_delta', thinking })),
        { type: 'signature_delta', signature: block.signature },
      ]
    case 'input':
      return block.fragments.map((partial_json) => ({ type: 'input_json_delta', partial_json }))
    case 'whole':
      return []
  }
}

function blockFrames(block: PlannedBlock, index: number, out: Frame[]): void {
  out.push(frame('content_block_start', { type: 'content_block_start', index, content_block: startBlock(block) }))
  if (index === 0) out.push({ text: PING_FRAME, delta: false, messageDelta: false })
  for (const delta of blockDeltas(block)) {
    out.push(frame('content_block_delta', { type: 'content_block_delta', index, delta }, 'delta'))
  }
  out.push(frame('content_block_stop', { type: 'content_block_stop', index }))
}

export function streamFrames(plan: ReplyPlan): Frame[] {
  const out: Frame[] = []
  const start = { ...messageJson(plan), content: [], stop_reason: null, container: null, usage: usage(plan, 1, false, false) }
  out.push(frame('message_start', { type: 'message_start', message: start }))
  plan.blocks.forEach((block, index) => blockFrames(block, index, out))
  const delta: Record<string, unknown> = { stop_reason: plan.stopReason, stop_sequence: null, stop_details: null }
  if (plan.container !== null) delta.container = plan.container
  out.push(frame('message_delta', { type: 'message_delta', delta, usage: usage(plan, plan.outputTokens, true) }, 'messageDelta'))
  out.push(frame('message_stop', { type: 'message_stop' }))
  return out
}

export function errorFrame(type: string, message: string, requestId: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId })}\n\n`
}
