import { userInfo } from 'node:os'
import { chooseConfigPath, formatProblems, loadConfigFile } from '../../config/load.js'
import { ownedKinds, type OwnedKind } from '../../ownership/kinds.js'
import { openStorage } from '../../storage/open-storage.js'
import { parseCommandArgs } from '../args.js'
import { AdminClientError, adminClientFromEnv, type OwnerAssignment } from '../remote.js'
import { UsageError } from '../usage-error.js'

const help = `Usage:
  skillgate owners assign KIND ID PRINCIPAL [--rule RULE] [--reason TEXT] [--json]

Names the principal that owns an upstream object created before the gateway kept owners (or one
whose owner could not be recorded); until then it is refused to every caller (404). Replaces any
earlier owner. KIND is one of: ${ownedKinds.join(', ')} (a skill_version ID is SKILL_ID/VERSION).
--url URL (or $SKILLGATE_URL, admin token in $SKILLGATE_ADMIN_TOKEN) goes through the running
gateway's admin API (audited); otherwise --store URL (else storage.url of --config) writes the store
directly. Every gateway on the store applies it on the next request.
`

export async function runOwnersCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { rule: { type: 'string' }, reason: { type: 'string' }, store: { type: 'string' }, url: { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
    true,
  )
  if (values.help || positionals.length === 0) {
    process.stdout.write(help)
    return values.help ? 0 : 2
  }
  const [action, kind, id, principal, ...extra] = positionals
  if (action !== 'assign' || kind === undefined || id === undefined || principal === undefined || extra.length > 0) {
    throw new UsageError(`unknown owners command "${positionals.join(' ')}"; expected: owners assign KIND ID PRINCIPAL`)
  }
  if (!isKind(kind)) throw new UsageError(`unknown kind "${kind}"; one of ${ownedKinds.join(', ')}`)
  const input = { kind, id, principal, ...(values.rule ? { rule: values.rule } : {}), ...(values.reason ? { reason: values.reason } : {}) }
  const api = values.store ? undefined : adminClientFromEnv(values.url)
  let result: OwnerAssignment
  if (api) {
    try {
      result = await api.assignOwner(input)
    } catch (error) {
      if (!(error instanceof AdminClientError)) throw error
      process.stderr.write(`skillgate: ${error.message}\n`)
      return 1
    }
  } else {
    result = await assignInStore(storeUrl(values.store, values.config), input)
  }
  const previous = result.previous === null ? '' : ` (was ${result.previous})`
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `✔ ${kind} ${id} now belongs to ${principal}${previous}\n`)
  return 0
}

async function assignInStore(url: string, input: { kind: OwnedKind; id: string; principal: string; rule?: string }): Promise<OwnerAssignment> {
  const storage = await openStorage(url)
  try {
    await storage.migrate()
    const previous = await storage.owners.assign({ kind: input.kind, id: input.id }, { principal: input.principal, rule: input.rule ?? null }, `cli:${safeUser()}`)
    return { kind: input.kind, id: input.id, principal: input.principal, rule: input.rule ?? null, previous: previous?.principal ?? null }
  } finally {
    await storage.close()
  }
}

const isKind = (value: string): value is OwnedKind => (ownedKinds as readonly string[]).includes(value)

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
