import { createHash } from 'node:crypto'
import { buildCompletion, usageFromAnthropic } from '../audit/record-builder.js'
import type { AuditContentMode, AuditOutcome, AuditResponse } from '../audit/record.js'
import { StreamRecorder } from '../audit/stream-log.js'
import type { AuditWriter } from '../audit/writer.js'
import { GatewayError } from '../errors/gateway-error.js'
import { asGatewayError } from '../errors/to-response.js'
import type { RequestContext } from '../pipeline/context.js'
import type { SseFrame } from '../pipeline/response.js'
import type { Stage } from '../pipeline/stage.js'
import { ObservedFrame } from '../response/observed-frame.js'
import { jsonOf, joined } from '../response/observed-json.js'
import { holdOutputWhile } from '../response/outbox.js'
import { auditResponseJson } from './audit-facts.js'

/**
 * Records the response as the client receives it (after masking) and commits the completion half
 * **before the last byte reaches the client** (SPEC §5): a stream's terminal event (`message_stop`
 * or `error`) and a JSON body are held until the commit resolves. If it cannot commit under strict
 * durability, the client gets an error instead of the last byte. A stream cut short is completed as
 * `interrupted` (client gone) or `error` (upstream failed).
 */
export const auditClose = (writer: AuditWriter, content: AuditContentMode): Stage =>
  async function auditClose(ctx, next) {
    const response = ctx.response
    if (!ctx.audit || !response) throw new GatewayError('GW_INTERNAL', { detail: 'audit-close needs audit-open and forward' })
    const body = response.body
    response.body = body.kind === 'sse'
      ? { kind: 'sse', frames: auditedFrames(ctx, writer, content, body.frames) }
      : { kind: 'bytes', chunks: auditedBytes(ctx, writer, content, body.chunks) }
    return next()
  }

const terminalEvents = new Set(['message_stop', 'error'])

/** A group holding the stream's terminal event goes on (whole) once the completion is committed. */
async function* auditedFrames(ctx: RequestContext, writer: AuditWriter, content: AuditContentMode, groups: AsyncIterable<readonly SseFrame[]>) {
  const recorder = new StreamRecorder(ctx.startedAt)
  const completion = completer(ctx, writer, content)
  try {
    for await (const group of groups) {
      const at = performance.now()
      let terminal: ObservedFrame | undefined
      for (const raw of group) {
        // Parsed once by the observer (or by masking, for an event it made): nothing is parsed here.
        const frame = ObservedFrame.of(raw)
        recorder.add(frame.event, frame.data, at, frame.json)
        if (terminal === undefined && terminalEvents.has(frame.event)) terminal = frame
      }
      if (terminal !== undefined) {
        const failed = terminal.event === 'error' ? `upstream:${upstreamErrorType(terminal.json)}` : undefined
        await completion.commit(failed ? 'error' : 'completed', recorder.response(contentType(ctx)), usageOf(recorder.message), containerOf(recorder.message), failed)
      }
      yield group
    }
    await completion.commit('completed', recorder.response(contentType(ctx)), usageOf(recorder.message), containerOf(recorder.message))
  } catch (error) {
    await completion.fail(error, recorder.response(contentType(ctx)), usageOf(recorder.message))
    throw error
  } finally {
    // The consumer stopped early (client gone): the stream did not complete.
    if (!completion.done) await completion.fail(clientGone(), recorder.response(contentType(ctx)), usageOf(recorder.message))
  }
}

