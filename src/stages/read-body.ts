import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../errors/gateway-error.js'
import type { Stage } from '../pipeline/stage.js'

/**
 * Reads the body into memory up to `maxBody` (413 beyond), and parses it as JSON when policy must
 * inspect it (400 when it does not parse). The bytes themselves are what goes upstream: the parse is
 * for reading only, never re-serialised (anthropic-api.md §0 rule 4).
 */
export const readBody = (maxBody: number): Stage =>
  async function readBody(ctx, next) {
    const declared = Number(ctx.headers['content-length'])
    if (Number.isFinite(declared) && declared > maxBody) throw tooLarge(maxBody)
    ctx.body = await collect(ctx.incoming, maxBody)
    if (ctx.endpoint?.inspectBody) {
      let json: unknown
      try {
        json = JSON.parse(ctx.body.toString('utf8'))
      } catch {
        throw new GatewayError('GW_REQUEST_MALFORMED_JSON')
      }
      ctx.json = hashable(json) ? json : undefined
      if (ctx.json === undefined && json !== undefined) throw new GatewayError('GW_REQUEST_MALFORMED_JSON', { publicDetail: 'nested deeper than 256 levels or a number out of range' })
    }
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

/** Depth at most 256 and finite numbers (what the audit's canonical JSON can hash); iterative, no recursion. */
function hashable(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number]
    if (typeof v === 'number' && !Number.isFinite(v)) return false
    if (typeof v !== 'object' || v === null) continue
    if (depth >= 256) return false
    for (const child of Object.values(v)) stack.push([child, depth + 1])
  }
  return true
}
