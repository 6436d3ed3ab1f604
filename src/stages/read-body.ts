import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../errors/gateway-error.js'
import type { Stage } from '../pipeline/stage.js'
import { JsonBodyError, parseJsonBody } from '../request/json-body.js'

/**
 * Reads the body into memory up to `maxBody` (413 beyond), and parses it as JSON when policy must
 * inspect it (400 when it does not parse, repeats a member name, nests too deep or overflows a
 * number). The bytes themselves are what goes upstream: the parse is for reading only, never
 * re-serialised (anthropic-api.md §0 rule 4).
 */
export const readBody = (maxBody: number): Stage =>
  async function readBody(ctx, next) {
    const declared = Number(ctx.headers['content-length'])
    if (Number.isFinite(declared) && declared > maxBody) throw tooLarge(maxBody)
    ctx.body = await collect(ctx.incoming, maxBody)
    if (ctx.endpoint?.inspectBody) ctx.json = parseBody(ctx.body)
    return next()
  }

async function collect(incoming: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of incoming) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > limit) throw tooLarge(limit)
    chunks.push(buf)
  }
  return chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size)
}

const tooLarge = (limit: number) => new GatewayError('GW_REQUEST_TOO_LARGE', { publicDetail: `limit ${limit} bytes` })

/** JSON for inspection: malformed, duplicate members, too deep or out-of-range numbers → 400. */
function parseBody(body: Buffer): unknown {
  try {
    return parseJsonBody(body)
  } catch (error) {
    if (!(error instanceof JsonBodyError)) throw error
    return refuse(error)
  }
}

function refuse(error: JsonBodyError): never {
  switch (error.problem) {
    case 'malformed':
      throw new GatewayError('GW_REQUEST_MALFORMED_JSON')
    case 'duplicate-member':
      throw new GatewayError('GW_REQUEST_MALFORMED_JSON', { publicDetail: `duplicate member name ${error.publicDetail ?? ''}`.trim() })
    default:
      throw new GatewayError('GW_REQUEST_MALFORMED_JSON', { publicDetail: error.publicDetail ?? error.problem })
  }
}
