import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { chooseConfigPath, formatProblems, loadConfigFile, loadConfigText, type Config } from '../../config/load.js'
import { explainDecision, readExplainRequest } from '../../policy/explain.js'
import { formatPolicyTestResults, parsePolicyTestFile, runPolicyTests, type PolicyTestResult } from '../../policy/policy-tests.js'
import { parseCommandArgs } from '../args.js'
import { UsageError } from '../usage-error.js'

const help = `Usage:
  skillgate policy explain --claims F [--request F] [--issuer ID] [--rule R] [--config F] [--json]
      The decision for a token's claims (a JSON file) and a request, with the rule and every
      reason. The request file has the shape the console and test cases use:
        { "method": "POST", "path": "/v1/messages", "body": { ... }, "headers": { ... } }
      (default: an empty POST /v1/messages; a file holding only a body is still read as the body
      of POST /v1/messages, with a warning). --method and --path override the file's. The issuer
      is --issuer, else the one whose URL equals the claims' "iss". Exit 0 when allowed, 1 when denied.
  skillgate policy test [DIR|FILE...] [--config F] [--json]
      Runs policy test cases (YAML: optional config, then cases of claims + request → expected
      decision, rule, principal, reasons), like "opa test". Default DIR: ./policy-tests (the
      repository's policy-tests/ is an example that passes against the bundled configuration).
      A file without its own config uses --config. Exit 1 when any case fails.
Works offline: secrets are not read.
`

export async function runPolicyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(help)
    return sub === undefined ? 2 : 0
  }
  if (sub === 'explain') return explain(rest)
  if (sub === 'test') return test(rest)
  throw new UsageError(`unknown policy command "${sub}"`)
}

/** The example cases shipped next to the bundled configuration. */
const bundledPolicyTestsPath = resolve(dirname(fileURLToPath(import.meta.url)), '../../../policy-tests')

function loadOffline(path: string | undefined): Config {
  const result = loadConfigFile(chooseConfigPath(path), process.env, { resolveSecrets: false })
  if (!result.ok) throw new Error(`configuration ${result.source} is invalid:\n${formatProblems(result.problems)}`)
  return result.config
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${(error as Error).message}`)
  }
}

function requestFile(path: string): ReturnType<typeof readExplainRequest> {
  try {
    return readExplainRequest(readJson(path, 'request'))
  } catch (error) {
    throw error instanceof TypeError ? new UsageError(`${path}: ${error.message}`) : error
  }
}

async function explain(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    claims: { type: 'string' },
    request: { type: 'string' },
    issuer: { type: 'string' },
    method: { type: 'string' },
    path: { type: 'string' },
    rule: { type: 'string' },
    config: { type: 'string', short: 'c' },
    json: { type: 'boolean' },
  })
  if (values.help) return (process.stdout.write(help), 0)
  if (!values.claims) throw new UsageError('policy explain needs --claims FILE')
  const claims = readJson(values.claims, 'claims') as Record<string, unknown>
  const read = values.request ? requestFile(values.request) : { request: { method: 'POST', path: '/v1/messages', body: {} } }
  if (read.warning) process.stderr.write(`skillgate: ${values.request}: ${read.warning}\n`)
  const request = { ...read.request, ...(values.method ? { method: values.method } : {}), ...(values.path ? { path: values.path } : {}) }
  const config = loadOffline(values.config)
  const issuerId = values.issuer ?? config.issuers.find((i) => i.issuer === claims.iss)?.id
  if (!issuerId) throw new UsageError('no configured issuer matches the claims\' "iss"; pass --issuer ID')
  const explanation = explainDecision(config, claims, issuerId, request, values.rule ? { namedRule: values.rule } : {})
  process.stdout.write(values.json ? `${JSON.stringify(explanation, null, 2)}\n` : `${explanation.text}\n`)
  return explanation.decision.effect === 'allow' ? 0 : 1
}

async function test(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, true)
  if (values.help) return (process.stdout.write(help), 0)
  if (positionals.length === 0 && !existsSync('policy-tests')) {
    throw new UsageError(`no ./policy-tests folder here: pass a folder or files of test cases (an example that passes against the bundled configuration is ${bundledPolicyTestsPath})`)
  }
  const files = (positionals.length ? positionals : ['policy-tests']).flatMap(expandYamlFiles)
  if (files.length === 0) throw new UsageError('no YAML policy test files found')
  const results: { file: string; results: PolicyTestResult[] }[] = []
  let fallback: Config | undefined
  for (const file of files) {
    const parsed = parsePolicyTestFile(readFileSync(file, 'utf8'))
    if (!parsed.ok) throw new Error(`${file} is not a valid test file:\n${parsed.problems.map((p) => `  ${p}`).join('\n')}`)
    for (const warning of parsed.warnings) process.stderr.write(`skillgate: ${file}: ${warning}\n`)
    let config: Config
    if (parsed.config !== undefined) {
      const loaded = loadConfigText(stringify(parsed.config), file, process.env, { resolveSecrets: false })
      if (!loaded.ok) throw new Error(`${file}: its config is invalid:\n${formatProblems(loaded.problems)}`)
      config = loaded.config
    } else {
      config = fallback ??= loadOffline(values.config)
    }
    results.push({ file, results: runPolicyTests(config, parsed.cases) })
  }
  const all = results.flatMap((r) => r.results)
  const failed = all.filter((r) => !r.passed).length
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ passed: all.length - failed, failed, files: results.map((r) => ({ file: r.file, results: r.results.map(({ name, passed, failures }) => ({ name, passed, failures })) })) }, null, 2)}\n`)
  } else {
    for (const r of results) process.stdout.write(`${r.file}\n${formatPolicyTestResults(r.results)}\n`)
    process.stdout.write(`${all.length - failed} passed, ${failed} failed\n`)
  }
  return failed === 0 ? 0 : 1
}

function expandYamlFiles(path: string): string[] {
  let stat
  try {
    stat = statSync(path)
  } catch {
    throw new UsageError(`no such file or directory: ${path}`)
  }
  if (!stat.isDirectory()) return [path]
  return readdirSync(path)
    .filter((name) => ['.yaml', '.yml'].includes(extname(name)))
    .sort()
    .map((name) => join(path, name))
}
