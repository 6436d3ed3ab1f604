/**
 * Reads what the exchange needs from an assertion node-saml has already verified (signature,
 * audience, `Conditions` times), and applies the bearer rules node-saml does not: RFC 7522 §3 and
 * SAML 2.0 Profiles §4.1.4.2 require a bearer `SubjectConfirmationData` with `NotOnOrAfter` and a
 * `Recipient` equal to the token endpoint. Works on node-saml's xml2js tree of the *signed* assertion
 * (`profile.getAssertion()`), never on the unsigned wrapper.
 */
import type { Profile } from '@node-saml/node-saml'

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer'
const MAX_ATTRIBUTE_VALUES = 256

export interface AssertionFacts {
  readonly id: string
  readonly issuer: string
  readonly nameId: string
  readonly nameIdFormat?: string
  readonly issuedAtMs: number
  /** The earliest of the bearer confirmation's and the Conditions' `NotOnOrAfter`. */
  readonly expMs: number
  /** Attribute name → values, always an array of strings (node-saml gives a string for one value). */
  readonly attributes: Readonly<Record<string, readonly string[]>>
}

export interface FactRules {
  readonly tokenEndpoint: string
  readonly nowMs: number
  readonly clockSkewMs: number
}

type Tree = Readonly<Record<string, unknown>>

const asTree = (value: unknown): Tree | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Tree) : undefined
/** xml2js puts every child element in an array. */
const children = (node: Tree | undefined, name: string): Tree[] => {
  const value = node?.[name]
  return Array.isArray(value) ? value.map(asTree).filter((child): child is Tree => child !== undefined) : []
}
const attribute = (node: Tree | undefined, name: string): string | undefined => {
  const value = asTree(node?.$)?.[name]
  return typeof value === 'string' ? value : undefined
}
const time = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  return Number.isFinite(ms) ? ms : undefined
}

/** The facts, or a reject reason (`invalid`, `subject`, `recipient`). */
export function samlAssertionFacts(profile: Profile, rules: FactRules): AssertionFacts | string {
  const assertion = asTree(asTree(profile.getAssertion?.())?.Assertion)
  const id = attribute(assertion, 'ID')
  const issuedAtMs = time(attribute(assertion, 'IssueInstant'))
  if (assertion === undefined || id === undefined || id === '' || issuedAtMs === undefined) return 'invalid'
  if (typeof profile.nameID !== 'string' || profile.nameID === '') return 'subject'
  const confirmationExp = bearerConfirmationExp(assertion, rules)
  if (confirmationExp === undefined) return 'recipient'
  const conditionsExp = time(attribute(children(assertion, 'Conditions')[0], 'NotOnOrAfter'))
  const facts: AssertionFacts = {
    id,
    issuer: profile.issuer,
    nameId: profile.nameID,
    issuedAtMs,
    expMs: conditionsExp === undefined ? confirmationExp : Math.min(conditionsExp, confirmationExp),
    attributes: normaliseAttributes(profile.attributes),
  }
  return typeof profile.nameIDFormat === 'string' ? { ...facts, nameIdFormat: profile.nameIDFormat } : facts
}

/** `NotOnOrAfter` of a currently valid bearer confirmation addressed to this endpoint. */
function bearerConfirmationExp(assertion: Tree, rules: FactRules): number | undefined {
  const subject = children(assertion, 'Subject')[0]
  for (const confirmation of children(subject, 'SubjectConfirmation')) {
    if (attribute(confirmation, 'Method') !== BEARER) continue
    const data = children(confirmation, 'SubjectConfirmationData')[0]
    // Exact string match: an assertion for another relying party's endpoint must not work here.
    if (attribute(data, 'Recipient') !== rules.tokenEndpoint) continue
    const notOnOrAfter = time(attribute(data, 'NotOnOrAfter'))
    const notBefore = time(attribute(data, 'NotBefore'))
    if (notOnOrAfter === undefined || rules.nowMs - rules.clockSkewMs >= notOnOrAfter) continue
    if (notBefore !== undefined && rules.nowMs + rules.clockSkewMs < notBefore) continue
    return notOnOrAfter
  }
  return undefined
}

/** Null-prototype object of string arrays; nested (non-text) values are dropped. */
function normaliseAttributes(value: unknown): Readonly<Record<string, readonly string[]>> {
  const out = Object.create(null) as Record<string, readonly string[]>
  const attributes = asTree(value)
  if (attributes === undefined) return out
  for (const [name, raw] of Object.entries(attributes)) {
    const values = (Array.isArray(raw) ? raw : [raw]).filter((item): item is string => typeof item === 'string')
    out[name] = values.slice(0, MAX_ATTRIBUTE_VALUES)
  }
  return out
}
