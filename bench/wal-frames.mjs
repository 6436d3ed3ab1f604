/**
 * Which tables and indexes an audit commit dirties (not part of `npm run bench`; uses dist/):
 *   node bench/wal-frames.mjs [--batch 8] [--commits 20] [--events 13] [--principals 1] [--warmup 3000]
 * Opens a SQLite store through the gateway's own factory, writes `--warmup` record pairs so the
 * B-trees have depth, then for each of `--commits` rounds empties the WAL, commits `--batch`
 * openings, then their completions, and reads the page number of every WAL frame each commit
 * wrote. Prints the mean frames per commit by B-tree (SQLite's `dbstat`). Every frame is two
 * write(2) calls and a checksum over the page, and a later checkpoint copies it again.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { openStorage } from '../dist/storage/index.js'
import { newRequestId } from '../dist/observability/request-id.js'
import { completionOf, opening } from './lib/records.mjs'

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '8' }, commits: { type: 'string', default: '20' }, events: { type: 'string', default: '13' },
    principals: { type: 'string', default: '1' }, warmup: { type: 'string', default: '3000' },
  },
})
const batch = Number(values.batch)
const commits = Number(values.commits)
const principals = Number(values.principals)
const completion = completionOf(Number(values.events))
// opening(id, i) cycles over four principals; i is chosen so only `principals` of them occur.
const openingOf = (id, i) => opening(id, i % principals)

const dir = mkdtempSync(join(tmpdir(), 'skillgate-wal-frames-'))
const path = join(dir, 'audit.db')
const storage = await openStorage(`sqlite:${path}`, { cwd: dir, onError: (op, error) => console.error(op, error) })
const probe = new Database(path)
try {
  await storage.migrate()
  for (let done = 0; done < Number(values.warmup); done += batch) await pairs(done)
  const total = { open: new Map(), close: new Map() }
  for (let c = 0; c < commits; c++) {
    probe.pragma('wal_checkpoint(TRUNCATE)')
    const ids = await Promise.all(Array.from({ length: batch }, async (_, i) => {
      const id = newRequestId()
      await storage.audit.begin(openingOf(id, i))
      return id
    }))
    const afterOpen = framePages()
    await Promise.all(ids.map((id) => storage.audit.complete(id, completion())))
    const afterClose = framePages().slice(afterOpen.length)
    const names = new Map(probe.prepare('SELECT pageno, name FROM dbstat').all().map((r) => [r.pageno, r.name]))
    for (const [kind, pages] of [['open', afterOpen], ['close', afterClose]]) {
      for (const page of pages) {
        const name = names.get(page) ?? `page ${page}`
        total[kind].set(name, (total[kind].get(name) ?? 0) + 1 / commits)
      }
    }
  }
  console.log(`WAL frames per commit of ${batch} halves (mean of ${commits}; ${principals} principal(s), ${values.events}-event completions):`)
  for (const kind of ['open', 'close']) {
    const rows = [...total[kind]].sort((a, b) => b[1] - a[1])
    const sum = rows.reduce((s, [, n]) => s + n, 0)
    console.log(`  ${kind.padEnd(5)} ${sum.toFixed(1).padStart(5)}  ${rows.map(([name, n]) => `${name} ${n.toFixed(1)}`).join(', ')}`)
  }
} finally {
  probe.close()
  await storage.close()
  rmSync(dir, { recursive: true, force: true })
}

async function pairs(from) {
  const ids = Array.from({ length: batch }, () => newRequestId())
  await Promise.all(ids.map((id, i) => storage.audit.begin(openingOf(id, from + i))))
  await Promise.all(ids.map((id) => storage.audit.complete(id, completion())))
}

/** The page number of each frame in the WAL (32-byte file header, then 24-byte frame headers + pages). */
function framePages() {
  const wal = readFileSync(`${path}-wal`)
  const pageSize = wal.readUInt32BE(8)
  const pages = []
  for (let at = 32; at + 24 <= wal.length; at += 24 + pageSize) pages.push(wal.readUInt32BE(at))
  return pages
}
