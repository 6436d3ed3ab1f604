/**
 * The issuer registry: specs validated once at construction (misconfiguration fails at boot,
 * style-anchors §3.2), then one entry and one key set per issuer, looked up by the exact `iss`
 * string (workload-identity.md §2.2 step 7, RFC 8725 §3.8).
 */
import { discoveryUrl } from './discovery.js'
import { assertFetchableUrl } from './fetch-policy.js'
import { createFileKeySet } from './file-key-set.js'
import { createStaticKeySet, type IssuerKeySet, type KeySetTiming } from './key-set.js'
import { createRemoteKeySet } from './remote-key-set.js'
import type { IssuerSpec } from './types.js'

/** RFC 8725 §3.1/§3.2: asymmetric algorithms only; `none` and HS* are refused for external issuers. */
export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
])

/** Always required (§2.2 step 9, §4): `exp` and `iat` bound the token in time, `sub` names it. */
const ALWAYS_REQUIRED = ['exp', 'iat', 'sub']

export interface IssuerEntry {
  readonly spec: IssuerSpec
  readonly algorithms: readonly string[]
  readonly requiredClaims: readonly string[]
  readonly keySet: IssuerKeySet
}

class IssuerConfigError extends Error {
  override readonly name = 'IssuerConfigError'
  constructor(id: string, problem: string) {
    super(`issuer "${id}": ${problem}`)
  }
}

/** Validates every spec, then builds the entries; throws a plain `Error` naming the issuer id. */
export function buildIssuerRegistry(issuers: readonly IssuerSpec[], timing: KeySetTiming): Map<string, IssuerEntry> {
  if (!Array.isArray(issuers)) throw new Error('issuers must be an array')
  const ids = new Set<string>()
  const byIssuer = new Map<string, IssuerSpec>()
  for (const spec of issuers) {
    validateSpec(spec)
    if (ids.has(spec.id)) throw new IssuerConfigError(spec.id, 'duplicate issuer id')
    if (byIssuer.has(spec.issuer)) throw new IssuerConfigError(spec.id, 'issuer already configured by another id')
    ids.add(spec.id)
    byIssuer.set(spec.issuer, spec)
  }
  // Key sets are built only once every spec is valid, so a bad spec leaves no file watcher behind.
  const registry = new Map<string, IssuerEntry>()
  try {
    for (const [issuer, spec] of byIssuer) registry.set(issuer, buildEntry(spec, timing))
  } catch (err) {
    for (const entry of registry.values()) entry.keySet.close()
    throw err
  }
  return registry
}

function buildEntry(spec: IssuerSpec, timing: KeySetTiming): IssuerEntry {
  const requiredClaims = [...new Set([...ALWAYS_REQUIRED, ...spec.requiredClaims])]
  return { spec, algorithms: [...spec.algorithms], requiredClaims, keySet: buildKeySet(spec, timing) }
}

function buildKeySet(spec: IssuerSpec, timing: KeySetTiming): IssuerKeySet {
  const { jwks } = spec
  switch (jwks.kind) {
    case 'keys':
      try {
        return createStaticKeySet(jwks.keys)
      } catch (err) {
        throw new IssuerConfigError(spec.id, err instanceof Error ? err.message : 'inline keys invalid')
      }
    case 'file':
      return createFileKeySet(spec.id, jwks.path)
    case 'uri':
    case 'discovery':
      return createRemoteKeySet(spec, jwks, timing)
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0
}

function isDuration(value: unknown, allowZero: boolean): value is number {
  return typeof value === 'number' && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0)
}

function validateSpec(spec: IssuerSpec): void {
  if (typeof spec !== 'object' || spec === null || !isNonEmptyString(spec.id)) {
    throw new Error('every issuer needs a non-empty id')
  }
  const fail = (problem: string): never => {
    throw new IssuerConfigError(spec.id, problem)
  }
  if (!isNonEmptyString(spec.issuer)) fail('issuer must be a non-empty string')
  if (!isNonEmptyString(spec.audience)) fail('audience must be a non-empty string')
  if (!Array.isArray(spec.algorithms) || spec.algorithms.length === 0) fail('algorithms must be a non-empty list')
  for (const alg of spec.algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.has(alg)) fail(`algorithm ${String(alg)} is not allowed (asymmetric algorithms only; never none or HS*)`)
  }
  if (!isDuration(spec.maxLifetimeMs, false)) fail('maxLifetimeMs must be a positive number')
  if (spec.maxAgeMs !== undefined && !isDuration(spec.maxAgeMs, false)) fail('maxAgeMs must be a positive number')
  if (!isDuration(spec.clockSkewMs, true)) fail('clockSkewMs must be a non-negative number')
  if (!Array.isArray(spec.requiredClaims) || !spec.requiredClaims.every(isNonEmptyString)) {
    fail('requiredClaims must be a list of claim names')
  }
  if (spec.typ !== undefined && !isNonEmptyString(spec.typ)) fail('typ must be a non-empty string when set')
  validateSource(spec, fail)
}

function validateSource(spec: IssuerSpec, fail: (problem: string) => never): void {
  const insecure = spec.allowInsecureHttp === true
  const { jwks } = spec
  try {
    switch (jwks?.kind) {
      case 'discovery':
        assertFetchableUrl(discoveryUrl(spec.issuer), insecure, 'issuer (discovery)')
        return
      case 'uri':
        if (!(jwks.uri instanceof URL)) fail('jwks.uri must be a URL')
        assertFetchableUrl(jwks.uri, insecure, 'jwks.uri')
        return
      case 'file':
        if (!isNonEmptyString(jwks.path)) fail('jwks.path must be a non-empty string')
        return
      case 'keys':
        if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) fail('jwks.keys must be a non-empty list')
        return
      default:
        fail('jwks.kind must be discovery, uri, file or keys')
    }
  } catch (err) {
    if (err instanceof IssuerConfigError) throw err
    // `new URL` (discovery on a non-URL issuer) or the fetch policy.
    fail(err instanceof Error && err.name === 'KeySourceError' ? err.message : 'issuer is not a URL')
  }
}
