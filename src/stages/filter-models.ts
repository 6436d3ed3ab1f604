import { GatewayError } from '../errors/gateway-error.js'
import { compileGlob } from '../policy/glob.js'
import type { RequestContext } from '../pipeline/context.js'
import type { Stage } from '../pipeline/stage.js'

/** The `allow.models` globs of a rule, by id (undefined: the rule is gone or grants none). */
export type ModelGlobsOf = (rule: string) => readonly string[] | undefined

/** A model list is a few KiB; anything far larger is not one, and is refused rather than buffered. */
const maxListBytes = 4 * 1024 * 1024

/**
 * `GET /v1/models` answers only the models the caller's rule allows (claude-api-2026.md §6: Claude
 * Code's gateway model discovery keeps what it is given, so an unfiltered list offers models every
 * request would then be refused). `GET /v1/models/{id}` of a model outside `allow.models` is refused
 * with 403. Runs after forward: only successful JSON answers are rewritten; errors pass unchanged.
 * An answer that cannot be read as a model list is withheld (fail closed), never passed unfiltered.
 */
export const filterModels = (globsOf: ModelGlobsOf): Stage =>
  async function filterModels(ctx, next) {
    const response = ctx.response
    if (ctx.endpoint?.name !== 'models' || !response || response.status >= 300 || response.body.kind !== 'bytes') return next()
    const granted = compileGrant(globsOf(ctx.decision?.rule ?? ''))
    if (ctx.path.startsWith('/v1/models/')) {
      const id = decoded(ctx.path.slice('/v1/models/'.length))
      if (!granted(id)) throw denied(ctx, id)
      return next()
    }
    const json = await readJson(response.body.chunks)
    const filtered = filterList(json.value, granted)
    delete response.headers['content-length']
    response.body = { kind: 'bytes', chunks: once(Buffer.from(JSON.stringify(filtered))) }
    return next()
  }

function compileGrant(globs: readonly string[] | undefined): (id: string) => boolean {
  const matchers = (globs ?? []).map(compileGlob)
  return (id) => id !== '' && matchers.some((match) => match(id))
}

/**
 * `{data, has_more, first_id, last_id}` with `data` narrowed and the page ids recomputed. While
 * more pages follow, `last_id` stays the upstream's cursor: a page whose models were all filtered
 * out must still let a client page on (`after_id`) instead of stalling or starting over.
 */
function filterList(list: unknown, granted: (id: string) => boolean): Record<string, unknown> {
  if (!isObject(list) || !Array.isArray(list.data)) throw unreadable('the answer has no data list')
  const data = list.data.filter((entry) => isObject(entry) && typeof entry.id === 'string' && granted(entry.id)) as Record<string, unknown>[]
  const lastId = list.has_more === true ? list.last_id : (data.at(-1)?.id ?? null)
  return { ...list, data, first_id: data[0]?.id ?? null, last_id: lastId }
}

/** A path segment as the API reads it; an undecodable one names no model (`''`, never granted). */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return ''
  }
}

async function readJson(chunks: AsyncIterable<Uint8Array>): Promise<{ value: unknown }> {
  const parts: Uint8Array[] = []
  let size = 0
  for await (const chunk of chunks) {
    size += chunk.length
    if (size > maxListBytes) throw unreadable(`the answer exceeds ${maxListBytes} bytes`)
    parts.push(chunk)
  }
  const bytes = Buffer.concat(parts)
  try {
    return { value: JSON.parse(bytes.toString('utf8')) as unknown }
  } catch {
    throw unreadable('the answer is not JSON')
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

const denied = (ctx: RequestContext, id: string) =>
  new GatewayError('GW_AUTHZ_MODEL_DENIED', { publicDetail: `rule ${ctx.decision?.rule ?? '(none)'}; model ${id.slice(0, 100)} is not in allow.models` })

const unreadable = (detail: string) => new GatewayError('GW_UPSTREAM_STREAM_FAILED', { publicDetail: 'model list withheld: not a model list', detail })

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
