/**
 * What the bench sends and what it measures: the workload token, the two request bodies, and the
 * gateway configuration of every variant. Shared by bench/run.mjs (HTTP) and bench/micro.mjs
 * (in-process micro-costs), so both measure the same policy, token and masking profile.
 */
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { availableParallelism } from 'node:os'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { DEFAULT_MOCK_API_KEY } from '../../dist/mock-upstream/index.js'
import { detectorNames } from '../../dist/masking/index.js'

export const ISSUER = 'https://token.actions.githubusercontent.com/bench'
export const AUDIENCE = 'skillgate-bench'
/** Both proxies get these upstream pool settings (the gateway through its config). */
export const UPSTREAM_POOL = { connections: 256, connectTimeoutMs: 10_000, firstByteTimeoutMs: 600_000, idleTimeoutMs: 300_000 }
/** The custom pattern of the masking profile (also used by bench/masking.mjs). */
export const TICKET = { name: 'ticket', regex: '\\b(OPS|SEC|INC)-[0-9]{1,7}\\b', maxLength: 16 }
/** Detectors that refuse a request in the `full` variant: secrets that must never reach Claude. */
export const REQUEST_BLOCK = ['private-key', 'anthropic-key', 'aws-access-key', 'github-token']
/** Limits of the `full` variant: counted on every request, far above what a run can reach. */
const HIGH_LIMITS = { requestsPerMinute: 1_000_000_000, inputTokensPerDay: 1_000_000_000_000, outputTokensPerDay: 1_000_000_000_000, concurrentStreams: 100_000 }
const CONDITION = 'claims.repository_owner == "acme" && claims.ref.startsWith("refs/heads/") && claims.event_name in ["push", "workflow_dispatch"]'

/** Workers of the `full-workers` variant: one per CPU, as `serve` does with NODE_ENV=production. */
export const WORKERS = availableParallelism()

/**
 * The gateway variants, cheapest first. `body` names the request body their rounds send; the
 * pass-through is measured with every body a chosen variant uses, and each variant is compared
 * with the pass-through on the same body. `config` (default: the variant's own name) names the
 * gateway config it runs; `workers` starts it through the real CLI (`skillgate serve --workers N`,
 * node:cluster) instead of in-process in a bench child (see lib/cli-gateway.mjs).
 */
export const VARIANTS = {
  auth: { body: 'simple', describe: 'auth + policy (1 allow rule, models glob), audit off (audit.insecureDisabled)' },
  'audit-async': { body: 'simple', describe: 'auth + policy + audit durability async (SQLite)' },
  'audit-strict': { body: 'simple', describe: 'auth + policy + audit durability strict (SQLite, the default)' },
  full: {
    body: 'realistic',
    describe: 'auth + policy (CEL condition, skills/tools/maxTokens grants) + response masking (all detectors + 1 pattern) + request block detectors + limits + strict audit',
  },
  'full-workers': {
    body: 'realistic',
    config: 'full',
    workers: WORKERS,
    describe: `the full config, served by \`skillgate serve --workers ${WORKERS}\` (node:cluster, one worker per CPU, one shared SQLite store); CPU and RSS summed over the primary and its workers`,
  },
}

/** The config a variant runs (`full-workers` runs `full`'s). */
export const configOf = (variant) => VARIANTS[variant]?.config ?? variant

export const BODIES = {
  simple: '153 B: one user message → a 462 B text reply, or 13 SSE events (1.8 kB)',
  realistic: '864 B: system, 3 messages, 2 tools, 1 container skill → code execution + a text with 5 secrets: 1,159 B, or 59 SSE events (7.8 kB)',
}

/** An ES256 key pair and one token shaped like a GitHub Actions OIDC token, reused by every request. */
export async function mintToken() {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-key-1', alg: 'ES256', use: 'sig' }
  const now = Math.floor(Date.now() / 1000)
  const token = await new SignJWT({
    repository: 'acme/app', repository_id: '42', repository_owner: 'acme', repository_owner_id: '1234567',
    ref: 'refs/heads/main', sha: 'd6cd1e2bd19e03a81132a23b2025920577f84e37', workflow: 'ci', event_name: 'push',
    run_id: '9876543210', run_attempt: '1', actor: 'octocat', job_workflow_ref: 'acme/app/.github/workflows/ci.yml@refs/heads/main',
  })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('repo:acme/app:ref:refs/heads/main')
    .setIssuedAt(now)
    .setNotBefore(now - 5)
    .setExpirationTime(now + 600) // outlives the run, within the issuer's default maxLifetime (15 min)
    .setJti(randomUUID())
    .sign(privateKey)
  return { jwk, token }
}

