import { GatewayError } from '../errors/gateway-error.js'
import type { Stage } from '../pipeline/stage.js'
import { buildUpstreamHeaders, type UpstreamCredential } from '../upstream/forwarded-headers.js'

/**
 * Gives the current upstream credential for a request under `rule` (a rule may have its own), or
 * undefined when none is available right now.
 */
export type CredentialProvider = (rule?: string) => UpstreamCredential | undefined

/**
 * Strips the client's credentials, hop-by-hop and internal headers, and sets the one upstream
 * credential that only the gateway holds — the rule's own when it has one (`rules[].upstream`).
 * Without a credential nothing is forwarded (503).
 */
export const injectCredential = (credential: CredentialProvider): Stage =>
  async function injectCredential(ctx, next) {
    const current = credential(ctx.decision?.rule)
    if (!current) throw new GatewayError('GW_UPSTREAM_CREDENTIAL_UNAVAILABLE')
    ctx.upstreamHeaders = buildUpstreamHeaders(ctx.rawHeaders, current)
    return next()
  }
