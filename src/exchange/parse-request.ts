/**
 * Reads a token request into one shape, whatever the wire form: Claude WIF JSON (anthropic-api.md
 * §12.2), RFC 7523 §2.1 form-encoded `jwt-bearer`, or RFC 8693 §2.1 form-encoded token exchange.
 * Everything here is syntax; the subject token itself is judged later (invalid_grant).
 */
import { parseStrictJsonObject, type JsonObject } from '../identity/strict-json.js'
import { ExchangeError } from './oauth-error.js'
import type { ExchangeGrant, ExchangeHttpRequest } from './types.js'

/** Largest body read: a 64 KiB SAML assertion base64url- and then percent-encoded, with room. */
export const MAX_EXCHANGE_BODY_BYTES = 128 * 1024
export const GRANT_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt'
export const TOKEN_TYPE_ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token'
export const TOKEN_TYPE_SAML2 = 'urn:ietf:params:oauth:token-type:saml2'
export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'
/** Header naming the rule for the form-encoded grants (SPEC §2: `federation_rule_id` or `skillgate-rule`). */
export const RULE_HEADER = 'skillgate-rule'

export interface ExchangeRequest {
  readonly grant: ExchangeGrant
  readonly subjectToken: string
  readonly subjectKind: 'jwt' | 'saml2'
  readonly namedRule?: string
  readonly organizationId?: string
  readonly serviceAccountId?: string
  readonly workspaceId?: string
  /** undefined: no `scope` parameter (the rule's scopes are granted, never "all"). */
  readonly scopes?: readonly string[]
  readonly resources: readonly string[]
}

const invalid = (reason: string, detail?: string) => new ExchangeError('invalid_request', reason, detail === undefined ? {} : { detail })
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
/** RFC 6749 §3.3 scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/
const CLIENT_CREDENTIAL_PARAMS = ['client_secret', 'client_assertion', 'client_assertion_type']

/** Parses and checks the request syntax; throws `ExchangeError`. */
export function parseExchangeRequest(request: ExchangeHttpRequest): ExchangeRequest {
  rejectClientAuthentication(request.headers)
  if (request.body.byteLength > MAX_EXCHANGE_BODY_BYTES) throw invalid('body_too_large')
  const mediaType = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase()
  const namedRule = singleHeader(request.headers, RULE_HEADER)
  if (mediaType === 'application/json') return parseWif(request.body, namedRule)
  if (mediaType === 'application/x-www-form-urlencoded') return parseForm(request.body, namedRule)
  throw invalid('content_type', 'expected application/json or application/x-www-form-urlencoded')
}

/**
 * skillgate has no confidential clients: the subject token is the credential (RFC 8693 §2.1, public
 * client). A client that tries to authenticate is told so with 401 `invalid_client` (RFC 6749 §5.2),
 * with a challenge for the scheme it used.
 */
function rejectClientAuthentication(headers: ExchangeHttpRequest['headers']): void {
  const authorization = headers.authorization
  if (authorization === undefined) return
  const scheme = (typeof authorization === 'string' ? authorization : (authorization[0] ?? '')).split(' ')[0] ?? ''
  const safeScheme = /^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,31}$/.test(scheme) ? scheme : 'Basic'
  throw new ExchangeError('invalid_client', 'client_authentication', { challenge: `${safeScheme} realm="skillgate"` })
}

function singleHeader(headers: ExchangeHttpRequest['headers'], name: string): string | undefined {
  const value = headers[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.trim() === '') throw invalid('rule_header')
  return value.trim()
}

function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body)
  } catch {
    throw invalid('encoding', 'body is not UTF-8')
  }
}

/** Claude WIF (anthropic-api.md §12.2): strict JSON, so a duplicated member cannot mean two things. */
function parseWif(body: Buffer, headerRule: string | undefined): ExchangeRequest {
  let json: JsonObject
  try {
    json = parseStrictJsonObject(body, 'body')
  } catch {
    throw invalid('json', 'body is not one duplicate-free JSON object')
  }
  const field = (name: string, required: boolean): string | undefined => {
    const value = json[name]
    if (value === undefined && !required) return undefined
    if (value === undefined || value === '') throw invalid('missing_parameter', name)
    if (typeof value !== 'string') throw invalid('parameter_type', name)
    return value
  }
  if (CLIENT_CREDENTIAL_PARAMS.some((name) => json[name] !== undefined)) throw new ExchangeError('invalid_client', 'client_authentication', { detail: 'body credentials' })
  const grantType = field('grant_type', true)
  if (grantType !== GRANT_JWT_BEARER) throw new ExchangeError('unsupported_grant_type', 'grant_type', { detail: 'JSON body needs jwt-bearer' })
  const assertion = field('assertion', true) as string
  const ruleId = field('federation_rule_id', true) as string
  if (headerRule !== undefined && headerRule !== ruleId) throw invalid('rule_conflict', 'federation_rule_id and skillgate-rule differ')
  const scope = field('scope', false)
  return withOptional({ grant: 'wif', subjectToken: assertion, subjectKind: 'jwt', namedRule: ruleId, resources: [] }, {
    organizationId: field('organization_id', true),
    serviceAccountId: field('service_account_id', false),
    workspaceId: field('workspace_id', false),
    scopes: scope === undefined ? undefined : parseScope(scope),
  })
}

