// Apart from saml.ts so the exchange handler can recognise the error without loading the SAML library.
/** Reasons: malformed, too_large, doctype, untrusted_issuer, signature, algorithm, audience, time, issue_instant, issuer, recipient, lifetime, subject, invalid. */
export class SamlRejectedError extends Error {
  readonly reason: string
  readonly issuerId?: string

  constructor(reason: string, issuerId?: string) {
    super(`SAML assertion rejected: ${reason}`)
    this.name = 'SamlRejectedError'
    this.reason = reason
    if (issuerId !== undefined) this.issuerId = issuerId
  }
}
