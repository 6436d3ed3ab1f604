import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { replayRecord, replaySession, sseText } from '../../audit/replay.js'
import type { AuditDecision, AuditRecord, AuditState } from '../../audit/record.js'
import { chooseConfigPath, formatProblems, loadConfigFile } from '../../config/load.js'
import { openStorage } from '../../storage/open-storage.js'
import type { AuditListFilter, Storage } from '../../storage/ports.js'
import { parseCommandArgs } from '../args.js'
import { restoreMark, verifyAgainstHeads } from './audit-heads.js'
import { progressBar } from '../progress.js'
import { UsageError } from '../usage-error.js'
import { AdminClientError, adminClientFromEnv, type AdminClient } from '../remote.js'

const help = `Usage: skillgate audit <command> [--store URL | --config F] [options]

  list   [--principal P] [--actor A] [--rule R] [--skill S] [--client-session ID] [--endpoint E]
         [--decision allow|deny|approval_required]
         [--outcome completed|interrupted|denied|error|open] [--since ISO] [--until ISO] [--limit N] [--json]
  show ID [--json]                  one record: identity, decision and reasons, request and response
  replay ID [--speed N]             re-emit a recorded stream as SSE with its original timing
  replay --client-session ID [--principal P] [--speed N]
                                    a whole client session as one stream, each turn announced
                                    by a skillgate_turn event
  --client-session ID               records of one Claude Code session (x-claude-code-session-id);
                                    with --principal, only that caller's (clients choose the id)
  --endpoint E                      records of one endpoint: messages, mcp.tools.call (MCP tool calls), …
  export [filters] [--out FILE]     JSONL, oldest first, with a progress bar on stderr

--actor A: what A did (approvals, denials, grant and principal revocations): A is the id the
records name, token:<name>, admin.tokens[i], oidc:<issuer id>:<sub> or slack:<user id>.
  verify                            walk the hash chain; exit 1 and name every edited, deleted,
                                    inserted or reordered record
  verify --heads F --key F          also check signed chain heads kept outside the store (the body of
                                    GET /admin/api/audit/heads or a sink's JSONL) with the public key
                                    (PEM, or the JWKS of /.well-known/skillgate-audit-keys): exit 1
                                    when records a head covers were cut off either end
  verify --heads F --key F --tsa-cert F
                                    also check each head's RFC 3161 timestamp (audit.timestamping)
                                    against the TSA's CA certificate (PEM) and report the TSA time:
                                    exit 1 when one is not over its head or not from that TSA
  restore-mark --key F [--lost-to N | --heads F]
                                    after restoring a backup: sign a head declaring the lost positions
                                    (--key: the PEM private key of audit.signing.key)

With --url or $SKILLGATE_URL (admin token in $SKILLGATE_ADMIN_TOKEN) they ask the running gateway's
admin API. Otherwise they read the store directly, so they also work while the gateway is down:
--store (sqlite:PATH or postgres://…), else storage.url of the configuration.
`

export async function runAuditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(help)
    return sub === undefined ? 2 : 0
  }
  const commands: Record<string, (storage: Storage, values: Values, positionals: string[]) => Promise<number>> = {
    list,
    show,
    replay,
    export: exportJsonl,
    verify,
    'restore-mark': (storage, values) => restoreMark(storage, { key: values.key, heads: values.heads, lostTo: values['lost-to'] }),
  }
  const command = commands[sub]
  if (!command) throw new UsageError(`unknown audit command "${sub}"`)
  const { values, positionals } = parseCommandArgs(rest, options, true)
  if (values.help) return (process.stdout.write(help), 0)
  // Signed heads are checked against the store itself, never through the gateway that wrote it.
  const local = values.store !== undefined || values.heads !== undefined || sub === 'restore-mark'
  const api = local ? undefined : adminClientFromEnv(values.url)
  if (api) return runRemote(api, sub, values, positionals)
  const storage = await openStorage(storeUrl(values))
  try {
    return await command(storage, values, positionals)
  } finally {
    await storage.close()
  }
}

const options = {
  url: { type: 'string' },
  store: { type: 'string' },
  config: { type: 'string', short: 'c' },
  principal: { type: 'string' },
  actor: { type: 'string' },
  rule: { type: 'string' },
  skill: { type: 'string' },
  'client-session': { type: 'string' },
  endpoint: { type: 'string' },
  decision: { type: 'string' },
  outcome: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  speed: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  heads: { type: 'string' },
  key: { type: 'string' },
  'lost-to': { type: 'string' },
  'tsa-cert': { type: 'string' },
} as const

