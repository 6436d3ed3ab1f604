import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { runRevokeCommand } from '../../src/cli/commands/revoke.js'
import { startFakeIssuer, type FakeIssuer } from '../fixtures/issuers/fake-issuer.js'
import { startOidcIdp, type OidcIdp } from '../fixtures/issuers/oidc-idp.js'
import { runClaude } from './claude-code.js'
import { messageBody, startStack, type Stack } from './harness.js'

/**
 * Workload identity end to end (issue "Workload identity", done-when): a real oidc-provider IdP
 * authenticates through the gateway; the SDK and Claude Code federate with environment variables
 * only; a revoked principal is refused on its next call; a JWKS outage degrades as documented.
 */
const AUDIENCE = 'https://skillgate.test'
const ORG = '00000000-0000-0000-0000-000000000001'
let stack: Stack
let github: FakeIssuer
let idp: OidcIdp
const dir = mkdtempSync(join(tmpdir(), 'skillgate-identity-'))

beforeAll(async () => {
  github = await startFakeIssuer({ audience: AUDIENCE })
  idp = await startOidcIdp({ audience: `${AUDIENCE}/claude`, clients: [{ clientId: 'nightly-summarizer', clientSecret: 'idp-test-secret', scope: 'claude:messages' }] })
  stack = await startStack({
    configure: (config) => {
      ;(config.issuers as unknown[]).push(
        { id: 'github', issuer: github.issuer, jwks: { discovery: true }, insecureAllowHttp: true, audience: AUDIENCE, algorithms: ['RS256', 'ES256'], tenantClaims: ['repository_owner_id'], maxLifetime: '15m' },
        { id: 'corp', issuer: idp.issuer, jwks: { discovery: true }, insecureAllowHttp: true, audience: `${AUDIENCE}/claude`, algorithms: ['ES256'], typ: 'at+jwt', requiredClaims: ['sub', 'iat', 'exp', 'client_id'], direct: true },
      )
      ;(config.rules as unknown[]).push(
        {
          id: 'release-notes',
          issuer: 'github',
          match: { subject: 'repo:acme/app:ref:refs/heads/main', claims: { repository_owner_id: '1234567' } },
          principal: 'gha:{repository_owner_id}/{repository_id}',
          allow: { endpoints: ['messages', 'count_tokens'], models: ['claude-*'], tools: ['client:*'] },
        },
        { id: 'nightly', issuer: 'corp', match: { subject: 'nightly-summarizer', condition: 'has(claims.scope) && claims.scope.matches("(^| )claude:messages( |$)")' }, principal: 'corp:{client_id}', allow: { endpoints: ['messages'], models: ['claude-*'] } },
      )
      config.gatewayTokens = { ...(config.gatewayTokens as object), organizationId: ORG }
      config.keySets = { cooldown: '200ms', fetchTimeout: '1s' }
    },
  })
})
afterAll(async () => {
  await stack.close()
  await github.close()
  await idp.close()
  rmSync(dir, { recursive: true, force: true })
})
afterEach(() => {
  vi.unstubAllEnvs()
})

const ciToken = (claims: Record<string, unknown> = {}) =>
  github.mint({ sub: 'repo:acme/app:ref:refs/heads/main', repository_owner_id: '1234567', repository_id: '42', ...claims })

function federationEnv(tokenFile: string): Record<string, string> {
  return { ANTHROPIC_BASE_URL: stack.url, ANTHROPIC_FEDERATION_RULE_ID: 'release-notes', ANTHROPIC_ORGANIZATION_ID: ORG, ANTHROPIC_IDENTITY_TOKEN_FILE: tokenFile }
}

describe('a real OIDC IdP (oidc-provider, client credentials, RFC 9068 at+jwt)', () => {
  it('authenticates a job through the gateway', async () => {
    const token = await idp.getToken('nightly-summarizer', 'idp-test-secret', 'claude:messages')
    const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
    expect(res.status).toBe(200)
    const record = await stack.gateway.audit.storage.audit.get(res.headers.get('skillgate-request-id')!)
    expect(record).toMatchObject({ issuer: 'corp', principal: 'corp:nightly-summarizer', rule: 'nightly' })
  })

  it('treats a token without the scope as no permission', async () => {
    const token = await idp.getToken('nightly-summarizer', 'idp-test-secret')
    const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
    expect(res.status).toBe(403)
  })
})

