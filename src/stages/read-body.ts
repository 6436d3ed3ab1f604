import { GatewayError } from '../errors/gateway-error.js'
import { readBody as readWithin } from '../exchange/read-body.js'
import type { Stage } from '../pipeline/stage.js'
import { extractRequestFacts } from '../policy/request-facts.js'
import { parseRequestJson } from '../request/json-request.js'

export interface BodyReading {
  /** `listen.maxBody`: larger bodies get 413. */
  readonly maxBody: number
  /** `listen.bodyTimeout`: the longest pause between two chunks of the body (408). */
  readonly idleMs: number
  /** `listen.requestTimeout`: node cuts the whole request at this age too; here it bounds the read itself. */
  readonly deadlineMs: number
}

/**
 * Reads the body into memory up to `maxBody` (413 beyond) while it keeps arriving (408 when it
 * stalls), and parses it as JSON when policy must inspect it (400 when it does not parse, repeats a
 * member name, nests too deep or overflows a number). The request facts every later stage reads are
 * derived here, once. The bytes themselves are what goes upstream: the parse is for reading only,
 * never re-serialised (anthropic-api.md §0 rule 4).
 */
export const readBody = (reading: BodyReading): Stage =>
  async function readBody(ctx, next) {
    const declared = Number(ctx.headers['content-length'])
    if (Number.isFinite(declared) && declared > reading.maxBody) throw tooLarge(reading.maxBody)
    const read = await readWithin(ctx.incoming, { maxBytes: reading.maxBody, idleMs: reading.idleMs, deadlineMs: reading.deadlineMs })
    if (!read.ok) throw refusedBody(read.reason, reading.maxBody)
    ctx.body = read.body
    if (ctx.endpoint?.inspectBody) ctx.json = parseRequestJson(ctx.body)
    ctx.facts = extractRequestFacts(ctx.endpoint?.name ?? 'unknown', ctx.json)
    return next()
  }

const tooLarge = (limit: number) => new GatewayError('GW_REQUEST_TOO_LARGE', { publicDetail: `limit ${limit} bytes`, headers: { connection: 'close' } })

/** The rest of a refused body is never read, so the connection closes with the answer. */
function refusedBody(reason: 'too_large' | 'timeout' | 'aborted', maxBody: number): GatewayError {
  if (reason === 'too_large') return tooLarge(maxBody)
  if (reason === 'timeout') return new GatewayError('GW_REQUEST_TIMEOUT', { publicDetail: 'the request body stopped arriving', headers: { connection: 'close' } })
  return new GatewayError('GW_REQUEST_UNPARSABLE', { publicDetail: 'the request body ended early', headers: { connection: 'close' } })
}
