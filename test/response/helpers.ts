import { compileMasker, type Masker } from '../../src/masking/index.js'
import type { Masking } from '../../src/masking/rule-masking.js'
import { compose } from '../../src/pipeline/compose.js'
import type { RequestContext, UpstreamResponse } from '../../src/pipeline/context.js'
import type { SseFrame } from '../../src/pipeline/response.js'
import { SseFramer } from '../../src/sse/framer.js'
import { ObservedFrame } from '../../src/response/observed-frame.js'
import { maskResponse } from '../../src/stages/mask-response.js'
import { observeResponse } from '../../src/stages/observe-response.js'
import { ownResponses } from '../../src/stages/own-responses.js'
import { auditClose } from '../../src/stages/audit-close.js'
import type { AuditCompletion } from '../../src/audit/record.js'
import type { AuditWriter } from '../../src/audit/writer.js'
import { classifyEndpoint } from '../../src/policy/endpoint.js'
import type { OwnedObject } from '../../src/storage/ports-ownership.js'
import { DEFAULT_PROFILES } from '../masking/helpers.js'

/**
 * The response half of the pipeline as `buildPipeline` orders it (observe → own → mask), over an
 * upstream answer given as byte chunks, without HTTP: what the client would receive, and the
 * context the later stages (limits, audit) read.
 */
export function maskingFor(masker: Masker | undefined): Masking {
  return { forRule: () => masker, requests: undefined, detectorsForRule: () => [] }
}

let compiled: Masking | undefined
/** The masking helpers' default profiles (every detector + a ticket pattern), compiled once for the file. */
export const defaultMasking = (): Masking => (compiled ??= maskingFor(compileMasker(DEFAULT_PROFILES, { thinking: 'keep' })))

export interface Answer {
  readonly ctx: RequestContext
  /** SSE: every frame as the client receives it; bytes: the chunks. */
  readonly frames: SseFrame[]
  readonly chunks: Uint8Array[]
  readonly recorded: OwnedObject[]
  /** What audit-close committed (content mode `masked`). */
  readonly completions: AuditCompletion[]
}

async function* from(parts: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part
}

/** As forward yields them: observed frames, the events each part completes together. */
async function* relay(parts: readonly Uint8Array[]): AsyncGenerator<readonly SseFrame[]> {
  const framer = new SseFramer()
  for await (const part of from(parts)) {
    const group = framer.push(part).map((raw) => ObservedFrame.fromRaw(raw))
    if (group.length > 0) yield group
  }
  const rest = framer.end()
  if (rest) yield [ObservedFrame.fromRaw(rest)]
}

export async function runResponse(method: string, path: string, contentType: string, parts: readonly Uint8Array[], masking: Masking = defaultMasking()): Promise<Answer> {
  const recorded: OwnedObject[] = []
  const completions: AuditCompletion[] = []
  const writer = { complete: async (_id: string, completion: AuditCompletion) => void completions.push(completion) } as unknown as AuditWriter
  const owners = { owners: async () => new Map(), record: async (objects: readonly OwnedObject[]) => void recorded.push(...objects) }
  const sse = contentType.startsWith('text/event-stream')
  const response: UpstreamResponse = {
    status: 200,
    headers: { 'content-type': contentType },
    body: sse ? { kind: 'sse', frames: relay(parts) } : { kind: 'bytes', chunks: from(parts) },
  }
  const ctx = {
    method, path, search: '', endpoint: classifyEndpoint(method, path), response,
    decision: { effect: 'allow', rule: 'ci', principal: 'p1', reasons: [] },
    id: 'req_1', startedAt: performance.now(), signal: new AbortController().signal,
    audit: { opening: {}, start: new Date() },
  } as unknown as RequestContext
  const frames: SseFrame[] = []
  const chunks: Uint8Array[] = []
  const drain = async (c: RequestContext) => {
    const body = c.response?.body
    if (body?.kind === 'sse') for await (const group of body.frames) frames.push(...group)
    else if (body) for await (const chunk of body.chunks) chunks.push(chunk)
  }
  await compose([observeResponse(), ownResponses(owners), maskResponse(masking), auditClose(writer, 'masked'), async (c, next) => { await drain(c); return next() }])(ctx)
  return { ctx, frames, chunks, recorded, completions }
}

/** Cuts `bytes` into two chunks at `k`. */
export const cut = (bytes: Buffer, k: number): Buffer[] => [bytes.subarray(0, k), bytes.subarray(k)]

export const sseText = (events: ReadonlyArray<readonly [string | undefined, unknown]>): string =>
  events.map(([name, data]) => `${name === undefined ? '' : `event: ${name}\n`}data: ${JSON.stringify(data)}\n\n`).join('')
