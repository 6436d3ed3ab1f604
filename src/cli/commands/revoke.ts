import { userInfo } from 'node:os'
import { chooseConfigPath, formatProblems, loadConfigFile } from '../../config/load.js'
import { openStorage } from '../../storage/open-storage.js'
import type { RevocationStore } from '../../storage/ports.js'
import { parseCommandArgs } from '../args.js'
import { UsageError } from '../usage-error.js'
import { AdminClientError, adminClientFromEnv, type AdminClient } from '../remote.js'

const help = `Usage:
  skillgate revoke principal P [--before TIME]     refuse every token of principal P issued before
                                                   TIME (default: now), including ones not yet seen
  skillgate revoke jti ISSUER JTI [--until TIME]   refuse one token, by its issuer URL (iss) and jti,
                                                   until TIME (default: 24 h; use the token's exp)
  skillgate revoke issuer ID                       refuse every token of a configured issuer (issuers[] or samlIssuers[])
  skillgate revoke lift principal P | enable issuer ID   undo
  skillgate revoke list [--json]
Options: --reason TEXT, --json; --url URL (or $SKILLGATE_URL, admin token in $SKILLGATE_ADMIN_TOKEN)
to go through the running gateway's admin API (applies at once there, audited and notified);
otherwise --store URL (else storage.url of --config) writes the store directly.
Every running gateway on the same store applies a change within about a second.
`

export async function runRevokeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { before: { type: 'string' }, until: { type: 'string' }, reason: { type: 'string' }, store: { type: 'string' }, url: { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
    true,
  )
  if (values.help || positionals.length === 0) {
    process.stdout.write(help)
    return values.help ? 0 : 2
  }
  const api = values.store ? undefined : adminClientFromEnv(values.url)
  if (api) return runRemote(api, positionals, values)
  const action = planAction(positionals, values)
  const storage = await openStorage(storeUrl(values.store, values.config))
  try {
    await storage.migrate()
    return await action(storage.revocations, values.json === true)
  } finally {
    await storage.close()
  }
}

type Action = (store: RevocationStore, json: boolean) => Promise<number>

function planAction(args: string[], values: { before?: string | undefined; until?: string | undefined; reason?: string | undefined }): Action {
  const meta = { actor: `cli:${safeUser()}`, ...(values.reason ? { reason: values.reason } : {}) }
  const [kind, a, b] = args
  const done = (text: string) => (json: boolean) => {
    process.stdout.write(json ? `${JSON.stringify({ ok: true, done: text })}\n` : `✔ ${text}\n`)
    return 0
  }
  if (kind === 'principal' && a) {
    const before = date(values.before, 'before') ?? new Date()
    return async (store, json) => (await store.revokePrincipal(a, before, meta), done(`principal ${a} revoked for tokens issued before ${before.toISOString()}`)(json))
  }
  if (kind === 'jti' && a && b) {
    const until = date(values.until, 'until') ?? new Date(Date.now() + 86_400_000)
    return async (store, json) => (await store.revokeToken(a, b, until, meta), done(`token ${b} of ${a} revoked until ${until.toISOString()}`)(json))
  }
  if (kind === 'issuer' && a) return async (store, json) => (await store.disableIssuer(a, meta), done(`issuer ${a} disabled`)(json))
  if (kind === 'lift' && a === 'principal' && b) return async (store, json) => (await store.liftPrincipal(b), done(`principal ${b} revocation lifted`)(json))
  if (kind === 'enable' && a === 'issuer' && b) return async (store, json) => (await store.enableIssuer(b), done(`issuer ${b} enabled`)(json))
  if (kind === 'list') return list
  throw new UsageError(`unknown revoke command "${args.join(' ')}"`)
}

async function list(store: RevocationStore, json: boolean): Promise<number> {
  const entries = await store.list()
  if (json) {
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`)
    return 0
  }
  for (const r of entries) {
    const what = r.kind === 'token' ? `${r.subject} jti ${r.jti}` : r.subject
    const when = r.revokedBefore ? ` before ${r.revokedBefore.toISOString()}` : r.expiresAt ? ` until ${r.expiresAt.toISOString()}` : ''
    process.stdout.write(`${r.kind.padEnd(9)} ${what}${when}  by ${r.actor ?? '-'}${r.reason ? ` (${r.reason})` : ''}\n`)
  }
  process.stdout.write(`${entries.length} revocation(s) in force\n`)
  return 0
}

function date(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined
  const value = new Date(text)
  if (Number.isNaN(value.getTime())) throw new UsageError(`--${flag} ${text} is not a date (ISO 8601)`)
  return value
}

function storeUrl(store: string | undefined, config: string | undefined): string {
  if (store) return store
  const loaded = loadConfigFile(chooseConfigPath(config), process.env, { resolveSecrets: false })
  if (!loaded.ok) throw new Error(`configuration is invalid:\n${formatProblems(loaded.problems)}`)
  return loaded.config.storage.url
}

function safeUser(): string {
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}

async function runRemote(api: AdminClient, args: string[], values: { before?: string | undefined; until?: string | undefined; reason?: string | undefined; json?: boolean | undefined }): Promise<number> {
  const [kind, a, b] = args
  const reason = values.reason ? { reason: values.reason } : {}
  try {
    let result: unknown
    if (kind === 'principal' && a) result = await api.revoke({ kind: 'principal', principal: a, ...(values.before ? { before: values.before } : {}), ...reason })
    else if (kind === 'jti' && a && b) result = await api.revoke({ kind: 'token', iss: a, jti: b, ...(values.until ? { until: values.until } : {}), ...reason })
    else if (kind === 'issuer' && a) result = await api.revoke({ kind: 'issuer', issuer: a, ...reason })
    else if (kind === 'lift' && a === 'principal' && b) result = await api.liftPrincipal(b)
    else if (kind === 'enable' && a === 'issuer' && b) result = await api.enableIssuer(b)
    else if (kind === 'list') result = await api.revocations()
    else throw new UsageError(`unknown revoke command "${args.join(' ')}"`)
    process.stdout.write(values.json || kind === 'list' ? `${JSON.stringify(result, null, 2)}\n` : `✔ ${args.join(' ')}\n`)
    return 0
  } catch (error) {
    if (!(error instanceof AdminClientError)) throw error
    process.stderr.write(`skillgate: ${error.message}\n`)
    return 1
  }
}
