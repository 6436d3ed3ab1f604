import crypto from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { canonicalJson } from '../audit/canonical-json.js'
import type { Config } from '../config/load.js'
import { AdminError } from './errors.js'
import { roles as knownRoles, type Caller, type Role } from './types.js'
import type { SessionStore } from '../storage/ports-sessions.js'

/**
 * Console sessions (issue #17 item 1): a random cookie, stored only as its SHA-256, read from the
 * store on every call so a sign-out or a revocation ends it on every replica at once. The cookie is
 * `HttpOnly`, `SameSite=Strict`, and `Secure` when the console is served over https.
 *
 * CSRF: every state-changing call made with the cookie must carry `x-skillgate-csrf`, an HMAC of
 * the cookie that only a page able to read this origin's responses can learn (GET
 * /admin/api/session), and must not come from another site (`Sec-Fetch-Site`, `Origin`). A
 * cross-site form can neither set that header nor read the token, so it is refused.
 */
export const sessionCookieName = 'skillgate_session'
export const csrfHeader = 'x-skillgate-csrf'

export interface SessionAuth {
  readonly store: SessionStore
  readonly idleMs: number
  readonly absoluteMs: number
  /** `admin.issuers` id → its `iss`, so a session's person is compared like a bearer token's. */
  readonly issuers: ReadonlyMap<string, string>
  /** `admin.issuers` id → `roleBasisOf` it, as configured now. */
  readonly roleBases: ReadonlyMap<string, string>
}

type AdminIssuer = Config['admin']['issuers'][number]

/**
 * What a session's roles were derived from at sign-in: the issuer, its role claim, its role map and
 * its browser sign-in client. A session is honoured only while its issuer's entry still says the
 * same, so removing an issuer or changing who holds which role ends the sessions it opened at their
 * next use, instead of leaving them their old roles until the absolute timeout.
 */
export function roleBasisOf(issuer: AdminIssuer): string {
  const basis = canonicalJson({ id: issuer.id, iss: issuer.issuer, roleClaim: issuer.roleClaim, roles: issuer.roles ?? null, client: issuer.login?.clientId ?? null })
  return crypto.createHash('sha256').update(basis, 'utf8').digest('hex')
}

export function sessionAuthFor(config: Config, store: SessionStore): SessionAuth {
  const { idleTimeout, absoluteTimeout } = config.admin.sessions
  const issuers = config.admin.issuers
  return {
    store,
    idleMs: idleTimeout,
    absoluteMs: absoluteTimeout,
    issuers: new Map(issuers.map((i) => [i.id, i.issuer])),
    roleBases: new Map(issuers.map((i) => [i.id, roleBasisOf(i)])),
  }
}

export const digestOf = (cookie: string): string => crypto.createHash('sha256').update(cookie, 'utf8').digest('hex')
export const newSessionSecret = (): string => crypto.randomBytes(32).toString('base64url')
export const csrfTokenFor = (cookie: string): string => crypto.createHmac('sha256', cookie).update('skillgate csrf v1').digest('base64url')

/** The session cookie of the request, if any (the first one of that name). */
export function sessionCookie(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === sessionCookieName) {
      const value = part.slice(eq + 1).trim()
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined
    }
  }
  return undefined
}

/** `Set-Cookie` for a new session, or (`undefined`) one that clears it. */
export function sessionCookieHeader(value: string | undefined, secure: boolean, maxAgeMs = 0): string {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])]
  if (value === undefined) return [`${sessionCookieName}=`, 'Max-Age=0', ...attributes].join('; ')
  return [`${sessionCookieName}=${value}`, `Max-Age=${Math.floor(maxAgeMs / 1000)}`, ...attributes].join('; ')
}

/** The caller of a live session, after the CSRF checks for a state-changing method; undefined when the session is gone. */
export async function sessionCaller(auth: SessionAuth, req: IncomingMessage, cookie: string): Promise<Caller | undefined> {
  if (req.method !== 'GET' && req.method !== 'HEAD') checkCsrf(req, cookie)
  const session = await auth.store.touch(digestOf(cookie), auth.idleMs)
  if (session === undefined) return undefined
  if (session.roleBasis === null || auth.roleBases.get(session.issuer) !== session.roleBasis) {
    // Its issuer is gone or now grants roles differently: the person signs in again under today's settings.
    await auth.store.revoke(session.id)
    return undefined
  }
  const roles = new Set(session.roles.filter((r): r is Role => (knownRoles as readonly string[]).includes(r)))
  return {
    kind: 'oidc',
    id: `oidc:${session.issuer}:${session.subject}`,
    roles,
    name: session.name ?? undefined,
    email: session.email ?? undefined,
    issuer: auth.issuers.get(session.issuer),
    subject: session.subject,
  }
}

function checkCsrf(req: IncomingMessage, cookie: string): void {
  const site = req.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin') throw new AdminError('GW_ADMIN_CSRF', `a ${site} request is refused`)
  const origin = req.headers.origin
  if (origin !== undefined && origin !== 'null' && hostOf(origin) !== req.headers.host) throw new AdminError('GW_ADMIN_CSRF', 'the Origin is not this console')
  if (origin === 'null') throw new AdminError('GW_ADMIN_CSRF', 'an opaque Origin is refused')
  const given = req.headers[csrfHeader]
  const expected = Buffer.from(csrfTokenFor(cookie))
  const presented = Buffer.from(typeof given === 'string' ? given : '')
  if (presented.length !== expected.length || !crypto.timingSafeEqual(presented, expected)) throw new AdminError('GW_ADMIN_CSRF', `header ${csrfHeader} is missing or wrong`)
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host
  } catch {
    return undefined
  }
}
