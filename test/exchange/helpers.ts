/**
 * An exchange endpoint wired like the gateway will wire it: the strict workload verifier, gateway
 * tokens on a temporary key file, the in-memory replay guard and a small rule matcher standing in
 * for the policy module. `post*` drive the transport-free handler directly.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createMemoryMintedStore, createMemoryReplayGuard, createTokenExchange, type ExchangeEvent, type MemoryMintedStore, type ExchangeIssuerPolicy, type MemoryReplayGuard,
  type RuleMatch, type SamlAssertionVerifier, type TokenExchangeDeps, type TokenExchangeHandler,
} from '../../src/exchange/index.js'
import { openGatewayTokens, type GatewayTokens } from '../../src/identity/gateway-token.js'
import { createTokenVerifier, type IssuerSpec, type TokenVerifier, type VerifiedToken } from '../../src/identity/index.js'
import { generateIssuerKeys, type IssuerKeys } from '../fixtures/issuers/keys.js'
import { mintToken, type MintOptions } from '../fixtures/issuers/mint.js'

export const GATEWAY = 'https://skillgate.example'
export const TOKEN_ENDPOINT = `${GATEWAY}/v1/oauth/token`
export const WORKLOAD_AUDIENCE = 'https://skillgate.example'
export const ORG = '00000000-0000-0000-0000-000000000001'
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt'
export const SAML2_TYPE = 'urn:ietf:params:oauth:token-type:saml2'

export interface TestRule {
  readonly id: string
  readonly issuer: string
  readonly match: (claims: Readonly<Record<string, unknown>>) => boolean
  readonly principal: (claims: Readonly<Record<string, unknown>>) => string
  readonly scope?: string
  readonly workspaceIds?: readonly string[]
}

export const defaultRules: readonly TestRule[] = [
  {
    id: 'release-notes',
    issuer: 'github',
    match: (c) => c.repository_owner_id === '162148032' && c.ref === 'refs/heads/main',
    principal: (c) => `gha:${String(c.repository_owner_id)}/${String(c.repository_id)}`,
    scope: 'claude:messages skill:generate-release-notes',
    workspaceIds: ['wrkspc_allowed'],
  },
  {
    id: 'nightly-saml',
    issuer: 'corp-saml',
    match: (c) => c.sub === 'svc-nightly',
    principal: (c) => `saml:${String(c.sub)}`,
    scope: 'claude:messages',
  },
]

/** Stand-in for the policy module: a named rule is the only candidate; none or several → refused. */
export function ruleMatcher(rules: readonly TestRule[]) {
  return (identity: VerifiedToken, namedRule: string | undefined): RuleMatch => {
    const candidates = rules.filter((rule) => rule.issuer === identity.issuerId && (namedRule === undefined || rule.id === namedRule))
    const matching = candidates.filter((rule) => rule.match(identity.claims))
    if (matching.length !== 1) return { ok: false, reason: matching.length === 0 ? 'no rule matches' : 'ambiguous' }
    const rule = matching[0] as TestRule
    return {
      ok: true,
      rule: rule.id,
      principal: rule.principal(identity.claims),
      ...(rule.scope === undefined ? {} : { scope: rule.scope }),
      ...(rule.workspaceIds === undefined ? {} : { workspaceIds: rule.workspaceIds }),
    }
  }
}

export interface StackOptions {
  readonly singleUse?: boolean
  readonly now?: () => number
  readonly issuers?: readonly IssuerSpec[]
  readonly policies?: readonly ExchangeIssuerPolicy[]
  readonly saml?: SamlAssertionVerifier
  readonly rules?: readonly TestRule[]
  readonly deps?: Partial<TokenExchangeDeps>
}

export interface Reply {
  readonly status: number
  readonly headers: Record<string, string>
  readonly json: Record<string, unknown>
}

