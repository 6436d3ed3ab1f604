import { readFile } from 'node:fs/promises'
import { HeadSigner, markRestore, parseHeadsFile, parseTrustedKeys, signingKeyFromPem, verifyWithHeads, type HeadVerifyResult } from '../../audit/heads/index.js'
import type { VerifyReport } from '../../audit/chain-verifier.js'
import { parseTsaTrust, type TsaTrust } from '../../audit/timestamp/index.js'
import type { Storage } from '../../storage/ports.js'
import { progressBar } from '../progress.js'
import { UsageError } from '../usage-error.js'

/** `audit verify --heads F --key F` and `audit restore-mark --key F`: signed chain heads (docs/audit.md). */

export async function verifyAgainstHeads(storage: Storage, files: { heads?: string | undefined; key?: string | undefined; tsaCert?: string | undefined }, json: boolean): Promise<number> {
  const { heads: headsPath, key: keyPath, tsaCert } = files
  if (headsPath === undefined || keyPath === undefined) throw new UsageError('audit verify takes --heads and --key together (and --tsa-cert only with them)')
  const heads = parseHeadsFile(await readText(headsPath, '--heads'), headsPath)
  const keys = parseTrustedKeys(await readText(keyPath, '--key'))
  const tsaTrust = tsaCert === undefined ? undefined : trustOf(await readText(tsaCert, '--tsa-cert'), tsaCert)
  let bar: ReturnType<typeof progressBar> | undefined
  const result = await verifyWithHeads(storage.audit, heads, keys, {
    ...(tsaTrust ? { tsaTrust } : {}),
    onProgress: (checked, head) => {
      bar ??= progressBar('verify', head)
      bar.update(checked)
    },
  })
  bar?.end()
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : describeResult(result))
  return result.ok ? 0 : 1
}

function trustOf(pem: string, path: string): TsaTrust {
  try {
    return parseTsaTrust(pem, `--tsa-cert ${path}`)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/** The human report: the chain first, then the heads, failures first and named. */
export function describeResult({ chain, heads, timestamps }: HeadVerifyResult): string {
  const lines = [chainLine(chain)]
  for (const p of chain.problems) lines.push(`  position ${p.seq}${p.recordId ? ` record ${p.recordId}` : ''}: ${p.kind}${p.detail ? ` (${p.detail})` : ''}`)
  if (heads.ok) {
    const latest = heads.latest
    lines.push(
      latest
        ? `✔ signed heads: ${heads.heads} head(s) verify; last signed head at position ${latest.position} (${latest.time}, ${latest.writer})${heads.uncovered > 0 ? `; ${heads.uncovered} newer link(s) not covered by a head yet` : ''}`
        : '! no signed head covers this store: the chain could have been cut at either end',
    )
  } else {
    lines.push(`✖ signed heads: ${heads.problems.length} problem(s); first: ${heads.problems[0]?.detail ?? ''}`)
    for (const p of heads.problems) lines.push(`  ${p.kind}: ${p.detail}`)
  }
  const newest = timestamps[timestamps.length - 1]
  if (newest) lines.push(`✔ trusted time: ${timestamps.length} head timestamp(s) verify; newest: position ${newest.position ?? '?'} existed by ${newest.time} (TSA ${newest.tsa})`)
  for (const gap of heads.gaps) lines.push(`  declared gap: positions ${gap.from}..${gap.to ?? 'end'} lost in a restore (marked ${gap.time}, ${gap.source})`)
  for (const warning of heads.warnings) lines.push(`  warning: ${warning}`)
  return `${lines.join('\n')}\n`
}

function chainLine(report: VerifyReport): string {
  if (!report.ok) return `✖ audit chain broken: ${report.problemCount} problem(s)`
  return `✔ audit chain intact: ${report.records} record(s), ${report.links} link(s)${report.from.checkpoint ? ` from checkpoint at position ${report.from.seq}` : ''}`
}

/**
 * After restoring the store from a backup: signs and stores a head at the restored end declaring
 * the lost positions (up to --lost-to, or the newest head in --heads; else all signed before now).
 */
export async function restoreMark(storage: Storage, options: { key?: string | undefined; heads?: string | undefined; lostTo?: string | undefined }): Promise<number> {
  if (options.key === undefined) throw new UsageError('audit restore-mark needs --key F (the PEM private key of audit.signing.key)')
  const key = signingKeyFromPem(await readText(options.key, '--key'))
  // Only the payloads: the signatures are checked by verify, which sees the mark next to them.
  const fileHeads = options.heads === undefined ? undefined : await headsOf(options.heads)
  const lostTo = lostToOf(options.lostTo, fileHeads)
  // A mark declares records lost; it must never be the way a broken chain gets past verify.
  const chain = await storage.audit.verify()
  if (!chain.ok) {
    process.stderr.write(`${chainLine(chain)}: no restore mark signed. Run skillgate audit verify and deal with that first; a restore mark only declares the newest records lost.\n`)
    return 1
  }
  const end = await storage.audit.chainHead()
  const excused = (fileHeads ?? []).filter((h) => h.position > end.seq)
  const signer = new HeadSigner({ key, store: storage.audit, everyRecords: 1, everyMs: 1, now: () => new Date(), publish: () => undefined, onError: () => undefined })
  const head = await markRestore(storage.audit, signer, lostTo)
  if (excused.length > 0) {
    const times = excused.map((h) => h.time).sort()
    process.stderr.write(
      `this excuses ${excused.length} signed head(s) beyond the restored end, signed ${times[0]} to ${times.at(-1)}: ` +
        `if any was signed after your backup was taken, the records it covers were not lost in this restore; then do not publish this mark.\n`,
    )
  }
  process.stderr.write(`restore marked at position ${head.position}: positions ${head.position + 1}..${lostTo ?? 'end'} declared lost. Append this line to your outside copy of the heads:\n`)
  process.stdout.write(`${JSON.stringify({ type: 'audit_head', jws: head.jws })}\n`)
  return 0
}

type HeadPosition = { position: number; time: string }

/** The heads in the file as their payloads say. */
async function headsOf(path: string): Promise<HeadPosition[]> {
  return parseHeadsFile(await readText(path, '--heads'), path)
    .map((h) => payloadOf(h.jws))
    .filter((p): p is HeadPosition => p !== undefined)
}

/** --lost-to, else the newest position in the heads file, else every position (null). */
function lostToOf(lostTo: string | undefined, fileHeads: readonly HeadPosition[] | undefined): number | null {
  if (lostTo !== undefined) {
    const n = Number(lostTo)
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError('--lost-to takes a chain position')
    return n
  }
  const newest = Math.max(...(fileHeads ?? []).map((h) => h.position))
  return Number.isFinite(newest) ? newest : null
}

function payloadOf(jws: string): HeadPosition | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { position?: unknown; time?: unknown }
    return typeof payload.position === 'number' ? { position: payload.position, time: typeof payload.time === 'string' ? payload.time : '?' } : undefined
  } catch {
    return undefined
  }
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new UsageError(`${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`)
  }
}
