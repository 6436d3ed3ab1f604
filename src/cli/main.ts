#!/usr/bin/env node
import { UsageError } from './usage-error.js'

const help = `skillgate — an identity-aware gateway for CI jobs and agents in front of the Claude API

Usage: skillgate <command> [options]

Commands:
  serve [--config F]              run the gateway (config from --config, $SKILLGATE_CONFIG,
                                  ./skillgate.yaml, else the bundled example)
  demo [--auto-approve] [--exit]  all-local tour: mock Claude API, local issuer, gateway and console,
                                  and a sample CI job (denial, approval, masked stream, audit trail)
  config validate [--offline]     report every configuration problem at once, with lines (exit 1 on any)
  config schema [--markdown]      print the JSON Schema (or the Markdown reference) of the config
  token mint --issuer dev --sub S mint a test workload token from a local development issuer
  policy explain --claims F [--request F]   the decision for claims + a request, with every reason
  policy test [DIR]               run YAML policy test cases (like opa test)
  audit list|show|replay|export|verify   query, replay and verify the hash-chained audit
  revoke principal P | jti ISS JTI | issuer ID   revoke (applies within a second everywhere)
  owners assign KIND ID PRINCIPAL  give an object created before the upgrade to its owner
  reviews list|show|approve|deny  the approval queue (through the admin API: --url, SKILLGATE_URL)
  grants list|revoke              just-in-time grants (through the admin API)
  migrate                         create or upgrade the store schema
  keys rotate --now [--revoke-previous]   new gateway signing key at once (revoke: every live
                                  gateway token refused within a second); keys list

Run "skillgate <command> --help" for a command's options.
Exit codes: 0 ok, 1 a failed check or a failure, 2 a usage error.
`

type Command = (args: string[]) => Promise<number>

// Each command's module (and what it pulls in: the gateway, the MCP SDK, SAML, PostgreSQL…) loads
// only when that command runs, so `skillgate --help` and quick commands start at once.
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).runServe,
  demo: async () => (await import('./commands/demo.js')).runDemoCommand,
  config: async () => (await import('./commands/config.js')).runConfigCommand,
  token: async () => (await import('./commands/token.js')).runTokenCommand,
  policy: async () => (await import('./commands/policy.js')).runPolicyCommand,
  audit: async () => (await import('./commands/audit.js')).runAuditCommand,
  migrate: async () => (await import('./commands/migrate.js')).runMigrate,
  keys: async () => (await import('./commands/keys.js')).runKeysCommand,
  revoke: async () => (await import('./commands/revoke.js')).runRevokeCommand,
  owners: async () => (await import('./commands/owners.js')).runOwnersCommand,
  reviews: async () => (await import('./commands/reviews.js')).runReviewsCommand,
  grants: async () => (await import('./commands/reviews.js')).runGrantsCommand,
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help)
    return name === undefined ? 2 : 0
  }
  if (name === '--version') {
    process.stdout.write('skillgate 0.1.0\n')
    return 0
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (!load) throw new UsageError(`unknown command "${name}"`)
  return (await load())(rest)
}

// `skillgate audit replay ID | head`: the reader went away. That ends the command quietly, as
// for any Unix tool, instead of an unhandled EPIPE stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error
  process.exit(process.exitCode ?? 0)
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`skillgate: ${error.message}\nRun "skillgate --help" for usage.\n`)
      process.exitCode = 2
      return
    }
    process.stderr.write(`skillgate: ${(error as Error).message ?? String(error)}\n`)
    process.exitCode = 1
  },
)
