/**
 * The SSE response path alone (issue #15): every response stage's per-event work on the mock's
 * realistic 59-event reply (observer, usage, owners, masking, the audit's event log and assembled
 * message), as the pipeline runs it now and as it ran before the observer, in µs of CPU per
 * stream and per event. No I/O. The same rows appear in `npm run bench`'s micro-costs.
 *
 *   npm run build && node bench/sse-path.mjs [--quick]
 */
import { measureResponsePath, mockReplies } from './lib/micro.mjs'
import { createMasker } from './lib/masking.mjs'

const quick = process.argv.includes('--quick')
const timing = quick ? { batches: 5, batchMs: 40 } : { batches: 9, batchMs: 80 }
const reply = await mockReplies()
const r = await measureResponsePath(createMasker(), reply.sse, timing)
const events = reply.sse.length
const row = (what, us) => `  ${what.padEnd(64)} ${us.toFixed(1).padStart(8)} µs/stream ${(us / events).toFixed(2).padStart(6)} µs/event`
process.stdout.write([
  `SSE response path, ${events} events (${reply.sse.reduce((n, f) => n + f.length, 0)} B), CPU time, best of ${timing.batches} batches:`,
  row('now: one observer, masking on', r.responsePathUs),
  row('now: one observer, no masking', r.responsePathUnmaskedUs),
  row('before the observer: each stage parsing again, masking on', r.responsePathBeforeUs),
  `  masking adds ${((r.responsePathUs - r.responsePathUnmaskedUs) / events).toFixed(2)} µs/event; the observer saves ${((r.responsePathBeforeUs - r.responsePathUs) / events).toFixed(2)} µs/event`,
  '',
].join('\n'))