/** JSON is held whole (it is one value; masking needs it whole too); other bodies hold their last chunk. */
async function* auditedBytes(ctx: RequestContext, writer: AuditWriter, content: AuditContentMode, chunks: AsyncIterable<Uint8Array>) {
  const completion = completer(ctx, writer, content)
  const type = contentType(ctx)
  const json = type?.includes('json') ?? false
  const held: Uint8Array[] = []
  let bytes = 0
  // What the client receives (after masking), so a downloaded file can be matched to its record.
  const digest = json ? undefined : createHash('sha256')
  try {
    for await (const chunk of chunks) {
      bytes += chunk.byteLength
      digest?.update(chunk)
      held.push(chunk)
      if (!json && held.length > 1) yield held.shift() as Uint8Array
    }
    // The observer's parse of this very buffer (or masking's value for the bytes it made).
    const parsed = json && held.length > 0 ? jsonOf(joined(held)) : undefined
    const response: AuditResponse = parsed !== undefined
      ? { kind: 'json', contentType: type, bytes, body: auditResponseJson(ctx, parsed) }
      : { kind: 'opaque', contentType: type, bytes, ...(digest ? { sha256: digest.digest('hex') } : {}) }
    const status = ctx.response?.status ?? 0
    const failed = status >= 400 ? `upstream:${upstreamErrorType(parsed)}` : undefined
    await completion.commit(failed ? 'error' : 'completed', response, usageOf(parsed), containerOf(parsed), failed)
    yield* held
  } catch (error) {
    await completion.fail(error, { kind: 'opaque', contentType: type, bytes }, undefined)
    throw error
  } finally {
    if (!completion.done) await completion.fail(clientGone(), { kind: 'opaque', contentType: type, bytes }, undefined)
  }
}

/** Commits the completion exactly once; a strict commit failure becomes the client's error. */
function completer(ctx: RequestContext, writer: AuditWriter, content: AuditContentMode) {
  let done = false
  const write = async (outcome: AuditOutcome, response: AuditResponse, usage: unknown, containerId: string | undefined, error?: string) => {
    done = true
    const audit = ctx.audit
    if (!audit) return
    const upstreamRequestId = ctx.response?.headers['request-id']
    await writer.complete(
      ctx.id,
      buildCompletion({
        start: audit.start,
        ...(ctx.firstByteAt !== undefined ? { firstByteAt: new Date(ctx.firstByteAt) } : {}),
        end: new Date(),
        status: ctx.response?.status,
        upstreamRequestId: typeof upstreamRequestId === 'string' ? upstreamRequestId : undefined,
        containerId,
        usage: usageFromAnthropic(usage) ?? undefined,
        upstreamMs: ctx.upstreamHeadersAt !== undefined && ctx.upstreamSentAt !== undefined ? ctx.upstreamHeadersAt - ctx.upstreamSentAt : undefined,
        response,
        maskHits: ctx.responseMaskHits,
        outcome,
        error,
        content,
      }),
    )
  }
  return {
    /** True once a completion was written (or tried): the `finally` paths then build nothing. */
    get done() {
      return done
    },
    async commit(outcome: AuditOutcome, response: AuditResponse, usage: unknown, containerId: string | undefined, error?: string) {
      if (done) return
      try {
        // What the client has queued leaves with the last byte, after the commit: one write.
        await holdOutputWhile(ctx, write(outcome, response, usage, containerId, error))
      } catch (error) {
        throw new GatewayError('GW_AUDIT_UNAVAILABLE', { detail: `audit complete failed: ${(error as Error).message}`, cause: error })
      }
    },
    async fail(error: unknown, response: AuditResponse, usage: unknown) {
      if (done) return
      const outcome: AuditOutcome = ctx.signal.aborted ? 'interrupted' : 'error'
      try {
        await write(outcome, response, usage, undefined, asGatewayError(error).code)
      } catch (failure) {
        ctx.log.error({ detail: (failure as Error).message }, 'audit completion could not be committed')
      }
    },
  }
}

const clientGone = () => new GatewayError('GW_UPSTREAM_STREAM_FAILED', { detail: 'client went away' })

const contentType = (ctx: RequestContext): string | null => {
  const value = ctx.response?.headers['content-type']
  return typeof value === 'string' ? value : null
}

/** `error.type` of a parsed Anthropic error body, for the record's `error` field. */
function upstreamErrorType(value: unknown): string {
  const error = typeof value === 'object' && value !== null ? (value as { error?: { type?: unknown } }).error : undefined
  return typeof error?.type === 'string' ? error.type : 'unknown'
}

function usageOf(message: unknown): unknown {
  return typeof message === 'object' && message !== null ? (message as { usage?: unknown }).usage : undefined
}

function containerOf(message: unknown): string | undefined {
  const container = typeof message === 'object' && message !== null ? (message as { container?: unknown }).container : undefined
  const id = typeof container === 'object' && container !== null ? (container as { id?: unknown }).id : undefined
  return typeof id === 'string' ? id : undefined
}
