import crypto from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type * as Oidc from 'openid-client'
import type { Config } from '../config/load.js'
import type { Secret } from '../config/secret-source.js'
import { readClaim } from '../policy/claims.js'
import type { SessionStore } from '../storage/ports-sessions.js'
import { rolesFromClaim } from './auth.js'
import { consoleSecurityHeaders } from '../ui/console-handler.js'
import { digestOf, newSessionSecret, roleBasisOf, sessionCookieHeader } from './sessions.js'
import type { Logger } from 'pino'

/**
 * Browser sign-in through an `admin.issuers` entry with `login` (issue #17 item 1): authorization
 * code + PKCE with `openid-client`. `GET /admin/login/<issuer id>` sends the browser to the IdP with
 * a fresh verifier, state and nonce kept in a short-lived cookie signed with the client secret (any
 * replica can check it); `GET /admin/login/callback` redeems the code, checks state, nonce and the
 * ID token, maps the role claim to console roles, and opens a session in the store. A person in no
 * mapped group gets a page saying so, and no session.
 */
export interface LoginDeps {
  readonly config: Config
  readonly sessions: SessionStore
  readonly logger: Logger
}

const loginCookie = 'skillgate_login'
const loginTtlSeconds = 600

interface Pending {
  readonly i: string
  readonly v: string
  readonly s: string
  readonly n: string
  readonly e: number
}

interface Client {
  readonly id: string
  readonly roleClaim: string
  readonly roles: Parameters<typeof rolesFromClaim>[1]
  /** `roleBasisOf` the issuer: stored with each session it opens. */
  readonly roleBasis: string
  readonly redirectUri: string
  readonly secret: Secret
  readonly configuration: () => Promise<Oidc.Configuration>
}

// Loaded at the first sign-in: a console without browser sign-in never pays for the OIDC client.
let loaded: Promise<typeof Oidc> | undefined
const openidClient = (): Promise<typeof Oidc> => (loaded ??= import('openid-client'))