/** The request bodies as objects (`stream: true` added for SSE). */
export function requestJson(body, stream = false) {
  if (body === 'simple') {
    return {
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      ...(stream ? { stream: true } : {}),
      messages: [{ role: 'user', content: 'Summarise the failing test output of this CI job in one sentence.' }],
    }
  }
  // A CI agent's call: prior turns, a client tool and code execution with an Anthropic skill. The
  // mock answers MOCK:PII with an email, a card number, an API key, an AWS key and a ticket id.
  return {
    model: 'claude-sonnet-4-6',
    max_tokens: 1024,
    ...(stream ? { stream: true } : {}),
    system: 'You are the CI assistant of acme/app. Answer in at most three sentences and never repeat credentials.',
    container: { skills: [{ type: 'anthropic', skill_id: 'xlsx', version: 'latest' }] },
    tools: [
      { type: 'code_execution_20250825', name: 'code_execution' },
      {
        name: 'get_job_log',
        description: 'Fetch the log of a CI job by its id.',
        input_schema: { type: 'object', properties: { job: { type: 'string', description: 'the job id' } }, required: ['job'] },
      },
    ],
    messages: [
      { role: 'user', content: 'The nightly build of acme/app failed on main.' },
      { role: 'assistant', content: [{ type: 'text', text: 'Which job failed, and do you want the spreadsheet of failing tests?' }] },
      { role: 'user', content: [{ type: 'text', text: 'Job 7731. Yes: summarise the failing tests and the customer record in the fixture. MOCK:PII' }] },
    ],
  }
}

export const requestBody = (body, stream) => Buffer.from(JSON.stringify(requestJson(body, stream)))

/** A gateway config as a deployment with one CI issuer would write it, for one variant. */
export function gatewayConfig(variant, { mockUrl, jwk, dir }) {
  const config = configOf(variant)
  const full = config === 'full'
  const audit = config === 'auth' ? { insecureDisabled: true } : { durability: config === 'audit-async' ? 'async' : 'strict' }
  return {
    listen: { host: '127.0.0.1', port: 0, drainTimeout: '2s' },
    // Everything the gateway writes stays in the variant's temporary directory, never ./data.
    storage: { url: `sqlite:${join(dir, 'skillgate.db')}` },
    gatewayTokens: { signingKey: { fromFile: join(dir, 'gateway-signing-key.json') } },
    audit,
    upstream: {
      url: mockUrl,
      apiKey: { value: DEFAULT_MOCK_API_KEY },
      connections: UPSTREAM_POOL.connections,
      timeouts: { connect: '10s', firstByte: '10m', idle: '5m' },
    },
    issuers: [{ id: 'ci', issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: { keys: [jwk] }, direct: true }],
    ...(full
      ? {
          skills: { xlsx: { type: 'anthropic', id: 'xlsx' }, pdf: { type: 'anthropic', id: 'pdf' } },
          masking: {
            profiles: { secrets: { detectors: [...detectorNames], patterns: [TICKET] } },
            requests: { block: REQUEST_BLOCK },
          },
        }
      : {}),
    rules: [full ? fullRule() : { id: 'bench', issuer: 'ci', match: { subject: 'repo:acme/app:*' }, allow: { endpoints: ['messages'], models: ['claude-*'] } }],
  }
}

function fullRule() {
  return {
    id: 'bench',
    issuer: 'ci',
    match: { subject: 'repo:acme/app:*', claims: { repository_id: '42' }, condition: CONDITION },
    principal: 'gha:{repository_owner_id}/{repository_id}',
    allow: {
      endpoints: ['messages', 'count_tokens'],
      models: ['claude-sonnet-*', 'claude-haiku-*'],
      skills: ['xlsx', 'pdf'],
      tools: ['code_execution_*', 'client:get_job_log', 'client:get_job_*'],
      maxTokens: 4096,
    },
    limits: HIGH_LIMITS,
    masking: ['secrets'],
  }
}
