import { describe, expect, it } from 'vitest'
import { isGatewayError } from '../../src/errors/gateway-error.js'
import type { RequestContext } from '../../src/pipeline/context.js'
import { checkOwnership } from '../../src/stages/check-ownership.js'
import { eventMayNameObject, ownResponses } from '../../src/stages/own-responses.js'
import { ObservedFrame } from '../../src/response/observed-frame.js'
import type { OwnedKind, OwnedObject, OwnerRef, Ownership } from '../../src/storage/ports-ownership.js'

/** The two ownership stages against a store that is down: the request is refused, never let through. */

const down = {
  owners: async (): Promise<ReadonlyMap<string, Ownership>> => {
    throw new Error('connection refused')
  },
  record: async (): Promise<void> => {
    throw new Error('connection refused')
  },
  forget: async (): Promise<void> => {
    throw new Error('connection refused')
  },
}
const none = () => new Set<string>()

function context(method: string, path: string, extra: Partial<RequestContext> = {}): RequestContext {
  return { method, path, decision: { effect: 'allow', rule: 'ci', principal: 'p1', reasons: [] }, ...extra } as RequestContext
}

async function codeOf(run: Promise<unknown>): Promise<string> {
  try {
    await run
    return 'passed'
  } catch (error) {
    return isGatewayError(error) ? error.code : String(error)
  }
}

async function drain(ctx: RequestContext): Promise<string> {
  const body = ctx.response?.body
  if (body?.kind !== 'bytes') return ''
  const parts: Uint8Array[] = []
  for await (const chunk of body.chunks) parts.push(chunk)
  return Buffer.concat(parts).toString('utf8')
}

async function* chunks(text: string) {
  yield Buffer.from(text)
}

describe('check-ownership', () => {
  it('refuses with 503 when the owners cannot be read, and never calls next', async () => {
    let forwarded = false
    const stage = checkOwnership(down, none)
    expect(await codeOf(stage(context('GET', '/v1/files/file_1'), async () => void (forwarded = true)))).toBe('GW_OWNERSHIP_UNAVAILABLE')
    expect(forwarded).toBe(false)
  })

  it('asks nothing of the store for a request that names no object', async () => {
    let forwarded = false
    await checkOwnership(down, none)(context('GET', '/v1/files', { json: undefined }), async () => void (forwarded = true))
    expect(forwarded).toBe(true)
  })

  it('records the refusal as the decision\'s last reason', async () => {
    const found = new Map<string, Ownership>([['file_1', { kind: 'file', id: 'file_1', principal: 'p2', rule: 'x', createdAt: new Date(0), assignedBy: null }]])
    const store = { owners: async (kind: OwnedKind) => (kind === 'file' ? found : new Map<string, Ownership>()), forget: async () => undefined }
    const ctx = context('POST', '/v1/messages', { json: { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'file_1' } }] }] } })
    expect(await codeOf(checkOwnership(store, none)(ctx, async () => undefined))).toBe('GW_OBJECT_NOT_FOUND')
    expect(ctx.decision).toMatchObject({ effect: 'deny', deniedBy: { code: 'object-not-owned', detail: 'file file_1 in messages[0].content[0].source' } })
  })

  it('forgets the owner of what a successful DELETE removed, and nothing else', async () => {
    const mine = new Map<string, Ownership>([['file_1', { kind: 'file', id: 'file_1', principal: 'p1', rule: 'r', createdAt: new Date(0), assignedBy: null }]])
    const forgotten: unknown[] = []
    const store = { owners: async () => mine, forget: async (object: unknown) => void forgotten.push(object) }
    const answer = (status: number) => async (ctx: RequestContext) => {
      ctx.response = { status, headers: {}, body: { kind: 'bytes', chunks: chunks('{}') } }
    }
    for (const [method, path, status] of [['GET', '/v1/files/file_1', 200], ['DELETE', '/v1/files/file_1/content', 200], ['DELETE', '/v1/files/file_1', 404], ['DELETE', '/v1/files/file_1', 200]] as const) {
      const ctx = context(method, path, { json: undefined })
      await checkOwnership(store, none)(ctx, () => answer(status)(ctx))
    }
    expect(forgotten).toEqual([{ kind: 'file', id: 'file_1' }])
  })

  it('a store that cannot forget leaves the answer as it was (the row only stays behind)', async () => {
    const store = { owners: async () => new Map<string, Ownership>([['file_1', { kind: 'file', id: 'file_1', principal: 'p1', rule: 'r', createdAt: new Date(0), assignedBy: null }]]), forget: down.forget }
    const warned: string[] = []
    const ctx = context('DELETE', '/v1/files/file_1', { json: undefined, log: { warn: (_fields: unknown, message: string) => void warned.push(message) } as unknown as RequestContext['log'] })
    await checkOwnership(store, none)(ctx, async () => {
      ctx.response = { status: 200, headers: {}, body: { kind: 'bytes', chunks: chunks('{}') } }
    })
    expect(ctx.response?.status).toBe(200)
    expect(warned).toEqual(['owner of a deleted object not forgotten'])
  })
})