export function createLogin(deps: LoginDeps): (req: IncomingMessage, res: ServerResponse, path: string, search: string) => Promise<void> {
  const clients = new Map<string, Client>()
  deps.config.admin.issuers.forEach((issuer, i) => {
    const secret = deps.config.secrets.adminLoginSecrets[i]
    if (!issuer.login || !secret) return
    const { clientId, redirectUri } = issuer.login
    let discovered: Promise<Oidc.Configuration> | undefined
    const configuration = () =>
      (discovered ??= openidClient()
        .then((oidc) =>
          oidc.discovery(new URL(issuer.issuer), clientId, { redirect_uris: [redirectUri] }, oidc.ClientSecretPost(secret.reveal()), issuer.insecureAllowHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
        )
        .catch((error: unknown) => {
          discovered = undefined
          throw error
        }))
    clients.set(issuer.id, { id: issuer.id, roleClaim: issuer.roleClaim, roles: issuer.roles, roleBasis: roleBasisOf(issuer), redirectUri, secret, configuration })
  })

  return async function login(req, res, path, search) {
    try {
      if (req.method !== 'GET') return page(res, 405, 'Method not allowed', 'Sign-in takes GET.')
      if (path === '/admin/login/callback') return await callback(deps, clients, req, res, search)
      const client = clients.get(decodeURIComponent(path.slice('/admin/login/'.length)))
      if (!client) return page(res, 404, 'No such sign-in', 'This issuer has no browser sign-in (admin.issuers[].login).')
      await start(client, res)
    } catch (error) {
      deps.logger.warn({ detail: (error as Error).message }, 'console sign-in failed')
      const refused = refusedSignIn(error)
      if (refused) return page(res, 400, 'Sign-in not completed', `${refused} Start again from the console.`)
      page(res, 502, 'Sign-in failed', 'The identity provider could not complete the sign-in. Try again; if it keeps failing, ask an administrator to check the gateway log.')
    }
  }
}

/**
 * What the browser brought back, when that (not the identity provider being unreachable) ended the
 * sign-in: the provider's own refusal, a code it no longer honours, or an answer that does not belong
 * to the sign-in started here. openid-client loads lazily, so its errors are told apart by name.
 */
function refusedSignIn(error: unknown): string | undefined {
  if (error instanceof URIError) return 'The sign-in address is malformed.'
  const { name, code } = error as { name?: unknown; code?: unknown }
  if (name === 'AuthorizationResponseError') return `The identity provider refused the sign-in (${String((error as { error?: unknown }).error ?? 'error')}).`
  if (name === 'ResponseBodyError') return 'The identity provider refused the sign-in code: it was already used or has expired.'
  if (typeof code === 'string' && ['OAUTH_INVALID_RESPONSE', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED'].includes(code)) {
    return 'The answer does not belong to the sign-in started in this browser, or could not be verified.'
  }
  return undefined
}

async function start(client: Client, res: ServerResponse): Promise<void> {
  const [configuration, oidc] = await Promise.all([client.configuration(), openidClient()])
  const pending: Pending = { i: client.id, v: oidc.randomPKCECodeVerifier(), s: oidc.randomState(), n: oidc.randomNonce(), e: Math.floor(Date.now() / 1000) + loginTtlSeconds }
  const url = oidc.buildAuthorizationUrl(configuration, {
    redirect_uri: client.redirectUri,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(pending.v),
    code_challenge_method: 'S256',
    state: pending.s,
    nonce: pending.n,
  })
  // Lax, not Strict: the IdP's redirect back is a cross-site navigation, and it must carry this cookie.
  const cookie = `${loginCookie}=${seal(pending, client.secret.reveal())}; Max-Age=${loginTtlSeconds}; Path=/admin/login/; HttpOnly; SameSite=Lax${client.redirectUri.startsWith('https:') ? '; Secure' : ''}`
  res.writeHead(302, { ...consoleSecurityHeaders, location: url.href, 'set-cookie': cookie, 'cache-control': 'no-store' }).end()
}

async function callback(deps: LoginDeps, clients: ReadonlyMap<string, Client>, req: IncomingMessage, res: ServerResponse, search: string): Promise<void> {
  const pending = readPending(req, clients)
  const client = pending && clients.get(pending.i)
  if (!pending || !client) return page(res, 400, 'Sign-in expired', 'This sign-in was not started here or took longer than 10 minutes. Start again from the console.')
  const [configuration, oidc] = await Promise.all([client.configuration(), openidClient()])
  const tokens = await oidc.authorizationCodeGrant(configuration, new URL(`${client.redirectUri}${search}`), { pkceCodeVerifier: pending.v, expectedState: pending.s, expectedNonce: pending.n, idTokenExpected: true })
  const claims = tokens.claims()
  if (!claims) throw new Error('no ID token')
  const roles = [...rolesFromClaim(readClaim(claims, client.roleClaim), client.roles)]
  const name = typeof claims.name === 'string' ? claims.name : undefined
  const email = typeof claims.email === 'string' ? claims.email : undefined
  const who = name ?? email ?? claims.sub
  const clear = `${loginCookie}=; Max-Age=0; Path=/admin/login/; HttpOnly; SameSite=Lax`
  if (roles.length === 0) {
    deps.logger.info({ issuer: client.id, sub: claims.sub }, 'console sign-in refused: no mapped group')
    return page(res, 403, 'No console role', `You are signed in at the identity provider as ${who}, but none of your groups (claim "${client.roleClaim}") is mapped to a console role in admin.issuers[${client.id}].roles. Ask an administrator to add your group.`, clear)
  }
  const secret = newSessionSecret()
  const absoluteMs = deps.config.admin.sessions.absoluteTimeout
  await deps.sessions.create({ secretDigest: digestOf(secret), issuer: client.id, subject: claims.sub, name, email, roles, roleBasis: client.roleBasis, expiresAt: new Date(Date.now() + absoluteMs) })
  deps.logger.info({ issuer: client.id, sub: claims.sub, roles }, 'console sign-in')
  res.writeHead(303, { ...consoleSecurityHeaders, location: '/ui/#/sso', 'set-cookie': [clear, sessionCookieHeader(secret, client.redirectUri.startsWith('https:'), absoluteMs)], 'cache-control': 'no-store' }).end()
}

function seal(pending: Pending, key: string): string {
  const body = Buffer.from(JSON.stringify(pending)).toString('base64url')
  return `${body}.${crypto.createHmac('sha256', key).update(body).digest('base64url')}`
}

function readPending(req: IncomingMessage, clients: ReadonlyMap<string, Client>): Pending | undefined {
  const raw = (req.headers.cookie ?? '').split(';').map((p) => p.trim()).find((p) => p.startsWith(`${loginCookie}=`))?.slice(loginCookie.length + 1)
  const [body, mac] = raw?.split('.') ?? []
  if (!body || !mac) return undefined
  let pending: Pending
  try {
    pending = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Pending
  } catch {
    return undefined
  }
  const client = clients.get(String(pending.i))
  if (!client || pending.e < Date.now() / 1000) return undefined
  const expected = Buffer.from(crypto.createHmac('sha256', client.secret.reveal()).update(body).digest('base64url'))
  const given = Buffer.from(mac)
  return given.length === expected.length && crypto.timingSafeEqual(given, expected) ? pending : undefined
}

function page(res: ServerResponse, status: number, title: string, text: string, cookie?: string): void {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>${esc(title)} · skillgate</title><h1>${esc(title)}</h1><p>${esc(text)}</p><p><a href="/ui/">Back to the console</a></p></html>`
  res.writeHead(status, { ...consoleSecurityHeaders, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store', ...(cookie ? { 'set-cookie': cookie } : {}) })
  res.end(html)
}
