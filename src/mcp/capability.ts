/**
 * Capability tokens of Claude's MCP connector through the gateway (issue #19 item 6). When a
 * `/v1/messages` request names `skillgate:{id}`, the gateway hands Anthropic's connector a token
 * that lets it call exactly that server, as that principal under that rule, for the granted tools
 * only, while that request lasts: `sgcap.<compact JWS>`.
 *
 * Signed with the gateway-token keys (`GatewayTokens.keys`): they are already shared by every replica
 * (file or sealed store rows), rotated under a lock and retained past `mcp.capabilityTtl`, so a token
 * minted by one replica verifies on another without a second key set to provision and rotate. The
 * two kinds cannot stand in for each other: a capability has its own `typ` (`sgcap+jwt`), its own
 * audience (`<mcp.publicUrl>/mcp/{id}`, never `<issuer>/v1`) and the `sgcap.` prefix, which is not
 * a compact JWS the `/v1` verifier would even parse.
 *
 * The request's end revokes the `jti` in the shared revocation store (every replica refuses it within
 * the revocation cache's poll, ~1 s; this process at once, from its own list of ended capabilities);
 * `exp` bounds a token whose revocation failed.
 */
import { randomBytes } from 'node:crypto'
import { SignJWT, jwtVerify, type JWTPayload } from 'jose'
import { GatewayError } from '../errors/gateway-error.js'
import { splitCompact } from '../identity/compact.js'
import { GATEWAY_ISSUER_ID, GATEWAY_TOKEN_CLOCK_SKEW_MS, type GatewaySigningKeys } from '../identity/gateway-token.js'
import { checkHeader } from '../identity/header.js'
import { toTokenError } from '../identity/jose-errors.js'
import type { RevocationCache, RevocationVerdict } from '../identity/revocation-cache.js'
import { parseStrictJsonObject, type JsonObject } from '../identity/strict-json.js'
import { TokenError } from '../identity/types.js'
import type { RevocationStore } from '../storage/ports.js'
import type { McpAuthenticator, McpCaller } from './caller.js'

export const CAPABILITY_PREFIX = 'sgcap.'
export const CAPABILITY_TYP = 'sgcap+jwt'
/** Claims are bounded (scalars only, counted), so a capability stays well under this. */
const MAX_CAPABILITY_BYTES = 16 * 1024
const MAX_CARRIED_CLAIMS = 48
const MAX_CLAIM_CHARS = 256
const MAX_TOOLS = 512

/** What one capability grants. */
export interface CapabilityGrant {
  readonly principal: string
  readonly rule: string
  readonly serverId: string
  /** The effective tool names; undefined: the request left the set open (every tool the rule grants). */
  readonly tools: readonly string[] | undefined
  /** Tool names the request turned off (`configs: { name: { enabled: false } }`): refused even if the rule's globs grant them. */
  readonly toolExclude?: readonly string[] | undefined
  /** The `/v1/messages` audit record (the request id) this capability was minted for. */
  readonly causedBy: string
  /** The caller's verified claims; only short scalars are carried (CEL conditions read them). */
  readonly claims: Readonly<Record<string, unknown>>
  readonly clientSession?: string | undefined
  /** ms since epoch: the request's deadline (at most `mcp.capabilityTtl` from now). */
  readonly expiresAt: number
}

export interface MintedCapability {
  readonly token: string
  readonly jti: string
  /** Seconds since epoch. */
  readonly exp: number
}

export interface CapabilityOptions {
  readonly keys: GatewaySigningKeys
  /** The gateway issuer (`GatewayTokens.issuer`): `iss`, and the revocation key of every capability. */
  readonly issuer: string
  /** `mcp.publicUrl`, without a trailing slash being significant. */
  readonly publicUrl: string
  readonly revocations: RevocationCache
  readonly revocationStore: RevocationStore
  readonly now?: () => number
}

export interface Capabilities {
  /** The URL Anthropic's connector is sent to for server `id`; also the token's audience. */
  serverUrl(serverId: string): string
  mint(grant: CapabilityGrant): Promise<MintedCapability>
  /** Refuses the capability everywhere from now on (this process at once, other replicas within ~1 s); rejects when the store write fails (this process still refuses it). */
  revoke(minted: MintedCapability): Promise<void>
  /** For the `/mcp/{id}` endpoint: `undefined` for a bearer without the `sgcap.` prefix. */
  authenticator(): McpAuthenticator
}

