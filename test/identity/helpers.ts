/** Small helpers shared by the identity tests. */
import { setTimeout as sleep } from 'node:timers/promises'
import { TokenError, type IssuerSpec, type TokenRejectReason } from '../../src/identity/index.js'

export { sleep }

export const AUDIENCE = 'https://skillgate.example'

/** Resolves to `'valid'` or the reject reason; rethrows anything that is not a `TokenError`. */
export async function reasonOf(verification: Promise<unknown>): Promise<TokenRejectReason | 'valid'> {
  try {
    await verification
    return 'valid'
  } catch (err) {
    if (TokenError.is(err)) return err.reason
    throw err
  }
}

/** A GitHub-like issuer spec for a fake issuer on loopback (discovery by default). */
export function githubSpec(issuer: string, overrides: Partial<IssuerSpec> = {}): IssuerSpec {
  return {
    id: 'github',
    issuer,
    jwks: { kind: 'discovery' },
    audience: AUDIENCE,
    algorithms: ['RS256', 'ES256'],
    maxLifetimeMs: 15 * 60_000,
    maxAgeMs: 10 * 60_000,
    clockSkewMs: 30_000,
    requiredClaims: ['jti'],
    allowInsecureHttp: true,
    ...overrides,
  }
}
