/**
 * SAML 2.0 assertions as RFC 8693 `saml2` subject tokens (workload-identity.md §8). `node-saml`
 * validates only whole `<samlp:Response>` documents, so the bare assertion is wrapped in a synthetic,
 * unsigned Response and the assertion's own signature is required. The checks `node-saml` leaves out
 * are done here: no DOCTYPE (entity expansion), a 64 KiB cap, exactly one root element, the assertion
 * `Issuer` (node-saml checks `idpIssuer` only on logout messages), a bearer `SubjectConfirmationData`
 * whose `Recipient` is this token endpoint (RFC 7522 §3), an `IssueInstant` no later than now + skew, a maximum
 * lifetime counted from it, and SHA-256/512 signature algorithms only (`saml-signature.ts`). Replay (assertion
 * `ID` until `NotOnOrAfter`) is enforced by the exchange handler through the shared replay guard.
 */
import { randomBytes } from 'node:crypto'
import { SAML, ValidateInResponseTo, type Profile } from '@node-saml/node-saml'
import { parseDomFromString } from '@node-saml/node-saml/lib/xml.js'
import { deepFreeze } from '../identity/strict-json.js'
import type { VerifiedToken } from '../identity/index.js'
import { REPLAY_GRACE_MS } from './replay-grace.js'
import { samlAssertionFacts, type AssertionFacts } from './saml-assertion.js'
import { SamlRejectedError } from './saml-error.js'
import { hasStrongSignature } from './saml-signature.js'
import type { SamlAssertionVerifier } from './types.js'

export const MAX_SAML_ASSERTION_BYTES = 64 * 1024
const SAML2_ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion'
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/

export interface SamlIssuerSpec {
  readonly id: string
  /** Exact `<saml:Issuer>` of the assertion: the IdP's entity ID. */
  readonly entityId: string
  /** PEM certificates (or SPKI public keys) trusted to sign; a function is read on every verification (rotation). */
  readonly certificates: readonly string[] | (() => readonly string[])
  /** This gateway's SP entity ID; an `AudienceRestriction/Audience` must equal it. */
  readonly audience: string
  /** Largest `NotOnOrAfter − IssueInstant`. */
  readonly maxLifetimeMs: number
  /** Largest `now − IssueInstant` (node-saml `maxAssertionAgeMs`); default: not limited beyond `NotOnOrAfter`. */
  readonly maxAgeMs?: number
  readonly clockSkewMs: number
}

export interface SamlVerifierOptions {
  readonly issuers: readonly SamlIssuerSpec[]
  /** Absolute URL of `POST /v1/oauth/token` as clients reach it: the required `Recipient`. */
  readonly tokenEndpoint: string
  /** For skillgate's own checks; node-saml itself reads the system clock. */
  readonly now?: () => number
}

export { SamlRejectedError } from './saml-error.js'

interface Entry {
  readonly spec: SamlIssuerSpec
  readonly saml: SAML
}

/**
 * @example
 * const saml = createSamlVerifier({ tokenEndpoint: 'https://skillgate.example/v1/oauth/token',
 *   issuers: [{ id: 'corp', entityId: 'https://idp.corp.example', certificates: [pem],
 *     audience: 'https://skillgate.example', maxLifetimeMs: 600_000, clockSkewMs: 30_000 }] })
 */
export function createSamlVerifier(options: SamlVerifierOptions): SamlAssertionVerifier {
  const now = options.now ?? Date.now
  const byEntityId = new Map<string, Entry>()
  for (const spec of options.issuers) {
    if (byEntityId.has(spec.entityId)) throw new Error(`SAML issuer "${spec.id}": entityId already configured`)
    if (!(spec.clockSkewMs >= 0) || !(spec.maxLifetimeMs > 0)) throw new Error(`SAML issuer "${spec.id}": clockSkewMs and maxLifetimeMs must be positive`)
    // Replay entries live until NotOnOrAfter + REPLAY_GRACE_MS: a larger skew would outlive them (as for OIDC issuers).
    if (spec.clockSkewMs > REPLAY_GRACE_MS) throw new Error(`SAML issuer "${spec.id}": clockSkewMs must be at most ${REPLAY_GRACE_MS} (5 min)`)
    byEntityId.set(spec.entityId, { spec, saml: new SAML(samlOptions(spec, options.tokenEndpoint)) })
  }
  return {
    async verify(subjectToken) {
      const xml = decodeAssertion(subjectToken)
      const { assertionXml, issuer } = await parseBareAssertion(xml)
      const entry = byEntityId.get(issuer)
      if (entry === undefined) throw new SamlRejectedError('untrusted_issuer')
      const profile = await validate(entry, assertionXml)
      const nowMs = now()
      const { clockSkewMs, maxLifetimeMs } = entry.spec
      const facts = samlAssertionFacts(profile, { tokenEndpoint: options.tokenEndpoint, nowMs, clockSkewMs })
      if (typeof facts === 'string') throw new SamlRejectedError(facts, entry.spec.id)
      if (facts.issuer !== entry.spec.entityId) throw new SamlRejectedError('issuer', entry.spec.id)
      // Like a JWT's iat: a future IssueInstant would stretch the lifetime and slip past principal revocation cut-offs.
      if (facts.issuedAtMs > nowMs + clockSkewMs) throw new SamlRejectedError('issue_instant', entry.spec.id)
      if (facts.expMs - Math.min(facts.issuedAtMs, nowMs) > maxLifetimeMs) throw new SamlRejectedError('lifetime', entry.spec.id)
      return toVerifiedToken(entry.spec, facts)
    },
  }
}

