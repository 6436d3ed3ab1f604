import { GatewayError } from '../errors/gateway-error.js'
import { createdObjects, filterPage, isCreateCall, listKind, messageObjects, pageIds, type OwnedKind, type OwnedObject } from '../ownership/index.js'
import type { SseFrame } from '../pipeline/response.js'
import type { Stage } from '../pipeline/stage.js'
import { ObservedFrame } from '../response/observed-frame.js'
import { jsonOf, rememberJson, whole } from '../response/observed-json.js'
import { linesOf, wholeLineBlocks } from '../response/observed-lines.js'
import { holdOutputWhile, type HoldsOutput } from '../response/outbox.js'
import { isBatchResultsPath } from './mask-downloads.js'
import type { OwnerRef, OwnershipStore } from '../storage/ports-ownership.js'

const CONTAINER = Buffer.from('"container"')
const FILE_ID = Buffer.from('"file_id"')

/**
 * Whether the bytes may name a container or a file, looked at before anyone parses them: a
 * `"file_id"`, or a `"container"` that is not `"container": null`, which most answers and their
 * `message_start` / `message_delta` events carry. Conservative: anything else counts as naming one.
 */
export const namesAnObject = (bytes: Uint8Array): boolean => {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buffer.includes(FILE_ID)) return true
  for (let at = buffer.indexOf(CONTAINER); at !== -1; at = buffer.indexOf(CONTAINER, at + CONTAINER.length)) {
    if (!isNullMember(buffer, at + CONTAINER.length)) return true
  }
  return false
}

/** `: null` (JSON whitespace allowed around the colon) at `at`. */
function isNullMember(buffer: Buffer, at: number): boolean {
  let i = skipSpace(buffer, at)
  if (buffer[i] !== 0x3a) return false
  i = skipSpace(buffer, i + 1)
  return buffer[i] === 0x6e && buffer[i + 1] === 0x75 && buffer[i + 2] === 0x6c && buffer[i + 3] === 0x6c
}

function skipSpace(buffer: Buffer, at: number): number {
  let i = at
  while (buffer[i] === 0x20 || buffer[i] === 0x09 || buffer[i] === 0x0a || buffer[i] === 0x0d) i++
  return i
}

/**
 * Right after the upstream answers: records the caller's principal as the owner of what a successful
 * call created (a batch, an uploaded file, a skill and its versions, the container and output files of
 * a Messages answer or of each message in a batch's results), and cuts list answers
 * (`GET /v1/messages/batches`, `GET /v1/files`) down to the caller's objects (ownership/list-page.ts
 * says what that does to pagination). The owner is committed
 * before the client can read the new id, so its next call, at any replica, finds it. When the store
 * cannot record it the answer fails (503 before the headers, `event: error` in a stream): the object
 * stays ownerless, which refuses it to everyone until an operator runs `skillgate owners assign`.
 */
export const ownResponses = (owners: Pick<OwnershipStore, 'owners' | 'record'>): Stage =>
  async function ownResponses(ctx, next) {
    const response = ctx.response
    const principal = ctx.decision?.principal
    if (!response || principal === undefined || response.status >= 300) return next()
    const owner: OwnerRef = { principal, rule: ctx.decision?.rule ?? null }
    const remember = rememberer(owners, owner)
    const body = response.body
    const list = listKind(ctx.method, ctx.path)
    if (body.kind === 'sse') {
      if (ctx.endpoint?.name === 'messages') response.body = { kind: 'sse', frames: watchFrames(body.frames, remember, ctx) }
    } else if (isCreateCall(ctx.method, ctx.path)) {
      response.body = { kind: 'bytes', chunks: afterWhole(body.chunks, (answer) => remember(createdObjects(ctx.path, answer))) }
    } else if (ctx.method === 'GET' && isBatchResultsPath(ctx.path)) {
      response.body = { kind: 'bytes', chunks: watchResultLines(body.chunks, remember) }
    } else if (ctx.endpoint?.name === 'messages' && ctx.method === 'POST') {
      // Most answers name no container and no file: those are passed on without a parse.
      response.body = { kind: 'bytes', chunks: afterWhole(body.chunks, (answer) => remember(messageObjects(answer)), namesAnObject) }
    } else if (list !== undefined) {
      // The length changes and headers leave first: sent chunked.
      delete response.headers['content-length']
      response.body = { kind: 'bytes', chunks: filtered(body.chunks, list, owners, principal) }
    }
    return next()
  }

type Remember = (objects: readonly OwnedObject[]) => Promise<void>