type Values = { [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'boolean' ? boolean : string }

function storeUrl(values: Values): string {
  if (values.store) return values.store
  const loaded = loadConfigFile(chooseConfigPath(values.config), process.env, { resolveSecrets: false })
  if (!loaded.ok) throw new Error(`configuration is invalid:\n${formatProblems(loaded.problems)}`)
  return loaded.config.storage.url
}

function filterOf(values: Values): AuditListFilter {
  const date = (text: string | undefined, flag: string) => {
    if (text === undefined) return undefined
    const value = new Date(text)
    if (Number.isNaN(value.getTime())) throw new UsageError(`--${flag} ${text} is not a date`)
    return value
  }
  return {
    principal: values.principal,
    actor: values.actor,
    rule: values.rule,
    skill: values.skill,
    clientSession: values['client-session'],
    endpoint: values.endpoint,
    decision: values.decision as AuditDecision | undefined,
    outcome: values.outcome as AuditState | undefined,
    from: date(values.since, 'since'),
    to: date(values.until, 'until'),
  }
}

async function list(storage: Storage, values: Values): Promise<number> {
  const limit = Number(values.limit ?? 50)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit takes 1 to 1000')
  const { records } = await storage.audit.list({ ...filterOf(values), limit })
  if (values.json) {
    process.stdout.write(`${JSON.stringify(records, null, 2)}\n`)
    return 0
  }
  for (const r of records) {
    process.stdout.write(`${r.id}  ${r.time.start}  ${String(r.status ?? '-').padEnd(3)} ${r.outcome.padEnd(11)} ${r.decision.padEnd(5)} ${r.principal ?? '-'}  ${r.rule ?? '-'}  ${r.endpoint}${r.model ? ` ${r.model}` : ''}\n`)
  }
  process.stdout.write(`${records.length} record(s)\n`)
  return 0
}

async function show(storage: Storage, _values: Values, positionals: string[]): Promise<number> {
  const id = positionals[0]
  if (!id) throw new UsageError('audit show needs a record id')
  const record = await storage.audit.get(id)
  if (!record) {
    process.stderr.write(`no audit record ${id}\n`)
    return 1
  }
  process.stdout.write(`${JSON.stringify(record, null, 2)}\n`)
  return 0
}

async function replay(storage: Storage, values: Values, positionals: string[]): Promise<number> {
  const id = positionals[0]
  if (values['client-session']) return replayClientSession((await storage.audit.list({ ...filterOf(values), limit: 1000 })).records, values)
  if (!id) throw new UsageError('audit replay needs a record id, or --client-session ID')
  const record = await storage.audit.get(id)
  if (!record) {
    process.stderr.write(`no audit record ${id}\n`)
    return 1
  }
  const speed = values.speed === undefined ? 1 : Number(values.speed)
  if (!(speed > 0)) throw new UsageError('--speed takes a number greater than 0')
  for await (const frame of replayRecord(record, { speed })) process.stdout.write(sseText(frame))
  return 0
}

/** Every turn of one client session as one stream (at most 1000 turns). */
async function replayClientSession(records: readonly AuditRecord[], values: Values): Promise<number> {
  if (records.length === 0) {
    process.stderr.write(`no audit records of client session ${values['client-session'] ?? ''}\n`)
    return 1
  }
  const speed = values.speed === undefined ? 1 : Number(values.speed)
  if (!(speed > 0)) throw new UsageError('--speed takes a number greater than 0')
  for await (const frame of replaySession(records, { speed })) process.stdout.write(sseText(frame))
  return 0
}

async function exportJsonl(storage: Storage, values: Values): Promise<number> {
  const filter = filterOf(values)
  // The first page tells whether the total is small enough to show as a bar; beyond it, a count.
  const firstPage = (await storage.audit.list({ ...filter, limit: 1000 })).records.length
  const bar = firstPage < 1000 ? progressBar('export', firstPage) : undefined
  const out = values.out ? createWriteStream(values.out) : process.stdout
  let done = 0
  for await (const record of storage.audit.iterate(filter)) {
    if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain')
    done += 1
    if (bar) bar.update(done)
    else if (done % 1000 === 0) process.stderr.write(`export: ${done} records\n`)
  }
  bar?.end()
  if (values.out) {
    out.end()
    await once(out, 'finish')
  }
  process.stderr.write(`exported ${done} record(s)\n`)
  return 0
}

async function verify(storage: Storage, values: Values): Promise<number> {
  if (values.heads !== undefined || values.key !== undefined || values['tsa-cert'] !== undefined) {
    return verifyAgainstHeads(storage, { heads: values.heads, key: values.key, tsaCert: values['tsa-cert'] }, values.json === true)
  }
  let bar: ReturnType<typeof progressBar> | undefined
  const report = await storage.audit.verify({
    onProgress: (checked, head) => {
      bar ??= progressBar('verify', head)
      bar.update(checked)
    },
  })
  bar?.end()
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    return report.ok ? 0 : 1
  }
  if (report.ok) {
    process.stdout.write(`✔ audit chain intact: ${report.records} record(s), ${report.links} link(s)${report.from.checkpoint ? ` from checkpoint at position ${report.from.seq}` : ''}\n`)
    return 0
  }
  process.stdout.write(`✖ audit chain broken: ${report.problemCount} problem(s)\n`)
  for (const p of report.problems) process.stdout.write(`  position ${p.seq}${p.recordId ? ` record ${p.recordId}` : ''}: ${p.kind}${p.detail ? ` (${p.detail})` : ''}\n`)
  return 1
}

