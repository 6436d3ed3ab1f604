import { parseTrustedKeys, signingKeyFromPem } from '../audit/heads/index.js'
import { parseTsaTrust } from '../audit/timestamp/index.js'
import type { ConfigProblem } from './check-semantics.js'

/** The audit's key material as resolved secrets' texts; undefined where absent or not resolved (already reported). */
export interface AuditKeyTexts {
  readonly signingKey?: string | undefined
  readonly previousKeys: readonly (string | undefined)[]
  readonly tsaTrust?: string | undefined
}

/**
 * `config validate` (and start-up) read the audit's key material the way the gateway will use it,
 * so a PEM that does not parse is reported with every other problem, path and hint included:
 * `audit.signing.key` (PKCS#8 Ed25519 or P-256), `previousKeys` (public keys or a JWKS) and
 * `audit.timestamping.trust` (the TSA's CA certificates).
 */
export function auditKeyProblems(texts: AuditKeyTexts): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const check = (text: string | undefined, path: (string | number)[], parse: (text: string) => unknown, hint: string) => {
    if (text === undefined) return
    try {
      parse(text)
    } catch (error) {
      problems.push({ path, message: (error as Error).message, hint })
    }
  }
  check(texts.signingKey, ['audit', 'signing', 'key'], signingKeyFromPem, 'a PKCS#8 PEM private key, e.g. openssl genpkey -algorithm ed25519')
  texts.previousKeys.forEach((text, i) => check(text, ['audit', 'signing', 'previousKeys', i], parseTrustedKeys, 'a PEM public key or the JWKS of /.well-known/skillgate-audit-keys'))
  check(texts.tsaTrust, ['audit', 'timestamping', 'trust'], (text) => parseTsaTrust(text, 'audit.timestamping.trust'), "the TSA's CA certificate(s), PEM")
  return problems
}
