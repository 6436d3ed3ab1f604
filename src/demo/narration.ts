import type { AdminClient } from '../cli/remote.js'
import type { DemoStack } from './demo-stack.js'

/** What the tour prints around its steps: the set-up, the audit trail, and how to go on. */

type Write = (text: string) => void

export function printIntro(stack: DemoStack, write: Write): void {
  const url = stack.gateway.url
  write(`skillgate demo: an all-local tour. No network, no API key.\n\n`)
  if (stack.portNote) write(`  (${stack.portNote})\n`)
  write(`  mock Claude API  ${stack.mock.url}\n`)
  write(`  local issuer     ${stack.issuer.issuer} (dev issuer; its key pair is in ${stack.dir})\n`)
  write(`  gateway          ${url}\n`)
  write(`  console          ${url}/ui/\n`)
  write(`  console token    ${stack.files.consoleToken}\n`)
  write(`                   (roles admin + approver; paste it into the console's sign-in)\n`)
  write(`  config           ${stack.files.configPath}\n`)
  write(`  gateway log      ${stack.logPath}\n\n`)
}

/** The newest records, oldest first, and the hash chain check. Resolves whether the chain verified. */
export async function printAuditTrail(api: AdminClient, write: Write): Promise<boolean> {
  write(`Step 4/4  The audit trail\n`)
  const { records } = await api.auditList({ limit: 10 })
  const rows = [...records].reverse().map((r) => [
    r.time.start,
    r.principal ?? '-',
    // Admin actions (the approval) are chained into the same audit; their reason names the action.
    r.endpoint === 'admin' ? `admin ${r.reasons[0]?.code ?? ''}` : `${r.endpoint} ${r.model ?? ''} ${r.skills.join(',')}`.trim(),
    r.decision,
    String(r.outcome),
    String(r.status ?? '-'),
    r.id,
  ])
  for (const line of table([['time (UTC)', 'principal', 'what', 'decision', 'outcome', 'status', 'id'], ...rows])) write(`  ${line}\n`)
  const report = await api.auditVerify()
  if (report.ok) {
    write(`  ✔ audit verify: OK, the hash chain is intact (${report.records} records, ${report.links} links, no problems)\n`)
    return true
  }
  write(`  ✗ audit verify: ${report.problemCount} problem(s): ${report.problems.map((p) => p.detail).join('; ')}\n`)
  return false
}

/** Left-aligned columns as wide as their widest cell. */
function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? []
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
}

export function printStillRunning(stack: DemoStack, write: Write): void {
  const url = stack.gateway.url
  write(`\nThe gateway and the console keep running.\n`)
  write(`  Console: ${url}/ui/  (sign in with the console token above)\n`)
  write(`  Run the job again, from another terminal:\n`)
  write(`    TOKEN=$(npx skillgate token mint --config ${stack.files.configPath} --issuer dev --sub repo:acme/app:ref:refs/heads/main --claim repository=acme/app --claim workflow=release)\n`)
  write(`    curl -N ${url}/v1/messages -H "authorization: Bearer $TOKEN" -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \\\n`)
  write(`      -d '{"model":"claude-sonnet-4-6","max_tokens":512,"stream":true,"container":{"skills":[{"type":"anthropic","skill_id":"pptx","version":"latest"}]},"tools":[{"type":"code_execution_20250825","name":"code_execution"}],"messages":[{"role":"user","content":"release deck MOCK:PII"}]}'\n`)
  write(`    (held until you approve it in the console's Reviews)\n`)
  write(`  Press Ctrl-C to stop; the temporary directory is removed.\n`)
}