/** The same commands through the admin API of a running gateway. */
async function runRemote(api: AdminClient, sub: string, values: Values, positionals: string[]): Promise<number> {
  const filter = {
    ...(values.principal ? { principal: values.principal } : {}),
    ...(values.actor ? { actor: values.actor } : {}),
    ...(values.rule ? { rule: values.rule } : {}),
    ...(values.skill ? { skill: values.skill } : {}),
    ...(values['client-session'] ? { clientSession: values['client-session'] } : {}),
    ...(values.endpoint ? { endpoint: values.endpoint } : {}),
    ...(values.decision ? { decision: values.decision as AuditDecision } : {}),
    ...(values.outcome ? { outcome: values.outcome as AuditState } : {}),
    ...(values.since ? { since: values.since } : {}),
    ...(values.until ? { until: values.until } : {}),
  }
  try {
    switch (sub) {
      case 'list': {
        const { records } = await api.auditList({ ...filter, limit: Number(values.limit ?? 50) })
        if (values.json) process.stdout.write(`${JSON.stringify(records, null, 2)}\n`)
        else for (const r of records) process.stdout.write(`${r.id}  ${r.time.start}  ${String(r.status ?? '-').padEnd(3)} ${r.outcome.padEnd(11)} ${r.decision.padEnd(5)} ${r.principal ?? '-'}  ${r.rule ?? '-'}  ${r.endpoint}${r.model ? ` ${r.model}` : ''}\n`)
        if (!values.json) process.stdout.write(`${records.length} record(s)\n`)
        return 0
      }
      case 'show':
        process.stdout.write(`${JSON.stringify(await api.auditGet(required(positionals[0], 'audit show')), null, 2)}\n`)
        return 0
      case 'replay':
        if (values['client-session']) return replayClientSession((await api.auditList({ ...filter, limit: 1000 })).records as unknown as AuditRecord[], values)
        for await (const chunk of api.auditReplay(required(positionals[0], 'audit replay'), values.speed ? { speed: Number(values.speed) } : {})) process.stdout.write(chunk)
        return 0
      case 'export': {
        const out = values.out ? createWriteStream(values.out) : process.stdout
        let done = 0
        for await (const line of api.auditExport(filter)) {
          if (!out.write(`${line}\n`)) await once(out, 'drain')
          if (++done % 1000 === 0) process.stderr.write(`export: ${done} records\n`)
        }
        if (values.out) {
          out.end()
          await once(out, 'finish')
        }
        process.stderr.write(`exported ${done} record(s)\n`)
        return 0
      }
      case 'verify': {
        const report = await api.auditVerify()
        process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : report.ok ? `✔ audit chain intact: ${report.records} record(s), ${report.links} link(s)\n` : `✖ audit chain broken: ${report.problemCount} problem(s)\n${report.problems.map((p) => `  position ${p.seq}${p.recordId ? ` record ${p.recordId}` : ''}: ${p.kind}`).join('\n')}\n`)
        return report.ok ? 0 : 1
      }
      default:
        throw new UsageError(`unknown audit command "${sub}"`)
    }
  } catch (error) {
    if (!(error instanceof AdminClientError)) throw error
    process.stderr.write(`skillgate: ${error.message}\n`)
    return 1
  }
}

function required(value: string | undefined, command: string): string {
  if (!value) throw new UsageError(`${command} needs a record id`)
  return value
}
