import { GatewayError } from '../errors/gateway-error.js'
import type { Masking } from '../masking/rule-masking.js'
import type { Stage } from '../pipeline/stage.js'
import { extractRequestFacts } from '../policy/request-facts.js'

/**
 * Secrets must not leave for Claude (SPEC §6): detectors under `masking.requests.block` refuse the
 * request with 400 before anything goes upstream, naming the detector and where it was found (never
 * the value); detectors under `masking.requests.mask` replace the value instead, and only then is the
 * body re-serialised.
 */
export const guardRequest = (masking: Masking): Stage =>
  async function guardRequest(ctx, next) {
    const requests = masking.requests
    if (requests && ctx.json !== undefined && ctx.endpoint?.inspectBody) {
      if (requests.block.length > 0) {
        const { findings } = requests.masker.scanRequest(ctx.json, requests.block)
        const first = findings[0]
        if (first) {
          const more = findings.length > 1 ? ` (and ${findings.length - 1} more)` : ''
          throw new GatewayError('GW_REQUEST_BLOCKED_SECRET', { publicDetail: `${first.detector} at ${first.path}${more}` })
        }
      }
      if (requests.mask.length > 0) {
        const masked = requests.masker.maskRequest(ctx.json, requests.mask)
        if (masked.changed) {
          ctx.json = masked.body
          ctx.body = Buffer.from(JSON.stringify(masked.body))
          ctx.requestMaskHits = masked.hits
          // What goes upstream changed, so what policy and the audit read is derived again from it.
          ctx.facts = extractRequestFacts(ctx.endpoint.name, masked.body)
        }
      }
    }
    return next()
  }
