/**
 * Claims normalisation before policy (issue "Workload identity" item 3). Issuers spell the same idea
 * differently: RFC 9068 / RFC 8693 `scope` is one space-separated string, Entra and Okta send `scp`
 * as an array, Keycloak nests roles under `realm_access.roles`, GitHub and GitLab send booleans as the
 * strings "true"/"false" (workload-identity.md §5 "string booleans"). This module builds a *view* next
 * to the verified claims; it never rewrites or merges into them, so a claim named `__proto__` or
 * `constructor` stays plain data (catalogue #57) and exact-string matching keeps its meaning.
 */

export type Claims = Readonly<Record<string, unknown>>

/**
 * Which issuer family produced the claims. Only changes what is read, never how: `keycloak` adds
 * client roles (`resource_access.<client>.roles` as `<client>:<role>`), `saml` reads groups and roles
 * from the normalised `attributes` object the SAML exchange builds. Every other kind is generic.
 */
export type IssuerKind = 'oidc' | 'github' | 'gitlab' | 'kubernetes' | 'keycloak' | 'entra' | 'saml'

export interface KubernetesIdentity {
  readonly namespace?: string
  readonly serviceAccount?: { readonly name?: string; readonly uid?: string }
  readonly pod?: { readonly name?: string; readonly uid?: string }
  readonly node?: { readonly name?: string; readonly uid?: string }
}

export interface NormalizedClaims {
  /** The verified claims, unchanged (policy's exact-string matching reads these). */
  readonly raw: Claims
  /** `scope` (space-separated, RFC 9068 §2.2.3) ∪ `scp` (array or string); deduplicated, in order. */
  readonly scopes: readonly string[]
  /** `roles` ∪ Keycloak `realm_access.roles` (∪ client roles for `keycloak`); deduplicated. */
  readonly roles: readonly string[]
  /** `groups` (array or string). */
  readonly groups: readonly string[]
  /** Typed view of top-level booleans and the exact strings "true"/"false"; `raw` keeps the string. */
  readonly booleans: Readonly<Record<string, boolean>>
  /** Kubernetes projected-token identity (`kubernetes.io` claim, §1.3), when present. */
  readonly kubernetes?: KubernetesIdentity
  /** A claim by exact name, else by dotted path (`kubernetes.io.serviceaccount.uid`). */
  get(path: string): unknown
}

/** Bounds the work on hostile input: a signed token is ≤ 8 KiB anyway, this caps list building. */
const MAX_LIST_ITEMS = 256

/**
 * Builds the normalised view. Pure, allocation-only; the result is frozen.
 * @example
 * const view = normalizeClaims(identity.claims, 'keycloak')
 * view.scopes.includes('claude:messages'); view.booleans.ref_protected === true
 * view.get('kubernetes.io.serviceaccount.uid')
 */
export function normalizeClaims(claims: Claims, issuerKind: IssuerKind = 'oidc'): NormalizedClaims {
  const attributes = issuerKind === 'saml' ? asRecord(claims.attributes) : undefined
  const roles = [...stringList(claims.roles), ...stringList(readPath(claims, 'realm_access.roles'))]
  if (issuerKind === 'keycloak') roles.push(...clientRoles(claims.resource_access))
  const groups = [...stringList(claims.groups)]
  if (attributes !== undefined) {
    roles.push(...stringList(attributes.role), ...stringList(attributes.roles))
    groups.push(...stringList(attributes.groups))
  }
  const kubernetes = kubernetesIdentity(claims['kubernetes.io'])
  const view: NormalizedClaims = {
    raw: claims,
    scopes: unique([...splitScope(claims.scope), ...splitScope(claims.scp)]),
    roles: unique(roles),
    groups: unique(groups),
    booleans: booleanView(claims),
    ...(kubernetes === undefined ? {} : { kubernetes }),
    get: (path) => readPath(claims, path),
  }
  return Object.freeze(view)
}

/**
 * A claim by exact name first, else a dotted path where a key may itself contain dots: at each level
 * the longest own key that is a prefix of the rest (ending at a dot) wins, the same rule as the
 * policy module, so `kubernetes.io.serviceaccount.uid` reads `claims["kubernetes.io"].serviceaccount.uid`.
 * Only own properties are read: `__proto__.x` or `constructor.name` resolve to nothing.
 */
export function readPath(claims: Claims, path: string): unknown {
  let current: unknown = claims
  let rest = path
  while (rest !== '') {
    const object = asRecord(current)
    if (object === undefined) return undefined
    if (Object.hasOwn(object, rest)) return object[rest]
    let key = ''
    for (let dot = rest.lastIndexOf('.'); dot > 0; dot = rest.lastIndexOf('.', dot - 1)) {
      if (Object.hasOwn(object, rest.slice(0, dot))) {
        key = rest.slice(0, dot)
        break
      }
    }
    if (key === '') return undefined
    current = object[key]
    rest = rest.slice(key.length + 1)
  }
  return current
}

/** RFC 6749 §3.3: scope tokens are separated by single spaces; be lenient about runs of whitespace. */
export function splitScope(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[ \t\n\r]+/).filter((s) => s !== '').slice(0, MAX_LIST_ITEMS)
  return stringList(value)
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value]
  if (!Array.isArray(value)) return []
  const out: string[] = []
  for (const item of value.slice(0, MAX_LIST_ITEMS)) if (typeof item === 'string' && item !== '') out.push(item)
  return out
}

function unique(values: readonly string[]): readonly string[] {
  return Object.freeze([...new Set(values)])
}

function asRecord(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}

function booleanView(claims: Claims): Readonly<Record<string, boolean>> {
  // Null prototype: a claim named `__proto__` becomes an own key, never the prototype.
  const out = Object.create(null) as Record<string, boolean>
  for (const [name, value] of Object.entries(claims)) {
    if (typeof value === 'boolean') out[name] = value
    else if (value === 'true') out[name] = true
    else if (value === 'false') out[name] = false
  }
  return Object.freeze(out)
}

function clientRoles(resourceAccess: unknown): string[] {
  const clients = asRecord(resourceAccess)
  if (clients === undefined) return []
  const out: string[] = []
  for (const [client, entry] of Object.entries(clients)) {
    for (const role of stringList(asRecord(entry)?.roles)) out.push(`${client}:${role}`)
  }
  return out
}

function nameUid(value: unknown): { name?: string; uid?: string } | undefined {
  const record = asRecord(value)
  if (record === undefined) return undefined
  const out: { name?: string; uid?: string } = {}
  if (typeof record.name === 'string') out.name = record.name
  if (typeof record.uid === 'string') out.uid = record.uid
  return Object.freeze(out)
}

/** §1.3: `{"kubernetes.io": {namespace, serviceaccount: {name, uid}, pod: {name, uid}, node: {…}}}`. */
function kubernetesIdentity(value: unknown): KubernetesIdentity | undefined {
  const record = asRecord(value)
  if (record === undefined) return undefined
  const serviceAccount = nameUid(record.serviceaccount)
  const pod = nameUid(record.pod)
  const node = nameUid(record.node)
  return Object.freeze({
    ...(typeof record.namespace === 'string' ? { namespace: record.namespace } : {}),
    ...(serviceAccount === undefined ? {} : { serviceAccount }),
    ...(pod === undefined ? {} : { pod }),
    ...(node === undefined ? {} : { node }),
  })
}
