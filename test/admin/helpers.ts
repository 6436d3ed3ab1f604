import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose'
import { pino } from 'pino'
import { createApprovals } from '../../src/approvals/index.js'
import { createAdminApi, type AdminAction, type AdminApi, type AdminApiDeps } from '../../src/admin/index.js'
import type { Config } from '../../src/config/load.js'
import { createTokenVerifier } from '../../src/identity/index.js'
import { compilePolicy } from '../../src/policy/compile.js'
import type { NewReview } from '../../src/storage/ports.js'
import { ISSUER, messageBody, startStack, type Stack } from '../e2e/harness.js'

/** Admin tokens of the test config, one per role; long enough to be found if they ever leak. */
export const TOKENS = {
  admin: 'sg-admin-token-0123456789abcdef-admin',
  approver: 'sg-admin-token-0123456789abcdef-approver',
  auditor: 'sg-admin-token-0123456789abcdef-auditor',
} as const

export const HUMAN_ISSUER = 'https://idp.skillgate.test'
export const HUMAN_AUDIENCE = 'skillgate-admin'

export interface AdminStack {
  readonly stack: Stack
  readonly admin: AdminApi
  /** Base URL of the test server that forwards `/admin/api/*` to the admin API. */
  readonly url: string
  readonly actions: AdminAction[]
  /** Every log line the admin API wrote. */
  readonly adminLogs: string[]
  /** A human OIDC token of the test identity provider; `groups` carries the roles. */
  mintHuman(claims: JWTPayload): Promise<string>
  /** Calls the admin API; `token` undefined sends no Authorization header. */
  call(method: string, path: string, token?: string, body?: unknown): Promise<Response>
  /** A /v1/messages call on the gateway with a workload token; resolves the status. */
  v1(token: string, stream?: boolean): Promise<{ status: number; id: string; text: string }>
  newReview(overrides?: Partial<NewReview>): Promise<string>
  close(): Promise<void>
}

/**
 * A real gateway (startStack) plus a small node:http server that mounts `createAdminApi` built from
 * the gateway's own objects, as wiring/admin.ts does.
 */
export async function startAdminStack(options: { adminConfig?: (config: Config) => Config; deps?: Partial<AdminApiDeps> } = {}): Promise<AdminStack> {
  const stack = await startStack({
    configure: (config) => {
      config.admin = { tokens: Object.entries(TOKENS).map(([role, value]) => ({ secret: { value }, roles: [role] })) }
    },
  })
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid: 'human-1', alg: 'ES256' }
  const humanVerifier = createTokenVerifier([
    { id: 'people', issuer: HUMAN_ISSUER, jwks: { kind: 'keys', keys: [jwk] }, audience: HUMAN_AUDIENCE, algorithms: ['ES256'], maxLifetimeMs: 3_600_000, clockSkewMs: 30_000, requiredClaims: [] },
  ])
  const actions: AdminAction[] = []
  const adminLogs: string[] = []
  const sink = new Writable({ write: (chunk, _enc, done) => (adminLogs.push(String(chunk)), done()) })
  const config = options.adminConfig?.(stack.gateway.config) ?? stack.gateway.config
  const approvals = createApprovals({ reviews: stack.gateway.audit.storage.reviews, grants: stack.gateway.audit.storage.grants, rules: config.rules, sweepMs: 0 })
  const admin = createAdminApi({
    config,
    adminTokens: config.secrets.adminTokens,
    humans: { verifier: humanVerifier, roleClaims: new Map([['people', 'groups']]) },
    storage: stack.gateway.audit.storage,
    revocations: stack.gateway.revocations,
    approvals,
    policy: compilePolicy(config.rules, config.skills),
    issuersHealth: () => stack.gateway.verifier.health(),
    logger: pino({ level: 'debug' }, sink),
    onAdminAction: (event) => void actions.push(event),
    ...options.deps,
  })
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    if (path.startsWith('/admin/api/')) return void admin.handle(req, res, path, q === -1 ? '' : url.slice(q))
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    stack,
    admin,
    url,
    actions,
    adminLogs,
    mintHuman: (claims) => {
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'human-1' }).setIssuer(HUMAN_ISSUER).setAudience(HUMAN_AUDIENCE).setIssuedAt(now).setExpirationTime(typeof claims.exp === 'number' ? claims.exp : now + 600).sign(privateKey)
    },
    call: (method, path, token, body) =>
      fetch(`${url}${path}`, {
        method,
        headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    async v1(token, stream = false) {
      const res = await fetch(`${stack.url}/v1/messages`, {
        method: 'POST',
        body: messageBody(stream ? { stream: true } : {}),
        headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      })
      return { status: res.status, id: res.headers.get('skillgate-request-id') ?? '', text: await res.text() }
    },
    async newReview(overrides = {}) {
      const { review } = await stack.gateway.audit.storage.reviews.create({
        principal: 'ci:1234567/42',
        rule: 'ci-app',
        fingerprint: crypto.randomUUID(),
        summary: { endpoint: 'messages', model: 'claude-sonnet-4-6', skills: [], tools: [], requestId: 'req-1' },
        requester: { issuer: ISSUER, subject: 'repo:acme/app:ref:refs/heads/main' },
        expiresAt: new Date(Date.now() + 600_000),
        ...overrides,
      })
      return review.id
    },
    async close() {
      admin.close()
      approvals.close()
      humanVerifier.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await stack.close()
    },
  }
}
