import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'

/**
 * The configuration `skillgate demo` runs with: the shape of SPEC §2, written to the demo's temp
 * directory as a real YAML file so that the printed CLI commands (`token mint --config …`) work on
 * it too. Secrets are files there (mode 0600), not inline values.
 */

export const DEMO_ISSUER = 'http://127.0.0.1/skillgate-demo'
export const DEMO_AUDIENCE = 'skillgate-demo'
export const DEMO_RULE = 'release-notes'
/** The skill alias the rule grants, and the skill it does not. */
export const DEMO_SKILL = { alias: 'release-deck', type: 'anthropic', id: 'pptx' } as const
export const DEMO_OTHER_SKILL = 'xlsx'
export const DEMO_HOLD = '2m'

export interface DemoFiles {
  readonly configPath: string
  readonly consoleToken: string
  readonly jwksFile: string
}

export interface DemoConfigInput {
  readonly dir: string
  readonly port: number
  readonly upstreamUrl: string
  readonly upstreamKey: string
}

/** Writes the secrets and `skillgate.yaml` under `dir` and returns where they are. */
export async function writeDemoConfig(input: DemoConfigInput): Promise<DemoFiles> {
  const { dir } = input
  const consoleToken = `sgdemo_${randomBytes(24).toString('base64url')}`
  const tokenFile = join(dir, 'console-token')
  const upstreamKeyFile = join(dir, 'upstream-key')
  const jwksFile = join(dir, 'dev-jwks.json')
  await writeFile(tokenFile, consoleToken, { mode: 0o600 })
  // The mock's key stands in for the real Anthropic key, which the demo never needs.
  await writeFile(upstreamKeyFile, input.upstreamKey, { mode: 0o600 })
  const config = demoConfig({ ...input, tokenFile, upstreamKeyFile, jwksFile })
  const configPath = join(dir, 'skillgate.yaml')
  await writeFile(configPath, `# Written by "skillgate demo"; removed when the demo stops.\n${stringify(config)}`, { mode: 0o600 })
  return { configPath, consoleToken, jwksFile }
}

function demoConfig(input: DemoConfigInput & { tokenFile: string; upstreamKeyFile: string; jwksFile: string }) {
  return {
    version: 1,
    listen: { host: '127.0.0.1', port: input.port, drainTimeout: '2s' },
    upstream: { url: input.upstreamUrl, apiKey: { fromFile: input.upstreamKeyFile } },
    storage: { url: `sqlite:${join(input.dir, 'skillgate.db')}` },
    gatewayTokens: { signingKey: { fromFile: join(input.dir, 'gateway-signing-key.json') } },
    issuers: [
      { id: 'dev', issuer: DEMO_ISSUER, jwks: { file: input.jwksFile }, audience: DEMO_AUDIENCE, algorithms: ['ES256'], maxLifetime: '1h', direct: true },
    ],
    skills: { [DEMO_SKILL.alias]: { type: DEMO_SKILL.type, id: DEMO_SKILL.id, versions: ['latest'] } },
    rules: [
      {
        id: DEMO_RULE,
        issuer: 'dev',
        match: { subject: 'repo:acme/app:*', claims: { workflow: 'release' } },
        principal: 'ci:{repository}',
        allow: {
          endpoints: ['messages', 'count_tokens', 'models'],
          skills: [DEMO_SKILL.alias],
          requireSkill: true,
          models: ['claude-sonnet-*', 'claude-haiku-*'],
          tools: ['code_execution_*'],
          maxTokens: 4096,
        },
        // One use per approval, so every run of the job asks again and the tour shows it each time.
        approval: { required: true, hold: DEMO_HOLD, grantTtl: '15m', uses: 1 },
        masking: ['default', 'tickets'],
      },
    ],
    masking: {
      profiles: {
        default: { detectors: ['email', 'phone', 'credit-card', 'iban', 'aws-access-key', 'github-token', 'anthropic-key', 'jwt', 'private-key', 'ipv4'] },
        tickets: { patterns: [{ name: 'ticket', regex: '\\b(OPS|SEC|INC)-[0-9]{1,7}\\b', maxLength: 16 }] },
      },
      requests: { block: ['aws-access-key', 'private-key', 'anthropic-key'] },
    },
    audit: { content: 'masked', durability: 'strict' },
    admin: { tokens: [{ secret: { fromFile: input.tokenFile }, roles: ['admin', 'approver'] }] },
  }
}
