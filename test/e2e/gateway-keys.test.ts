import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import { SignJWT, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startMockUpstream, type MockUpstream } from '../../src/mock-upstream/index.js'
import { createTestSchema, describePostgres, postgresTestUrl } from '../contract/postgres-env.js'
import { runClaude } from './claude-code.js'
import { cli, runCli, startBalancer, startGatewayProcess, type Balancer, type GatewayProcess } from './deployment.js'

/**
 * Issue #14 done-when: one configuration deployed twice behind a balancer that alternates per request
 * (two replicas on one PostgreSQL, each in its own working directory; then `serve --workers 2` on
 * SQLite). A gateway token minted at one process is honoured at the other: the official SDK
 * federating with environment variables completes 20 of 20 runs, Claude Code completes its turn, a
 * key rotation leaves earlier tokens valid, and `keys rotate --now --revoke-previous` refuses every
 * earlier gateway token everywhere within a second.
 */
const ORG = '00000000-0000-0000-0000-000000000001'
const AUDIENCE = 'https://skillgate.test'
const CI_ISSUER = 'https://ci.skillgate.test'
const RULE = 'release-notes'
/** The key-encryption key, as `openssl rand -base64 32` prints one. */
const KEK = randomBytes(32).toString('base64')
const work = mkdtempSync(join(tmpdir(), 'skillgate-keys-e2e-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

interface Deployment {
  readonly balancer: Balancer
  readonly nodes: GatewayProcess[]
  /** Distinct listen URLs (one per replica; workers share one). */
  readonly backends: string[]
}

let mock: MockUpstream
let ciKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
let ciJwk: Record<string, unknown>
beforeAll(async () => {
  mock = await startMockUpstream()
  const pair = await generateKeyPair('ES256', { extractable: true })
  ciKey = pair.privateKey
  ciJwk = { ...(await exportJWK(pair.publicKey)), kid: 'ci-1', alg: 'ES256', use: 'sig' }
})
afterAll(async () => {
  await mock?.close()
})

function configFor(storageUrl: string, balancer: Balancer): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 0, drainTimeout: '2s' },
    upstream: { url: mock.url, apiKey: { value: mock.apiKey } },
    storage: { url: storageUrl },
    // The shared public URL; no signingKey: the keys live in the store, sealed under keyEncryption.
    gatewayTokens: { issuer: balancer.url, organizationId: ORG, keyEncryption: { value: KEK } },
    issuers: [{ id: 'github', issuer: CI_ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: { keys: [ciJwk] }, tenantClaims: ['repository_owner_id'] }],
    rules: [
      {
        id: RULE,
        issuer: 'github',
        match: { subject: 'repo:acme/app:ref:refs/heads/main', claims: { repository_owner_id: '1234567' } },
        principal: 'gha:{repository_owner_id}/{repository_id}',
        allow: { endpoints: ['messages', 'count_tokens', 'models'], models: ['claude-*'], tools: ['client:*'] },
      },
    ],
  }
}
async function ciToken(repositoryId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ repository_owner_id: '1234567', repository_id: repositoryId })
    .setProtectedHeader({ alg: 'ES256', kid: 'ci-1', typ: 'JWT' })
    .setIssuer(CI_ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('repo:acme/app:ref:refs/heads/main')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .setJti(crypto.randomUUID())
    .sign(ciKey)
}

async function exchangeAt(url: string, repositoryId: string): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await ciToken(repositoryId), federation_rule_id: RULE, organization_id: ORG })
  const response = await fetch(`${url}/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
  expect(response.status).toBe(200)
  return ((await response.json()) as { access_token: string }).access_token
}

/** Status of `GET /v1/models` with a gateway token; a new connection each time (workers: round robin). */
async function statusAt(url: string, token: string): Promise<number> {
  const response = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${token}`, 'anthropic-version': '2023-06-01', connection: 'close' } })
  await response.arrayBuffer()
  return response.status
}

/** Every (token, target) pair, twice per target so both workers behind one port are asked. */
async function statuses(deployment: Deployment, tokens: readonly string[]): Promise<number[]> {
  const targets = [...deployment.backends, ...deployment.backends]
  return Promise.all(tokens.flatMap((token) => targets.map((url) => statusAt(url, token))))
}

async function keysCli(node: GatewayProcess, ...args: string[]): Promise<{ kid: string }> {
  const result = await runCli(['keys', 'rotate', '--now', '--json', '--config', node.configPath, ...args], node.cwd)
  expect(result.code, result.out).toBe(0)
  return JSON.parse(result.out.trim().split('\n').pop() as string) as { kid: string }
}