function samlOptions(spec: SamlIssuerSpec, tokenEndpoint: string): ConstructorParameters<typeof SAML>[0] {
  const { certificates } = spec
  return {
    idpCert: typeof certificates === 'function' ? (callback) => callback(null, [...certificates()]) : [...certificates],
    idpIssuer: spec.entityId,
    issuer: spec.audience,
    audience: spec.audience,
    callbackUrl: tokenEndpoint,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.never,
    acceptedClockSkewMs: spec.clockSkewMs,
    maxAssertionAgeMs: spec.maxAgeMs ?? 0,
  }
}

/** RFC 7522 §2.1 / RFC 8693 §3: base64url, padding tolerated; then strict UTF-8 and no DOCTYPE. */
function decodeAssertion(subjectToken: string): string {
  if (subjectToken.length > Math.ceil((MAX_SAML_ASSERTION_BYTES * 4) / 3) + 2) throw new SamlRejectedError('too_large')
  if (!BASE64URL.test(subjectToken)) throw new SamlRejectedError('malformed')
  const bytes = Buffer.from(subjectToken.replace(/=+$/, ''), 'base64url')
  if (bytes.byteLength > MAX_SAML_ASSERTION_BYTES) throw new SamlRejectedError('too_large')
  let xml: string
  try {
    xml = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new SamlRejectedError('malformed')
  }
  // Before any parser sees it: a DOCTYPE can declare entities (billion laughs, XXE); SAML never needs one.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) throw new SamlRejectedError('doctype')
  const declaration = /^\s*<\?xml[^>]*\?>/.exec(xml)
  if (declaration !== null && /encoding\s*=\s*["'](?!utf-?8["'])/i.test(declaration[0])) throw new SamlRejectedError('malformed')
  return declaration === null ? xml : xml.slice(declaration[0].length)
}

/** The subset of the xmldom DOM this module reads (the package's types need the DOM lib). */
interface XNode {
  readonly nodeType: number
  readonly localName?: string | null
  readonly namespaceURI?: string | null
  readonly textContent?: string | null
  readonly childNodes: { readonly length: number; item(index: number): XNode | null }
  toString(): string
}

function elementChildren(node: XNode): XNode[] {
  const out: XNode[] = []
  for (let i = 0; i < node.childNodes.length; i++) {
    const child = node.childNodes.item(i)
    if (child !== null && child.nodeType === 1) out.push(child)
  }
  return out
}

/**
 * Exactly one root element, a SAML 2.0 `Assertion`. It is re-serialised from the DOM before wrapping:
 * the lenient parser accepts stray end tags, so the raw text could close the synthetic Response early.
 */
async function parseBareAssertion(xml: string): Promise<{ assertionXml: string; issuer: string }> {
  let doc: XNode
  try {
    doc = (await parseDomFromString(xml)) as unknown as XNode
  } catch {
    throw new SamlRejectedError('malformed')
  }
  const roots = elementChildren(doc)
  const root = roots[0]
  if (roots.length !== 1 || root === undefined || root.localName !== 'Assertion' || root.namespaceURI !== SAML2_ASSERTION_NS) {
    throw new SamlRejectedError('malformed')
  }
  const issuerElement = elementChildren(root).find((child) => child.localName === 'Issuer' && child.namespaceURI === SAML2_ASSERTION_NS)
  const issuer = issuerElement?.textContent?.trim()
  if (issuer === undefined || issuer === '') throw new SamlRejectedError('untrusted_issuer')
  return { assertionXml: root.toString(), issuer }
}

async function validate(entry: Entry, assertionXml: string): Promise<Profile> {
  const wrapper =
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_${randomBytes(16).toString('hex')}" ` +
    `Version="2.0" IssueInstant="${new Date().toISOString()}"><samlp:Status>` +
    `<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>${assertionXml}</samlp:Response>`
  try {
    const { profile } = await entry.saml.validatePostResponseAsync({ SAMLResponse: Buffer.from(wrapper, 'utf8').toString('base64') })
    if (profile === null) throw new SamlRejectedError('invalid', entry.spec.id)
    if (!(await hasStrongSignature(wrapper, certificatesOf(entry.spec)))) throw new SamlRejectedError('algorithm', entry.spec.id)
    return profile
  } catch (err) {
    if (err instanceof SamlRejectedError) throw err
    // node-saml messages echo attacker-chosen values (audiences, issuers): keep only a category.
    throw new SamlRejectedError(categorise(err), entry.spec.id)
  }
}

function certificatesOf(spec: SamlIssuerSpec): readonly string[] {
  return typeof spec.certificates === 'function' ? spec.certificates() : spec.certificates
}

function categorise(err: unknown): string {
  const message = err instanceof Error ? err.message : ''
  if (/signature/i.test(message)) return 'signature'
  if (/audience/i.test(message)) return 'audience'
  if (/expired|not yet valid|too old/i.test(message)) return 'time'
  return 'invalid'
}

function toVerifiedToken(spec: SamlIssuerSpec, facts: AssertionFacts): VerifiedToken {
  const claims: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  claims.iss = facts.issuer
  claims.sub = facts.nameId
  claims.jti = facts.id
  claims.aud = spec.audience
  claims.iat = Math.floor(facts.issuedAtMs / 1000)
  claims.exp = Math.floor(facts.expMs / 1000)
  if (facts.nameIdFormat !== undefined) claims.name_id_format = facts.nameIdFormat
  claims.attributes = facts.attributes
  return { issuerId: spec.id, claims: deepFreeze(claims), header: Object.freeze({ alg: 'saml2' }) }
}