describe('federation with no client code', () => {
  it('the SDK exchanges its CI token and calls Claude; the workload token alone is refused', async () => {
    const tokenFile = join(dir, 'sdk-token')
    writeFileSync(tokenFile, await ciToken())
    for (const [k, v] of Object.entries({ ANTHROPIC_API_KEY: '', ANTHROPIC_AUTH_TOKEN: '', ANTHROPIC_PROFILE: '', ANTHROPIC_CONFIG_DIR: dir, ...federationEnv(tokenFile) })) vi.stubEnv(k, v)
    stack.mock.reset()
    const message = await new Anthropic({ maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
    expect(message.content[0]).toMatchObject({ type: 'text' })
    const upstream = stack.mock.requests.find((r) => r.path === '/v1/messages')!
    expect(upstream.headers['x-api-key']).toBe(stack.mock.apiKey)
    expect(String(upstream.headers['anthropic-beta'] ?? '')).not.toContain('oauth-2025-04-20')
    const direct = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'x-api-key': await ciToken(), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
    expect(direct.status, 'github tokens must be exchanged first').toBe(401)
    const { records } = await stack.gateway.audit.storage.audit.list({ limit: 10, principal: 'gha:1234567/42' })
    expect(records.map((r) => r.endpoint)).toEqual(expect.arrayContaining(['oauth_token', 'messages']))
  })

  it('publishes the gateway keys and refuses a revoked principal on its next call', async () => {
    const jwks = (await (await fetch(`${stack.url}/.well-known/jwks.json`)).json()) as { keys: { kty: string; d?: string }[] }
    expect(jwks.keys[0]?.kty).toBe('EC')
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true)

    const tokenFile = join(dir, 'revoked-token')
    writeFileSync(tokenFile, await ciToken({ repository_id: '43' }))
    for (const [k, v] of Object.entries({ ANTHROPIC_API_KEY: '', ANTHROPIC_AUTH_TOKEN: '', ANTHROPIC_PROFILE: '', ANTHROPIC_CONFIG_DIR: dir, ...federationEnv(tokenFile) })) vi.stubEnv(k, v)
    const client = new Anthropic({ maxRetries: 1 })
    const ask = () => client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })
    await ask()
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    try {
      expect(await runRevokeCommand(['principal', 'gha:1234567/43', '--before', new Date(Date.now() + 1_000).toISOString(), '--store', String(stack.gateway.config.storage.url)])).toBe(0)
    } finally {
      vi.mocked(process.stdout.write).mockRestore()
    }
    await new Promise((r) => setTimeout(r, 1_200))
    // The gateway token answers 401; the SDK re-exchanges once, and the exchange is refused too.
    await expect(ask()).rejects.toThrow(/exchange|401|invalid_grant/i)
    const { records } = await stack.gateway.audit.storage.audit.list({ limit: 5, outcome: 'denied' })
    expect(records.map((r) => r.error)).toContain('GW_AUTHN_REVOKED')
  })

  it('Claude Code federates through the gateway and completes a turn', async () => {
    const home = mkdtempSync(join(dir, 'cc-'))
    const tokenFile = join(dir, 'cc-token')
    writeFileSync(tokenFile, await ciToken({ repository_id: '44' }))
    stack.mock.reset()
    const result = await runClaude(['-p', 'say hi', '--output-format', 'json'], { HOME: home, CLAUDE_CONFIG_DIR: join(home, '.claude'), ...federationEnv(tokenFile) })
    expect(result.code, result.stderr + result.stdout).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ type: 'result', is_error: false })
    expect(stack.mock.requests.filter((r) => r.path === '/v1/messages')).toHaveLength(1)
  }, 120_000)
})

describe('JWKS outage', () => {
  it('keeps verifying with cached keys and reports the issuer degraded', async () => {
    const before = await fetch(`${stack.url}/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await ciToken(), federation_rule_id: 'release-notes', organization_id: ORG }),
    })
    expect(before.status).toBe(200)
    github.setMode('down')
    await new Promise((r) => setTimeout(r, 300)) // past the refetch cooldown
    // An unknown kid forces a refetch, which fails: the issuer is now degraded.
    const unknownKid = await github.mint({ sub: 'repo:acme/app:ref:refs/heads/main', repository_owner_id: '1234567', repository_id: '42' }, { kid: 'rotated-away' })
    const refused = await fetch(`${stack.url}/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: unknownKid, federation_rule_id: 'release-notes', organization_id: ORG }) })
    expect(refused.status).toBe(400)
    const after = await fetch(`${stack.url}/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await ciToken(), federation_rule_id: 'release-notes', organization_id: ORG }) })
    expect(after.status, 'cached keys keep working').toBe(200)
    const ready = (await (await fetch(`${stack.url}/readyz`)).json()) as { issuers: { id: string; state: string }[] }
    expect(ready.issuers.find((i) => i.id === 'github')?.state).toBe('degraded')
    github.setMode('up')
  })
})
