/**
 * POST /v1/messages and POST /v1/messages/count_tokens: body validation as the real API does it, the
 * error triggers, then the planned reply as JSON or SSE.
 */
import { badRequest, header, intHeader, isRecord, sendError, sendJson } from './http-io.js'
import { messageJson } from './message-shape.js'
import { connectorBlocks } from './connector.js'
import { countInputTokens, lastUserText, planReply } from './reply-plan.js'
import type { ReplyOverrides } from './reply-plan.js'
import { writeStream } from './sse-writer.js'
import type { StreamOptions } from './sse-writer.js'
import type { Ctx } from './types.js'

interface ErrorSpec {
  type: string
  message: string
}

/** Status → Anthropic error type and a message like the real one (reference §6). */
const ERRORS: Record<number, ErrorSpec> = {
  400: { type: 'invalid_request_error', message: 'mock-error-400: invalid request' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  402: { type: 'billing_error', message: 'Your credit balance is too low to access the Anthropic API.' },
  403: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
  404: { type: 'not_found_error', message: 'Not found' },
  408: { type: 'timeout_error', message: 'Request timed out' },
  409: { type: 'conflict_error', message: 'Conflict' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit (mock).' },
  500: { type: 'api_error', message: 'Internal server error' },
  504: { type: 'timeout_error', message: 'Gateway timeout' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
}

export function errorSpec(status: number): ErrorSpec {
  return ERRORS[status] ?? (status >= 500
    ? { type: 'api_error', message: 'Internal server error' }
    : { type: 'invalid_request_error', message: `mock-error-${status}` })
}

/** Model `mock-error-<status>` or header `mock-error-status: <status>` selects an error reply. */
export function triggeredErrorStatus(ctx: Ctx, body: Record<string, unknown>): number | undefined {
  const fromModel = typeof body.model === 'string' ? /^mock-error-(\d{3})$/.exec(body.model)?.[1] : undefined
  const raw = fromModel ?? header(ctx, 'mock-error-status')
  if (raw === undefined || !/^\d{3}$/.test(raw)) return undefined
  const status = Number(raw)
  return status >= 400 && status <= 599 ? status : undefined
}

export function sendTriggeredError(ctx: Ctx, status: number): void {
  const spec = errorSpec(status)
  const retryable = status === 408 || status === 409 || status === 429 || status >= 500
  const extra: Record<string, string> = { 'x-should-retry': retryable ? 'true' : 'false' }
  if (status === 429) extra['retry-after'] = '1'
  sendError(ctx, status, spec.type, spec.message, extra)
}

/** The JSON object body, or undefined after answering 400. */
export function jsonBody(ctx: Ctx): Record<string, unknown> | undefined {
  if (isRecord(ctx.rec.json)) return ctx.rec.json
  badRequest(ctx, ctx.rec.body.length === 0 ? 'request body is required' : 'request body must be a JSON object')
  return undefined
}

/** The checks of the real API that a gateway test can run into; undefined when the body is fine. */
export function validateMessagesBody(ctx: Ctx, body: Record<string, unknown>, forCount: boolean): string | undefined {
  if (typeof body.model !== 'string') return 'model: Field required'
  if (!forCount && typeof body.max_tokens !== 'number') return 'max_tokens: Field required'
  if (body.messages === undefined) return 'messages: Field required'
  if (!Array.isArray(body.messages)) return 'messages: Input should be a valid list'
  if (header(ctx, 'anthropic-version') === '2026-10-21') return version20261021Problem(body)
  return undefined
}

/**
 * What anthropic-version 2026-10-21 refuses (claude-api-2026.md §1): sampling parameters even at
 * their defaults, a `document` block in an assistant message, a user `text` block (also inside a
 * `search_result`) with non-empty `citations`.
 */
export function version20261021Problem(body: Record<string, unknown>): string | undefined {
  for (const field of ['temperature', 'top_p', 'top_k']) {
    if (field in body) return `${field}: not supported with anthropic-version 2026-10-21`
  }
  const messages = Array.isArray(body.messages) ? body.messages : []
  for (const [i, message] of messages.entries()) {
    if (!isRecord(message) || !Array.isArray(message.content)) continue
    for (const [j, block] of (message.content as unknown[]).entries()) {
      if (!isRecord(block)) continue
      const at = `messages.${i}.content.${j}`
      if (message.role === 'assistant' && block.type === 'document') return `${at}: document blocks are not supported in assistant messages with anthropic-version 2026-10-21`
      if (message.role === 'user' && citedText(block)) return `${at}: citations on user text blocks are not supported with anthropic-version 2026-10-21`
    }
  }
  return undefined
}

function citedText(block: Record<string, unknown>): boolean {
  if (block.type === 'text') return Array.isArray(block.citations) && block.citations.length > 0
  if (block.type === 'search_result' && Array.isArray(block.content)) return (block.content as unknown[]).some((inner) => isRecord(inner) && citedText(inner))
  return false
}

function overridesOf(ctx: Ctx): ReplyOverrides | string {
  const overrides: ReplyOverrides = {}
  const rawText = header(ctx, 'mock-reply-text')
  if (rawText !== undefined) {
    try {
      overrides.replyText = decodeURIComponent(rawText)
    } catch {
      return 'mock-reply-text must be percent-encoded'
    }
  }
  const deltaSize = intHeader(ctx, 'mock-delta-size')
  if (deltaSize !== undefined && deltaSize > 0) overrides.deltaSize = deltaSize
  return overrides
}

function streamOptionsOf(ctx: Ctx): StreamOptions {
  const options: StreamOptions = { delayMs: intHeader(ctx, 'mock-delay-ms') ?? ctx.state.frameDelayMs }
  const errorAfter = intHeader(ctx, 'mock-stream-error-after')
  const resetAfter = intHeader(ctx, 'mock-stream-reset-after')
  if (errorAfter !== undefined) options.errorAfter = errorAfter
  else if (resetAfter !== undefined) options.resetAfter = resetAfter
  return options
}

export async function handleMessages(ctx: Ctx): Promise<void> {
  const body = jsonBody(ctx)
  if (body === undefined) return
  const status = triggeredErrorStatus(ctx, body)
  if (status !== undefined) {
    sendTriggeredError(ctx, status)
    return
  }
  const invalid = validateMessagesBody(ctx, body, false)
  if (invalid !== undefined) {
    badRequest(ctx, invalid)
    return
  }
  const overrides = overridesOf(ctx)
  if (typeof overrides === 'string') {
    badRequest(ctx, overrides)
    return
  }
  const userText = lastUserText(body)
  const connector = await connectorBlocks(body, userText, userText.includes('MOCK:PII'))
  if (connector !== undefined) overrides.mcpBlocks = connector
  const plan = planReply(body, ctx.state, overrides)
  if (body.stream === true) await writeStream(ctx, plan, streamOptionsOf(ctx))
  else sendJson(ctx, 200, messageJson(plan))
}

export function handleCountTokens(ctx: Ctx): void {
  const body = jsonBody(ctx)
  if (body === undefined) return
  const status = triggeredErrorStatus(ctx, body)
  if (status !== undefined) {
    sendTriggeredError(ctx, status)
    return
  }
  const invalid = validateMessagesBody(ctx, body, true)
  if (invalid !== undefined) {
    badRequest(ctx, invalid)
    return
  }
  sendJson(ctx, 200, { input_tokens: countInputTokens(body) })
}