interface CapabilityClaims {
  readonly iss: string
  readonly aud: string
  readonly sub: string
  readonly rule: string
  readonly srv: string
  readonly tools?: readonly string[]
  readonly xtools?: readonly string[]
  readonly cby: string
  readonly cs?: string
  readonly clm: Readonly<Record<string, string | number | boolean>>
  readonly jti: string
  readonly iat: number
  readonly exp: number
}

/** Server ids as `mcpServers[].id` spells them (config/schema.ts): also a safe path segment. */
export const SERVER_ID = /^[a-z0-9-]{1,63}$/

export function openCapabilities(options: CapabilityOptions): Capabilities {
  const now = options.now ?? Date.now
  const base = options.publicUrl.replace(/\/+$/, '')
  const serverUrl = (serverId: string) => `${base}/mcp/${serverId}`
  // Ended here: refused by this process at once, without reloading the whole revocation snapshot
  // for every request; other replicas learn it from the store within their poll.
  const ended = new Map<string, number>()
  const forget = () => {
    for (const [jti, until] of ended) if (until <= now()) ended.delete(jti)
  }
  return {
    serverUrl,
    async mint(grant) {
      if (!SERVER_ID.test(grant.serverId)) throw new TypeError('capability server id is not an id')
      const key = await options.keys.signingKey()
      const iat = Math.floor(now() / 1000)
      const exp = Math.max(iat + 1, Math.floor(grant.expiresAt / 1000))
      const jti = randomBytes(18).toString('base64url')
      const claims: CapabilityClaims = {
        iss: options.issuer,
        aud: serverUrl(grant.serverId),
        sub: grant.principal,
        rule: grant.rule,
        srv: grant.serverId,
        ...(grant.tools === undefined ? {} : { tools: grant.tools.slice(0, MAX_TOOLS) }),
        ...(grant.toolExclude === undefined || grant.toolExclude.length === 0 ? {} : { xtools: excludedTools(grant.toolExclude) }),
        cby: grant.causedBy,
        ...(grant.clientSession === undefined ? {} : { cs: grant.clientSession }),
        clm: carriedClaims(grant.claims),
        jti,
        iat,
        exp,
      }
      const jws = await new SignJWT({ ...claims } as JWTPayload).setProtectedHeader({ alg: 'ES256', typ: CAPABILITY_TYP, kid: key.kid }).sign(key.privateKey)
      return { token: `${CAPABILITY_PREFIX}${jws}`, jti, exp }
    },
    async revoke(minted) {
      const until = minted.exp * 1000 + GATEWAY_TOKEN_CLOCK_SKEW_MS
      forget()
      ended.set(minted.jti, until)
      await options.revocationStore.revokeToken(options.issuer, minted.jti, new Date(until), {
        reason: 'MCP connector capability: its /v1/messages request ended',
        actor: 'skillgate',
      })
    },
    authenticator: () => async (bearer, serverId) => {
      if (!bearer.startsWith(CAPABILITY_PREFIX)) return undefined
      const claims = await verifyCapability(options, now, bearer.slice(CAPABILITY_PREFIX.length))
      if (claims.srv !== serverId) throw new GatewayError('GW_MCP_CAPABILITY_WRONG_SERVER', { detail: 'capability presented at another server' })
      // After the signature: the audience binds the token to this gateway's URL of this server.
      if (claims.aud !== serverUrl(serverId)) throw invalid('audience')
      if (ended.has(claims.jti)) throw new GatewayError('GW_AUTHN_REVOKED', { detail: 'capability of a request that ended' })
      refuseRevoked(options.revocations.checkToken(GATEWAY_ISSUER_ID, claims.iss, claims.jti))
      refuseRevoked(options.revocations.checkPrincipal(claims.sub, claims.iat))
      return callerOf(claims)
    },
  }
}

