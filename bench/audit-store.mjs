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

function opening(id, i) {
  return {
    v: 1,
    id,
    start: new Date().toISOString(),
    principal: `spiffe://example.org/agent/bench-${i % 4}`,
    issuer: 'ci',
    sub: `repo:example/bench-${i % 4}:ref:refs/heads/main`,
    claims: { repository: `example/bench-${i % 4}`, ref: 'refs/heads/main', workflow: 'bench', run_id: 123456789 + i },
    rule: 'agents-can-use-claude',
    decision: 'allow',
    reasons: [{ code: 'rule-matched', detail: 'agents-can-use-claude' }],
    reviewId: null,
    endpoint: 'POST /v1/messages',
    model: 'claude-sonnet-4-5',
    skills: [],
    tools: ['get_weather'],
    containerId: null,
    clientSession: null,
    content: 'masked',
    request: {
      method: 'POST',
      path: '/v1/messages',
      bytes: 412,
      body: {
        model: 'claude-sonnet-4-5',
        max_tokens: 1024,
        stream: true,
        messages: [{ role: 'user', content: 'Summarise the deployment log below and list every failed step with its error message. [email]' }],
        tools: [{ name: 'get_weather', description: 'Current weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      },
    },
    requestMaskHits: { email: 1 },
  }
}

const words = ['The', ' deployment', ' failed', ' at', ' step', ' three', ':', ' the', ' migration', ' timed', ' out', ' after', ' 30 s.']
const deltaCount = Math.max(1, Number(values.events) - 4)
const deltas = Array.from({ length: deltaCount }, (_, i) => ({ t: 40 + i * 7, event: 'content_block_delta', data: JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: words[i % words.length] } }) }))
const events = [
  { t: 31, event: 'message_start', data: JSON.stringify({ type: 'message_start', message: { id: 'msg_01XFDUDYJgAACzvnptvVoYEL', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, usage: { input_tokens: 120, output_tokens: 1 } } }) },
  { t: 33, event: 'content_block_start', data: JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) },
  ...deltas,
  { t: 140, event: 'content_block_stop', data: JSON.stringify({ type: 'content_block_stop', index: 0 }) },
  { t: 141, event: 'message_delta', data: JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 23 } }) },
]
const text = deltas.map((_, i) => words[i % words.length]).join('')

function completion() {
  const now = new Date().toISOString()
  return {
    v: 1,
    firstByte: now,
    end: now,
    status: 200,
    upstreamRequestId: 'req_011CSHoEeqs5C35K2UUqR7Fy',
    containerId: null,
    usage: { inputTokens: 120, outputTokens: 23, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
    latency: { totalMs: 142, firstByteMs: 31, upstreamMs: 140 },
    response: {
      kind: 'sse',
      contentType: 'text/event-stream',
      bytes: 2214,
      message: { id: 'msg_01XFDUDYJgAACzvnptvVoYEL', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text }], stop_reason: 'end_turn', usage: { input_tokens: 120, output_tokens: 23 } },
      events,
      truncated: false,
    },
    maskHits: {},
    outcome: 'completed',
    error: null,
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