function rememberer(owners: Pick<OwnershipStore, 'record'>, owner: OwnerRef): Remember {
  const done = new Set<string>()
  return async (objects) => {
    const fresh = objects.filter((o) => !done.has(`${o.kind}:${o.id}`))
    if (fresh.length === 0) return
    try {
      await owners.record(fresh, owner)
    } catch (error) {
      const named = fresh.map((o) => `${o.kind} ${o.id}`).join(', ')
      throw new GatewayError('GW_OWNERSHIP_UNAVAILABLE', { detail: `owner of ${named} not recorded: ${(error as Error).message}`, cause: error })
    }
    for (const o of fresh) done.add(`${o.kind}:${o.id}`)
  }
}

/**
 * Holds a JSON answer until `use` has seen it whole (when `worth` says it may name something), then
 * passes the original bytes on. The parse is the observer's (`jsonOf`), shared with later stages.
 */
async function* afterWhole(chunks: AsyncIterable<Uint8Array>, use: (answer: unknown) => Promise<void>, worth: (bytes: Uint8Array) => boolean = () => true): AsyncGenerator<Uint8Array> {
  const bytes = await whole(chunks)
  if (worth(bytes)) await use(jsonOf(bytes))
  if (bytes.byteLength > 0) yield bytes
}

/**
 * Stream events that never carry a container or a created file (`messageObjects` finds them in
 * `message_start`, `message_delta` and `content_block_start`): most of a stream, so their bytes are
 * not searched. The name is parsed anyway by the stages after this one (masking, the audit's log);
 * an event of any other name is searched as before.
 */
const namesNothing: ReadonlySet<string> = new Set(['content_block_delta', 'content_block_stop', 'message_stop', 'ping'])

/** Whether a stream event may name a container or a file (bench/lib/micro.mjs runs it too). */
export const eventMayNameObject = (frame: ObservedFrame): boolean => !namesNothing.has(frame.event) && namesAnObject(frame.raw)

/**
 * A group of events that names a container or a file is passed on once what it names is recorded
 * (parsed once, by the observer's frame): one commit for the group, and what respond has queued
 * before it waits too, so it all leaves together.
 */
async function* watchFrames(groups: AsyncIterable<readonly SseFrame[]>, remember: Remember, holder: HoldsOutput): AsyncGenerator<readonly SseFrame[]> {
  for await (const group of groups) {
    let named: OwnedObject[] | undefined
    for (const raw of group) {
      const frame = ObservedFrame.of(raw)
      if (!eventMayNameObject(frame)) continue
      const data = frame.json
      named ??= []
      named.push(...messageObjects(isObject(data) && isObject(data.message) ? data.message : data))
    }
    if (named) await holdOutputWhile(holder, remember(named))
    yield group
  }
}

/**
 * Batch results (JSONL): each message's container and output files belong to the batch's owner, who
 * alone may read them. Only whole lines are passed on, each after what it names was recorded.
 */
async function* watchResultLines(chunks: AsyncIterable<Uint8Array>, remember: Remember): AsyncGenerator<Uint8Array> {
  for await (const block of wholeLineBlocks(chunks)) {
    await rememberLines(block, remember)
    yield block
  }
}

/** Each line parsed once, shared with mask-downloads (`linesOf`), and only in a block that names something. */
async function rememberLines(block: Buffer, remember: Remember): Promise<void> {
  if (!namesAnObject(block)) return
  const named: OwnedObject[] = []
  for (const line of linesOf(block)) {
    const entry = line.json
    const result = isObject(entry) ? entry.result : undefined
    if (isObject(result) && isObject(result.message)) named.push(...messageObjects(result.message))
  }
  await remember(named)
}

async function* filtered(chunks: AsyncIterable<Uint8Array>, kind: OwnedKind, owners: Pick<OwnershipStore, 'owners'>, principal: string): AsyncGenerator<Uint8Array> {
  const answer = jsonOf(await whole(chunks))
  const ids = pageIds(answer)
  // Not a list page (an upstream change): nothing in it can be shown safely.
  if (ids === undefined || !isObject(answer)) throw new GatewayError('GW_OWNERSHIP_UNAVAILABLE', { detail: `the ${kind} list answer is not a page` })
  let known
  try {
    known = await owners.owners(kind, ids)
  } catch (error) {
    throw new GatewayError('GW_OWNERSHIP_UNAVAILABLE', { detail: (error as Error).message, cause: error })
  }
  const page = filterPage(answer, (id) => known.get(id)?.principal === principal).body
  yield rememberJson(Buffer.from(JSON.stringify(page)), page)
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