function proveOneGateway(name: string, deploy: () => Promise<Deployment>, teardown: () => Promise<void>): void {
  describe(name, () => {
    let deployment: Deployment
    beforeAll(async () => {
      expect(existsSync(cli), 'the build output is missing: run npm run build').toBe(true)
      deployment = await deploy()
    }, 60_000)
    afterAll(async () => {
      const codes = await Promise.all(deployment?.nodes.map((node) => node.stop()) ?? [])
      await deployment?.balancer.close()
      await teardown()
      expect(codes.every((code) => code === 0)).toBe(true)
    }, 30_000)

    it('the official SDK federating with environment variables completes 20 of 20 runs', async () => {
      let completed = 0
      try {
        for (let run = 0; run < 20; run++) {
          const dir = mkdtempSync(join(work, 'sdk-'))
          const tokenFile = join(dir, 'token')
          writeFileSync(tokenFile, await ciToken(String(100 + run)))
          const env = { ANTHROPIC_API_KEY: '', ANTHROPIC_AUTH_TOKEN: '', ANTHROPIC_PROFILE: '', ANTHROPIC_CONFIG_DIR: dir, ANTHROPIC_BASE_URL: deployment.balancer.url, ANTHROPIC_FEDERATION_RULE_ID: RULE, ANTHROPIC_ORGANIZATION_ID: ORG, ANTHROPIC_IDENTITY_TOKEN_FILE: tokenFile }
          for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v)
          const message = await new Anthropic({ maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined)
          if (message?.content[0]?.type === 'text') completed++
        }
      } finally {
        vi.unstubAllEnvs()
      }
      expect(completed).toBe(20)
      // Both processes served (with two workers round robin sends every exchange to one, every call to the other).
      const served = (line: string) => line.includes('"msg":"request"') || line.includes('"msg":"exchange.succeeded"')
      const pids = new Set(deployment.nodes.flatMap((node) => node.logs().split('\n').filter(served).map((line) => (JSON.parse(line) as { pid: number }).pid)))
      expect(pids.size).toBe(2)
    }, 120_000)

    it('Claude Code federating through the balancer completes its turn', async () => {
      const home = mkdtempSync(join(work, 'cc-'))
      const tokenFile = join(home, 'token')
      writeFileSync(tokenFile, await ciToken('200'))
      const env = { HOME: home, CLAUDE_CONFIG_DIR: join(home, '.claude'), ANTHROPIC_BASE_URL: deployment.balancer.url, ANTHROPIC_FEDERATION_RULE_ID: RULE, ANTHROPIC_ORGANIZATION_ID: ORG, ANTHROPIC_IDENTITY_TOKEN_FILE: tokenFile }
      const result = await runClaude(['-p', 'say hi', '--output-format', 'json'], env)
      expect(result.code, result.stderr + result.stdout).toBe(0)
      expect(JSON.parse(result.stdout)).toMatchObject({ type: 'result', is_error: false })
    }, 120_000)

    it('a rotation leaves earlier tokens valid; --revoke-previous refuses them everywhere within a second', async () => {
      const [first, last] = [deployment.nodes[0] as GatewayProcess, deployment.nodes.at(-1) as GatewayProcess]
      const before = await exchangeAt(deployment.backends[0] as string, '300')
      const { kid } = await keysCli(first)
      // The other node signs with the new key once it has read it (every 250 ms).
      let after = ''
      await expect.poll(async () => decodeProtectedHeader((after = await exchangeAt(deployment.backends.at(-1) as string, '301'))).kid, { timeout: 2_000, interval: 100 }).toBe(kid)
      expect(decodeProtectedHeader(before).kid).not.toBe(kid)
      expect(await statuses(deployment, [before, after])).toEqual(Array(4 * deployment.backends.length).fill(200))

      await keysCli(last, '--revoke-previous')
      const revokedAt = Date.now()
      // Timed from the start of the probe that saw every refusal, so a slow probe on a loaded
      // machine does not count against the replicas' one-second bound.
      let probeStartedAt = 0
      const probe = () => {
        probeStartedAt = Date.now()
        return statuses(deployment, [before, after])
      }
      await expect.poll(probe, { timeout: 5_000, interval: 50 }).toEqual(Array(4 * deployment.backends.length).fill(401))
      expect(probeStartedAt - revokedAt).toBeLessThan(1_000)
      const fresh = await exchangeAt(deployment.balancer.url, '302')
      expect(await statuses(deployment, [fresh])).toEqual(Array(2 * deployment.backends.length).fill(200))
      // The keys never touched a working directory.
      expect(deployment.nodes.some((node) => existsSync(join(node.cwd, 'data', 'gateway-signing-key.json')))).toBe(false)
    }, 30_000)
  })
}

/** Waits for `count` "skillgate listening" lines (hooks cannot use expect.poll). */
async function listening(node: GatewayProcess, count: number): Promise<void> {
  await vi.waitFor(() => {
    if (node.urls().length < count) throw new Error(`not listening yet:\n${node.logs().slice(-2_000)}`)
  }, { timeout: 30_000, interval: 100 })
}

let schema: Awaited<ReturnType<typeof createTestSchema>> | undefined
await describePostgres('gateway keys in the store', () => {
  proveOneGateway(
    'two replicas on one PostgreSQL behind an alternating balancer',
    async () => {
      schema = await createTestSchema()
      const url = `${postgresTestUrl}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`
      const balancer = await startBalancer()
      const nodes = [startGatewayProcess(configFor(url, balancer)), startGatewayProcess(configFor(url, balancer))]
      for (const node of nodes) await listening(node, 1)
      const backends = nodes.map((node) => node.urls()[0] as string)
      balancer.setBackends(backends)
      return { balancer, nodes, backends }
    },
    async () => {
      await schema?.drop()
    },
  )
})

proveOneGateway(
  'serve --workers 2 on SQLite behind an alternating balancer',
  async () => {
    const balancer = await startBalancer()
    const node = startGatewayProcess(configFor('sqlite:./data/skillgate.db', balancer), ['--workers', '2'])
    await listening(node, 2)
    const backends = [...new Set(node.urls())]
    balancer.setBackends(backends)
    return { balancer, nodes: [node], backends }
  },
  async () => undefined,
)
