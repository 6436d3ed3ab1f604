import crypto from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Config } from '../config/load.js'
import type { Secret } from '../config/secret-source.js'
import { GatewayError } from '../errors/gateway-error.js'
import type { VerifiedToken } from '../identity/index.js'
import { readClaim } from '../policy/claims.js'
import { sessionCaller, sessionCookie, type SessionAuth } from './sessions.js'
import { roles as knownRoles, type Caller, type HumanVerifier, type Role, type RoleMap } from './types.js'

/**
 * Admin API authentication (SPEC §3: every call authenticated and role-checked).
 *
 * Admin tokens are held only as SHA-256 digests, computed once at start-up (and again when a
 * `fromFile` secret is rotated). A presented token is hashed and compared with every digest using
 * `crypto.timingSafeEqual`: equal-length inputs, no early exit, so neither the response time nor
 * the position of the match leaks anything about a configured token. Anything else that looks like a
 * JWT is tried as a human OIDC token of `admin.issuers`.
 */
export interface Authenticator {
  /** Resolves the caller, or throws a 401 GatewayError. Never logs or echoes the credential. */
  authenticate(req: IncomingMessage): Promise<Caller>
  /** Stops following rotated token files. */
  close(): void
}

interface TokenEntry {
  digest: Buffer
  readonly id: string
  readonly name: string | undefined
  readonly roles: ReadonlySet<Role>
}

const sha256 = (text: string): Buffer => crypto.createHash('sha256').update(text, 'utf8').digest()
/** RFC 6750: a 401 names the scheme the client should use. */
const challenge = { 'www-authenticate': 'Bearer realm="skillgate admin"' }
const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

export function createAuthenticator(
  config: Config,
  tokens: readonly Secret[],
  humans: HumanVerifier | undefined,
  onSecretError?: (error: Error) => void,
  sessions?: SessionAuth,
): Authenticator {
  if (tokens.length !== config.admin.tokens.length) {
    throw new TypeError(`admin API: ${tokens.length} resolved admin tokens for ${config.admin.tokens.length} entries of admin.tokens`)
  }
  const entries: TokenEntry[] = tokens.map((secret, i) => {
    const name = config.admin.tokens[i]?.name
    const id = name === undefined ? `admin.tokens[${i}]` : `token:${name}`
    const entry: TokenEntry = { digest: sha256(secret.reveal()), id, name, roles: new Set(config.admin.tokens[i]?.roles ?? []) }
    // A rotated token file replaces the digest; the previous token stops working at once.
    secret.follow(1_000, () => (entry.digest = sha256(secret.reveal())), onSecretError)
    return entry
  })

  async function authenticate(req: IncomingMessage): Promise<Caller> {
    // A browser signed in through SSO sends its session cookie and no Authorization header.
    const cookie = sessions && !req.headers.authorization ? sessionCookie(req) : undefined
    if (sessions && cookie !== undefined) {
      const caller = await sessionCaller(sessions, req, cookie)
      if (caller) return caller
      throw new GatewayError('GW_AUTHN_INVALID', { publicDetail: 'the console session has ended (signed out, revoked, idle or expired): sign in again', headers: challenge })
    }
    const token = bearerToken(req)
    const digest = sha256(token)
    let match: TokenEntry | undefined
    // Every entry is compared, matched or not: the loop's duration does not depend on which one matched.
    for (const entry of entries) {
      if (crypto.timingSafeEqual(digest, entry.digest) && match === undefined) match = entry
    }
    if (match) return { kind: 'token', id: match.id, name: match.name, roles: match.roles }
    if (humans && jwtShape.test(token)) return verifyHuman(humans, token)
    throw new GatewayError('GW_AUTHN_INVALID', { publicDetail: 'not an admin token of admin.tokens nor a valid token of admin.issuers', headers: challenge })
  }

  return {
    authenticate,
    close: () => tokens.forEach((secret) => secret.close()),
  }
}

function bearerToken(req: IncomingMessage): string {
  const header = req.headers.authorization
  if (header === undefined || header.trim() === '') {
    throw new GatewayError('GW_ADMIN_AUTHN_MISSING', { publicDetail: 'the admin API takes an admin token (SKILLGATE_ADMIN_TOKEN) or a human OIDC token as "Authorization: Bearer <token>"', headers: challenge })
  }
  const match = /^Bearer +(\S+) *$/i.exec(header)
  if (!match?.[1]) throw new GatewayError('GW_AUTHN_INVALID', { publicDetail: 'expected "Authorization: Bearer <token>"', headers: challenge })
  return match[1]
}

async function verifyHuman(humans: HumanVerifier, token: string): Promise<Caller> {
  let verified: VerifiedToken
  try {
    verified = await humans.verifier.verify(token)
  } catch (error) {
    // TokenError messages name the reason and claim, never the token or a claim value.
    throw new GatewayError('GW_AUTHN_INVALID', { detail: (error as Error).message, headers: challenge })
  }
  const claim = humans.roleClaims.get(verified.issuerId)
  const sub = verified.claims.sub
  const iss = verified.claims.iss
  if (claim === undefined || typeof sub !== 'string' || typeof iss !== 'string') throw new GatewayError('GW_AUTHN_INVALID', { detail: 'admin issuer without roleClaim, or token without sub', headers: challenge })
  const roles = rolesFromClaim(readClaim(verified.claims, claim), humans.roleMaps?.get(verified.issuerId))
  const text = (name: string) => (typeof verified.claims[name] === 'string' ? (verified.claims[name] as string).slice(0, 200) : undefined)
  return { kind: 'oidc', id: `oidc:${verified.issuerId}:${sub}`, roles, issuer: iss, subject: sub, name: text('name'), email: text('email') }
}

/**
 * A role claim is a string or an array of strings. With a role map, a role is held when one of its
 * listed values is in the claim (group names or ids as the IdP sends them); without one, only values
 * that are exactly a role name count.
 */
export function rolesFromClaim(value: unknown, map?: RoleMap): ReadonlySet<Role> {
  const values = (typeof value === 'string' ? [value] : Array.isArray(value) ? value : []).filter((v): v is string => typeof v === 'string')
  if (map !== undefined) return new Set(knownRoles.filter((role) => map[role]?.some((granted) => values.includes(granted))))
  return new Set(values.filter((v): v is Role => (knownRoles as readonly string[]).includes(v)))
}

/** True when the caller holds one of `allowed` (admin holds every role). */
export function hasRole(caller: Caller, allowed: readonly Role[]): boolean {
  return caller.roles.has('admin') || allowed.some((role) => caller.roles.has(role))
}
