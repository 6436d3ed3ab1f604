import { chooseConfigPath, formatProblems, loadConfigFile } from '../../config/load.js'
import { parseDuration } from '../../config/units.js'
import { openDevIssuer } from '../../dev-issuer/dev-issuer.js'
import { parseCommandArgs } from '../args.js'
import { UsageError } from '../usage-error.js'

const help = `Usage: skillgate token mint --issuer ID --sub SUBJECT [--claim NAME=VALUE]... [--ttl 5m] [--config F] [--json]

Mints a workload token from a local development issuer: one whose keys come from a jwks.file and
whose issuer URL is on a loopback address (the bundled example's "dev" issuer). The key pair is
created next to that file on first use. Prints the token (or {"token", "expires_at"} with --json).
Never use a dev issuer for production identities.

Example:
  export TOKEN=$(skillgate token mint --issuer dev --sub dev:me)
  curl -H "x-api-key: $TOKEN" -H "anthropic-version: 2023-06-01" http://127.0.0.1:8080/v1/models
`

export async function runTokenCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(help)
    return sub === undefined ? 2 : 0
  }
  if (sub !== 'mint') throw new UsageError(`unknown token command "${sub}"`)
  const { values } = parseCommandArgs(rest, {
    config: { type: 'string', short: 'c' },
    issuer: { type: 'string' },
    sub: { type: 'string' },
    claim: { type: 'string', multiple: true },
    ttl: { type: 'string' },
    json: { type: 'boolean' },
  })
  if (values.help) {
    process.stdout.write(help)
    return 0
  }
  if (!values.issuer || !values.sub) throw new UsageError('token mint needs --issuer and --sub')
  const loaded = loadConfigFile(chooseConfigPath(values.config), process.env, { resolveSecrets: false })
  if (!loaded.ok) {
    process.stderr.write(`${formatProblems(loaded.problems)}\n`)
    return 1
  }
  const issuer = loaded.config.issuers.find((i) => i.id === values.issuer)
  if (!issuer) throw new UsageError(`no issuer "${values.issuer}" in the configuration`)
  if (!issuer.jwks.file || !isLoopbackUrl(issuer.issuer)) {
    throw new UsageError(`issuer "${issuer.id}" is not a local development issuer (it needs jwks.file and a loopback issuer URL)`)
  }
  const ttl = parseTtl(values.ttl ?? '5m', issuer.maxLifetime)
  const dev = await openDevIssuer({ issuer: issuer.issuer, audience: issuer.audience, jwksFile: issuer.jwks.file })
  const token = await dev.mint({ ...parseClaims(values.claim ?? []), sub: values.sub }, ttl)
  const expiresAt = new Date(Date.now() + ttl * 1000).toISOString()
  process.stdout.write(values.json ? `${JSON.stringify({ token, expires_at: expiresAt })}\n` : `${token}\n`)
  return 0
}

function parseTtl(text: string, maxLifetimeMs: number): number {
  let ms: number
  try {
    ms = parseDuration(text)
  } catch {
    throw new UsageError(`--ttl ${text} is not a duration such as 5m`)
  }
  if (ms > maxLifetimeMs) throw new UsageError(`--ttl ${text} exceeds the issuer's maxLifetime; the gateway would refuse the token`)
  return Math.floor(ms / 1000)
}

function parseClaims(pairs: string[]): Record<string, string> {
  const claims: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq < 1) throw new UsageError(`--claim ${pair} is not NAME=VALUE`)
    claims[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return claims
}

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname
    return host === 'localhost' || host === '[::1]' || /^127\./.test(host)
  } catch {
    return false
  }
}
