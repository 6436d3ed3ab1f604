import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose'
import { pino } from 'pino'
import { stringify } from 'yaml'
import { loadConfigText } from '../../src/config/load.js'
import { startGateway, type Gateway } from '../../src/wiring/gateway.js'
import { startMockUpstream, type MockUpstream, type MockUpstreamOptions } from '../../src/mock-upstream/index.js'

type SigningKey = Parameters<SignJWT['sign']>[0]

export const ISSUER = 'https://ci.skillgate.test'
export const AUDIENCE = 'skillgate-test'

export interface Stack {
  readonly mock: MockUpstream
  readonly gateway: Gateway
  readonly url: string
  /** Every log line the gateway wrote, raw. */
  readonly logs: string[]
  /** A valid workload token for `repo:acme/app` (override any claim). */
  mint(claims?: JWTPayload, options?: { expiresIn?: number; key?: SigningKey }): Promise<string>
  close(): Promise<void>
}

export interface StackOptions {
  readonly mock?: MockUpstreamOptions
  /** Changes to the generated config object before it is loaded. */
  readonly configure?: (config: Record<string, unknown>) => void
  /** Replaces the upstream URL (e.g. a closed port). */
  readonly upstreamUrl?: string
  /** `StartOptions.reloadGraceMs`. */
  readonly reloadGraceMs?: number
}

export const defaultRules = [
  {
    id: 'ci-app',
    issuer: 'ci',
    match: { subject: 'repo:acme/app:*', claims: { repository_owner_id: '1234567' } },
    principal: 'ci:{repository_owner_id}/{repository_id}',
    allow: {
      endpoints: ['messages', 'count_tokens', 'models', 'batches', 'files', 'skills.read', 'skills.manage'],
      models: ['claude-*', 'mock-*'],
      tools: ['client:*', 'code_execution_*'],
      skills: ['anthropic:pptx'],
    },
  },
]

/** Mock upstream + gateway (with a key pair for a test issuer) on loopback ports. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const mock = await startMockUpstream(options.mock)
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key-1', alg: 'ES256', use: 'sig' }
  const dataDir = mkdtempSync(join(tmpdir(), 'skillgate-e2e-'))
  const config: Record<string, unknown> = {
    listen: { host: '127.0.0.1', port: 0, drainTimeout: '5s' },
    storage: { url: `sqlite:${join(dataDir, 'skillgate.db')}` },
    gatewayTokens: { signingKey: { fromFile: join(dataDir, 'gateway-signing-key.json') } },
    upstream: { url: options.upstreamUrl ?? mock.url, apiKey: { value: mock.apiKey } },
    issuers: [{ id: 'ci', issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: { keys: [jwk] }, direct: true, tenantClaims: ['repository_owner_id'] }],
    rules: structuredClone(defaultRules),
  }
  options.configure?.(config)
  const loaded = loadConfigText(stringify(config), 'test-stack.yaml', {})
  if (!loaded.ok) throw new Error(`test config invalid: ${JSON.stringify(loaded.problems)}`)
  const logs: string[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const logger = pino({ level: 'debug' }, sink)
  const gateway = await startGateway(loaded.config, { port: 0, logger, ...(options.reloadGraceMs !== undefined ? { reloadGraceMs: options.reloadGraceMs } : {}) })
  return {
    mock,
    gateway,
    url: gateway.url,
    logs,
    async mint(claims = {}, mintOptions = {}) {
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT({ repository_owner_id: '1234567', repository_id: '42', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key-1', typ: 'JWT' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(typeof claims.sub === 'string' ? claims.sub : 'repo:acme/app:ref:refs/heads/main')
        .setIssuedAt(now)
        .setExpirationTime(now + (mintOptions.expiresIn ?? 300))
        .setJti(crypto.randomUUID())
        .sign(mintOptions.key ?? privateKey)
    },
    async close() {
      await gateway.close(1_000)
      await mock.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** A Messages request body as exact bytes (odd spacing and an unknown field on purpose). */
export const messageBody = (extra: Record<string, unknown> = {}) =>
  Buffer.from(
    `{"model":  "claude-sonnet-4-6", "max_tokens":64,"future_field":{"x":[1,2]},\n "messages":[{"role":"user","content":"hi"}]${Object.entries(extra)
      .map(([k, v]) => `,"${k}":${JSON.stringify(v)}`)
      .join('')}}`,
  )

/**
 * `requestsPerMinute` counts fixed UTC minutes on the gateway's clock: a test that expects its Nth call
 * in a row to be refused must not straddle a minute boundary, or the count starts again mid-test.
 * Waits for the next minute when fewer than `marginSeconds` remain in this one.
 */
export async function clearOfMinuteBoundary(marginSeconds = 15): Promise<void> {
  await clearOfBoundary(60_000, marginSeconds)
}

/** The same for the token budgets, which count UTC days: a spend and its refusal on the same day. */
export async function clearOfDayBoundary(marginSeconds = 20): Promise<void> {
  await clearOfBoundary(86_400_000, marginSeconds)
}

async function clearOfBoundary(periodMs: number, marginSeconds: number): Promise<void> {
  const into = Date.now() % periodMs
  if (into > periodMs - marginSeconds * 1_000) await new Promise((resolve) => setTimeout(resolve, periodMs - into + 50))
}
