/**
 * CPU per audit record in the store, in process (not part of `npm run bench`; uses dist/):
 *   node bench/audit-store.mjs [--records 4000] [--batches 1,8,32] [--rounds 3] [--limits] [--shm] [--events 13] [--url sqlite:/tmp/x.db]
 * Opens a store through the gateway's own factory, then begins and completes realistic records
 * (a 13-event SSE completion of ~3 KB; `--events 59` for the realistic reply's length) in batches the size the group committer makes: a batch of
 * openings is one commit, its completions the next. `--limits` adds what `full` rides on the same
 * commits: a counter increment and a stream slot taken and released per request.
 * Prints CPU µs (process.cpuUsage, includes the fsync thread pool) and wall µs per record pair,
 * the median of `--rounds` rounds per batch size.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { openStorage } from '../dist/storage/index.js'
import { newRequestId } from '../dist/observability/request-id.js'
import { completionOf, opening } from './lib/records.mjs'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '4000' }, batches: { type: 'string', default: '1,8,32' }, rounds: { type: 'string', default: '3' },
    limits: { type: 'boolean', default: false }, shm: { type: 'boolean', default: false }, url: { type: 'string' }, warmup: { type: 'string', default: '500' },
    events: { type: 'string', default: '13' },
  },
})
const records = Number(values.records)
const batches = values.batches.split(',').map(Number)
const rounds = Number(values.rounds)
const completion = completionOf(Number(values.events))

async function measure(n, batch) {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await pairs(n, batch)
  const t1 = performance.now()
  const cpu = process.cpuUsage(cpu0)
  return { cpu: (cpu.user + cpu.system) / n, wall: ((t1 - t0) * 1000) / n }
}

/** `n` record pairs, `batch` requests at a time: their openings commit together, then their completions. */
async function pairs(n, batch) {
  for (let done = 0; done < n; done += batch) {
    const size = Math.min(batch, n - done)
    const ids = []
    const slots = []
    const openings = []
    for (let i = 0; i < size; i++) {
      const id = newRequestId()
      ids.push(id)
      openings.push(storage.audit.begin(opening(id, done + i)))
      if (values.limits) {
        slots.push(storage.counters.acquire(`p:bench-${(done + i) % 4}:streams`, 1000, 60_000))
        void storage.counters.increment(`p:bench-${(done + i) % 4}:requests`, 'minute', 1)
      }
    }
    await Promise.all(openings)
    const leases = await Promise.all(slots)
    const closes = ids.map((id) => storage.audit.complete(id, completion()))
    if (values.limits) {
      for (const lease of leases) if (lease) closes.push(storage.counters.release(lease))
      for (let i = 0; i < size; i++) void storage.counters.increment(`p:bench-${i % 4}:tokens`, 'day', 143)
    }
    await Promise.all(closes)
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

// --shm: the file on tmpfs, where fdatasync costs nothing: the store's own CPU without the disk's.
const dir = mkdtempSync(join(values.shm ? '/dev/shm' : tmpdir(), 'skillgate-audit-bench-'))
const url = values.url ?? `sqlite:${join(dir, 'audit.db')}`
const storage = await openStorage(url, { cwd: dir, onError: (op, error) => console.error(op, error) })
try {
  await storage.migrate()
  await pairs(Number(values.warmup), 8)
  const rows = []
  for (const batch of batches) {
    const samples = []
    for (let r = 0; r < rounds; r++) samples.push(await measure(records, batch))
    rows.push({ batch, cpu: median(samples.map((s) => s.cpu)), wall: median(samples.map((s) => s.wall)) })
  }
  console.log(`${storage.kind}${values.shm ? ' (tmpfs)' : ''}${values.limits ? ' +limits' : ''}, ${records} record pairs per round, median of ${rounds}`)
  for (const row of rows) console.log(`batch ${String(row.batch).padStart(3)}: cpu ${row.cpu.toFixed(1).padStart(7)} µs/pair, wall ${row.wall.toFixed(1).padStart(7)} µs/pair`)
} finally {
  await storage.close()
  rmSync(dir, { recursive: true, force: true })
}
