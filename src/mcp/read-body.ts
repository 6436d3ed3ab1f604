import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../errors/gateway-error.js'

/**
 * The whole body, refused with 413 as soon as it passes `max` bytes (declared or streamed): nothing
 * past the limit is buffered. A client that stops sending is ended by the listener's own timeouts.
 */
export async function readLimitedBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = () => new GatewayError('GW_REQUEST_TOO_LARGE', { publicDetail: `an MCP message may be at most ${max} bytes` })
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > max) throw tooLarge()
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > max) throw tooLarge()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}