async function verifyCapability(options: CapabilityOptions, now: () => number, jws: string): Promise<CapabilityClaims> {
  try {
    const parts = splitCompact(jws, MAX_CAPABILITY_BYTES)
    const header = checkHeader(parseStrictJsonObject(parts.headerBytes, 'header'))
    const payload = parseStrictJsonObject(parts.payloadBytes, 'payload')
    if (header.alg !== 'ES256' || header.typ !== CAPABILITY_TYP) throw new TokenError('header_param', { detail: 'not a capability token' })
    const getKey = async () => {
      const key = await options.keys.verificationKey(header.kid)
      if (key === undefined) throw new TokenError('unknown_kid', { detail: 'no gateway key with this kid' })
      return key
    }
    try {
      await jwtVerify(jws, getKey, {
        issuer: options.issuer,
        algorithms: ['ES256'],
        typ: CAPABILITY_TYP,
        currentDate: new Date(now()),
        clockTolerance: GATEWAY_TOKEN_CLOCK_SKEW_MS / 1000,
        requiredClaims: ['exp', 'iat', 'sub', 'jti', 'aud'],
      })
    } catch (error) {
      throw TokenError.is(error) ? error : toTokenError(error, GATEWAY_ISSUER_ID)
    }
    return toCapabilityClaims(payload)
  } catch (error) {
    if (!TokenError.is(error)) throw error
    // Reason only: never the token, never a claim value.
    if (error.reason === 'expired') throw new GatewayError('GW_AUTHN_EXPIRED', { detail: 'capability expired', cause: error })
    throw new GatewayError('GW_AUTHN_INVALID', { detail: `capability rejected: ${error.reason}`, cause: error })
  }
}

function toCapabilityClaims(payload: JsonObject): CapabilityClaims {
  const { iss, aud, sub, rule, srv, tools, xtools, cby, cs, clm, jti, iat, exp } = payload
  const strings = { iss, aud, sub, rule, srv, cby, jti }
  for (const [name, value] of Object.entries(strings)) if (typeof value !== 'string' || value === '') throw new TokenError('claims', { claim: name })
  if (typeof iat !== 'number' || typeof exp !== 'number') throw new TokenError('claims', { claim: 'exp' })
  if (tools !== undefined && (!Array.isArray(tools) || !tools.every((tool) => typeof tool === 'string'))) throw new TokenError('claims', { claim: 'tools' })
  if (xtools !== undefined && (!Array.isArray(xtools) || !xtools.every((tool) => typeof tool === 'string'))) throw new TokenError('claims', { claim: 'xtools' })
  if (cs !== undefined && typeof cs !== 'string') throw new TokenError('claims', { claim: 'cs' })
  if (typeof clm !== 'object' || clm === null || Array.isArray(clm)) throw new TokenError('claims', { claim: 'clm' })
  return {
    ...(strings as Record<keyof typeof strings, string>),
    ...(tools === undefined ? {} : { tools: tools as string[] }),
    ...(xtools === undefined ? {} : { xtools: xtools as string[] }),
    ...(cs === undefined ? {} : { cs }),
    clm: carriedClaims(clm as Record<string, unknown>),
    iat,
    exp,
  }
}

function callerOf(claims: CapabilityClaims): McpCaller {
  return {
    principal: claims.sub,
    claims: Object.freeze({ ...claims.clm }),
    ruleName: claims.rule,
    toolLimit: claims.tools === undefined ? undefined : Object.freeze([...claims.tools]),
    toolExclude: claims.xtools === undefined ? undefined : Object.freeze([...claims.xtools]),
    causedBy: claims.cby,
    clientSession: claims.cs,
  }
}

/**
 * The exclusion list is the one list a capability must carry whole: dropping a name would grant a tool
 * the request turned off. Past the bound the mint fails (the request is refused) instead.
 */
function excludedTools(names: readonly string[]): string[] {
  if (names.length > MAX_TOOLS) throw new GatewayError('GW_MCP_CONNECTOR_UNSUPPORTED', { publicDetail: `at most ${MAX_TOOLS} disabled tools per MCP server` })
  return [...names]
}

/** Short scalar claims only: a capability must not grow with the source token, and never carries objects. */
function carriedClaims(claims: Readonly<Record<string, unknown>>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  let count = 0
  for (const [name, value] of Object.entries(claims)) {
    if (count >= MAX_CARRIED_CLAIMS || name.length > 64 || name === '__proto__') continue
    const keep = (typeof value === 'string' && value.length <= MAX_CLAIM_CHARS) || (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean'
    if (!keep) continue
    out[name] = value as string | number | boolean
    count += 1
  }
  return out
}

function refuseRevoked(verdict: RevocationVerdict): void {
  if (verdict === 'ok') return
  if (verdict === 'unavailable') throw new GatewayError('GW_REVOCATIONS_UNAVAILABLE')
  throw new GatewayError('GW_AUTHN_REVOKED', { detail: `capability ${verdict}` })
}

const invalid = (what: string) => new GatewayError('GW_AUTHN_INVALID', { detail: `capability rejected: ${what}` })