export interface ExchangeStack {
  readonly handler: TokenExchangeHandler
  readonly tokens: GatewayTokens
  readonly verifier: TokenVerifier
  readonly replay: MemoryReplayGuard
  readonly minted: MemoryMintedStore
  readonly events: ExchangeEvent[]
  readonly github: IssuerKeys
  mint(claims?: Readonly<Record<string, unknown>>, options?: MintOptions): string
  post(contentType: string | undefined, body: string | Buffer, headers?: Record<string, string>): Promise<Reply>
  /** The Claude WIF JSON form with the defaults of a correctly configured SDK. */
  wif(assertion: string, overrides?: Record<string, unknown>, headers?: Record<string, string>): Promise<Reply>
  form(params: Record<string, string | readonly string[]>, headers?: Record<string, string>): Promise<Reply>
  close(): Promise<void>
}

export function githubIssuerSpec(keys: IssuerKeys): IssuerSpec {
  return {
    id: 'github',
    issuer: keys.issuer,
    jwks: { kind: 'keys', keys: keys.jwks().keys },
    audience: WORKLOAD_AUDIENCE,
    algorithms: ['RS256', 'ES256'],
    maxLifetimeMs: 15 * 60_000,
    clockSkewMs: 30_000,
    requiredClaims: [],
  }
}

/** RSA key generation dominates test time: one GitHub-like issuer per test file is enough. */
let githubKeys: Promise<IssuerKeys> | undefined

export async function startExchangeStack(options: StackOptions = {}): Promise<ExchangeStack> {
  const now = options.now ?? Date.now
  const dir = await mkdtemp(join(tmpdir(), 'skillgate-exchange-'))
  githubKeys ??= generateIssuerKeys('https://token.actions.example', 'gh')
  const github = await githubKeys
  const verifier = createTokenVerifier(options.issuers ?? [githubIssuerSpec(github)], { now })
  const tokens = await openGatewayTokens({ keyFile: join(dir, 'gateway-key.json'), issuer: GATEWAY, ttlMs: 300_000, now })
  const replay = createMemoryReplayGuard({ now })
  const minted = createMemoryMintedStore({ now })
  const events: ExchangeEvent[] = []
  const handler = createTokenExchange({
    verifier,
    issuers: options.policies ?? [{ id: 'github', singleUse: options.singleUse ?? false }],
    gatewayTokens: tokens,
    replay,
    minted,
    matchRule: ruleMatcher(options.rules ?? defaultRules),
    organizationId: ORG,
    now,
    onEvent: (event) => events.push(event),
    ...(options.saml === undefined ? {} : { saml: options.saml }),
    ...options.deps,
  })
  const post = async (contentType: string | undefined, body: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> => {
    const response = await handler({ contentType, body: Buffer.isBuffer(body) ? body : Buffer.from(body), headers: { ...headers } })
    return { status: response.status, headers: response.headers, json: JSON.parse(response.body) as Record<string, unknown> }
  }
  return {
    handler,
    tokens,
    verifier,
    replay,
    minted,
    events,
    github,
    mint: (claims = {}, mintOptions = {}) => mintToken(github, claims, { now: now(), audience: WORKLOAD_AUDIENCE, ...mintOptions }),
    post,
    wif: (assertion, overrides = {}, headers = {}) => {
      const body: Record<string, unknown> = { grant_type: JWT_BEARER, assertion, federation_rule_id: 'release-notes', organization_id: ORG, ...overrides }
      for (const [key, value] of Object.entries(body)) if (value === undefined) delete body[key]
      return post('application/json', JSON.stringify(body), headers)
    },
    form: (params, headers = {}) => {
      const search = new URLSearchParams()
      for (const [key, value] of Object.entries(params)) for (const item of typeof value === 'string' ? [value] : value) search.append(key, item)
      return post('application/x-www-form-urlencoded', search.toString(), headers)
    },
    async close() {
      tokens.close()
      verifier.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export function lastEvent(stack: ExchangeStack): ExchangeEvent | undefined {
  return stack.events[stack.events.length - 1]
}