describe('own-responses', () => {
  it('fails a create answer before its first byte when the owner cannot be recorded', async () => {
    const ctx = context('POST', '/v1/files', { response: { status: 200, headers: {}, body: { kind: 'bytes', chunks: chunks('{"id":"file_9","type":"file"}') } } })
    await ownResponses(down)(ctx, async () => undefined)
    expect(await codeOf(drain(ctx))).toBe('GW_OWNERSHIP_UNAVAILABLE')
  })

  it('records before passing the answer on, as the caller\'s principal and rule', async () => {
    const recorded: Array<[readonly OwnedObject[], OwnerRef]> = []
    const store = { ...down, record: async (objects: readonly OwnedObject[], owner: OwnerRef) => void recorded.push([objects, owner]) }
    const ctx = context('POST', '/v1/messages/batches', { response: { status: 200, headers: {}, body: { kind: 'bytes', chunks: chunks('{"id":"msgbatch_9"}') } } })
    await ownResponses(store)(ctx, async () => undefined)
    expect(await drain(ctx)).toBe('{"id":"msgbatch_9"}')
    expect(recorded).toEqual([[[{ kind: 'batch', id: 'msgbatch_9' }], { principal: 'p1', rule: 'ci' }]])
  })

  it('refuses to pass on a list it cannot filter', async () => {
    const ctx = context('GET', '/v1/files', { response: { status: 200, headers: {}, body: { kind: 'bytes', chunks: chunks('{"data":[{"id":"file_1"}],"next_page":null}') } } })
    await ownResponses(down)(ctx, async () => undefined)
    expect(await codeOf(drain(ctx))).toBe('GW_OWNERSHIP_UNAVAILABLE')
  })
})

describe('which stream events own-responses searches for created objects', () => {
  const frame = (event: string, data: unknown) => ObservedFrame.fromRaw(Buffer.from(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`))
  const container = { id: 'container_1', expires_at: '2026-12-07T03:00:00Z' }

  it('searches the events that can name a container or a file, and any event it does not know', () => {
    expect(eventMayNameObject(frame('message_start', { type: 'message_start', message: { id: 'msg_1', container } }))).toBe(true)
    expect(eventMayNameObject(frame('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', container } }))).toBe(true)
    const result = { type: 'bash_code_execution_tool_result', content: { type: 'bash_code_execution_result', content: [{ type: 'bash_code_execution_output', file_id: 'file_1' }] } }
    expect(eventMayNameObject(frame('content_block_start', { type: 'content_block_start', index: 0, content_block: result }))).toBe(true)
    expect(eventMayNameObject(frame('some_future_event', { type: 'some_future_event', container }))).toBe(true)
  })

  it('does not search deltas, stops and pings, whatever their text says', () => {
    const text = 'see "container": {"id": "container_9"} and "file_id": "file_9"'
    expect(eventMayNameObject(frame('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }))).toBe(false)
    // The name decides, not the bytes: a delta is never where the API reports a container.
    expect(eventMayNameObject(frame('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x', container } }))).toBe(false)
    expect(eventMayNameObject(frame('content_block_stop', { type: 'content_block_stop', index: 0 }))).toBe(false)
    expect(eventMayNameObject(frame('message_stop', { type: 'message_stop' }))).toBe(false)
    expect(eventMayNameObject(frame('ping', { type: 'ping' }))).toBe(false)
  })

  it('does not count a container that is null', () => {
    expect(eventMayNameObject(frame('message_start', { type: 'message_start', message: { id: 'msg_1', container: null } }))).toBe(false)
  })
})
