import { GatewayError } from '../errors/gateway-error.js'
import { JsonBodyError, parseJsonBody } from './json-body.js'

/**
 * A request body as JSON, for every surface that takes one (`/v1`, the admin API): malformed JSON,
 * a duplicate member name, nesting too deep or an out-of-range number → 400 naming the problem (a
 * member path, never a value), so no reader can take another member than the gateway acted on.
 */
export function parseRequestJson(body: Buffer): unknown {
  try {
    return parseJsonBody(body)
  } catch (error) {
    if (!(error instanceof JsonBodyError)) throw error
    if (error.problem === 'malformed') throw new GatewayError('GW_REQUEST_MALFORMED_JSON')
    const detail = error.problem === 'duplicate-member' ? `duplicate member name ${error.publicDetail ?? ''}`.trim() : (error.publicDetail ?? error.problem)
    throw new GatewayError('GW_REQUEST_MALFORMED_JSON', { publicDetail: detail })
  }
}