/** RFC 6749 Appendix B form decoding, stricter than URLSearchParams: a bad escape is an error. */
function decodeForm(body: Buffer): Map<string, string[]> {
  const params = new Map<string, string[]>()
  for (const pair of decodeUtf8(body).split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const [rawName, rawValue] = eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)]
    let name: string
    let value: string
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '))
      value = decodeURIComponent(rawValue.replace(/\+/g, ' '))
    } catch {
      throw invalid('form_encoding')
    }
    const list = params.get(name)
    if (list === undefined) params.set(name, [value])
    else list.push(value)
  }
  return params
}

function parseForm(body: Buffer, namedRule: string | undefined): ExchangeRequest {
  const params = decodeForm(body)
  // RFC 6749 §3.2: parameters must not repeat; RFC 8707 §2 lets `resource` repeat.
  for (const [name, values] of params) if (values.length > 1 && name !== 'resource' && name !== 'audience') throw invalid('duplicate_parameter', name)
  const get = (name: string) => params.get(name)?.[0]
  const required = (name: string): string => {
    const value = get(name)
    if (value === undefined || value === '') throw invalid('missing_parameter', name)
    return value
  }
  if (CLIENT_CREDENTIAL_PARAMS.some((name) => params.has(name))) throw new ExchangeError('invalid_client', 'client_authentication', { detail: 'body credentials' })
  const grantType = required('grant_type')
  const scope = get('scope')
  const common = { resources: parseResources(params.get('resource') ?? []), scopes: scope === undefined ? undefined : parseScope(scope), namedRule }
  if (grantType === GRANT_JWT_BEARER) {
    return withOptional({ grant: 'jwt-bearer', subjectToken: required('assertion'), subjectKind: 'jwt', resources: common.resources }, common)
  }
  if (grantType !== GRANT_TOKEN_EXCHANGE) throw new ExchangeError('unsupported_grant_type', 'grant_type')
  // workload-identity.md §7.1: `audience` is refused (use `resource`); no delegation is designed in.
  if (params.has('audience')) throw new ExchangeError('invalid_target', 'audience_parameter', { detail: 'use resource' })
  if (params.has('actor_token') || params.has('actor_token_type')) throw invalid('actor_token', 'delegation is not supported')
  const requested = get('requested_token_type')
  if (requested !== undefined && requested !== TOKEN_TYPE_ACCESS_TOKEN) throw invalid('requested_token_type')
  const subjectToken = required('subject_token')
  const subjectKind = subjectKindOf(required('subject_token_type'))
  return withOptional({ grant: 'token-exchange', subjectToken, subjectKind, resources: common.resources }, common)
}

function subjectKindOf(tokenType: string): 'jwt' | 'saml2' {
  if (tokenType === TOKEN_TYPE_JWT || tokenType === TOKEN_TYPE_ID_TOKEN) return 'jwt'
  if (tokenType === TOKEN_TYPE_SAML2) return 'saml2'
  throw invalid('subject_token_type', 'unsupported subject_token_type')
}

function parseScope(scope: string): string[] {
  const tokens = scope.split(' ')
  if (tokens.length > 64 || !tokens.every((token) => SCOPE_TOKEN.test(token))) throw new ExchangeError('invalid_scope', 'scope_syntax')
  return [...new Set(tokens)]
}

/** RFC 8707 §2: an absolute URI without a fragment. Whether it is served is checked later. */
function parseResources(values: readonly string[]): string[] {
  if (values.length > 8) throw new ExchangeError('invalid_target', 'resource_count')
  return values.map((value) => {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      throw new ExchangeError('invalid_target', 'resource_syntax')
    }
    if (url.hash !== '' || value.includes('#')) throw new ExchangeError('invalid_target', 'resource_syntax')
    return value
  })
}

type Optional = { [K in 'namedRule' | 'organizationId' | 'serviceAccountId' | 'workspaceId' | 'scopes']?: ExchangeRequest[K] | undefined }

/** `exactOptionalPropertyTypes`: copy only the optional fields that are set. */
function withOptional(base: ExchangeRequest, optional: Optional): ExchangeRequest {
  const out: Record<string, unknown> = { ...base }
  for (const [name, value] of Object.entries(optional)) if (value !== undefined && name !== 'resources') out[name] = value
  return out as unknown as ExchangeRequest
}
