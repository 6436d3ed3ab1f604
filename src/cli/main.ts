#!/usr/bin/env node
import { runAuditCommand } from './commands/audit.js'
import { runConfigCommand } from './commands/config.js'
import { runDemoCommand } from './commands/demo.js'
import { runKeysCommand } from './commands/keys.js'
import { runMigrate } from './commands/migrate.js'
import { runPolicyCommand } from './commands/policy.js'
import { runRevokeCommand } from './commands/revoke.js'
import { runOwnersCommand } from './commands/owners.js'
import { runGrantsCommand, runReviewsCommand } from './commands/reviews.js'
import { runServe } from './commands/serve.js'
import { runTokenCommand } from './commands/token.js'
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

const commands: Record<string, Command> = {
  serve: runServe,
  demo: runDemoCommand,
  config: runConfigCommand,
  token: runTokenCommand,
  policy: runPolicyCommand,
  audit: runAuditCommand,
  migrate: runMigrate,
  keys: runKeysCommand,
  revoke: runRevokeCommand,
  owners: runOwnersCommand,
  reviews: runReviewsCommand,
  grants: runGrantsCommand,
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
  const command = commands[name]
  if (!command) throw new UsageError(`unknown command "${name}"`)
  return command(rest)
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
