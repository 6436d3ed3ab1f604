/**
 * Credential check of the mock: the configured API key, or an unexpired access token minted by the
 * mock's own /v1/oauth/token, in `x-api-key` or `Authorization: Bearer`.
 *
 * Every credential header that is present must be valid. A gateway that forwards the client's
 * credential next to the upstream one therefore gets a 401 here, which is exactly what tests want to see.
 */
import { header } from './http-io.js'
import type { Ctx, MockState } from './types.js'

export type AuthResult = { ok: true } | { ok: false; message: string }

type CredentialCheck = 'valid' | 'expired' | 'invalid'

function checkCredential(state: MockState, credential: string): CredentialCheck {
  if (credential === state.apiKey) return 'valid'
  const expiresAt = state.tokens.get(credential)
  if (expiresAt === undefined) return 'invalid'
  return expiresAt > Date.now() ? 'valid' : 'expired'
}

const EXPIRED_MESSAGE = 'OAuth token has expired. Please obtain a new token or refresh your existing token.'

export function authenticate(ctx: Ctx): AuthResult {
  const apiKey = header(ctx, 'x-api-key')
  const authorization = header(ctx, 'authorization')
  if (apiKey === undefined && authorization === undefined) {
    return { ok: false, message: 'x-api-key header is required' }
  }
  if (apiKey !== undefined) {
    const check = checkCredential(ctx.state, apiKey.trim())
    if (check !== 'valid') return { ok: false, message: check === 'expired' ? EXPIRED_MESSAGE : 'invalid x-api-key' }
  }
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (match?.[1] === undefined) return { ok: false, message: 'Invalid bearer token' }
    const check = checkCredential(ctx.state, match[1])
    if (check !== 'valid') return { ok: false, message: check === 'expired' ? EXPIRED_MESSAGE : 'Invalid bearer token' }
  }
  return { ok: true }
}
