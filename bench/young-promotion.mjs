/**
 * Two V8 quirks behind the gateway's young-generation promotion (not part of `npm run bench`):
 *   node --trace-gc-nvp bench/young-promotion.mjs MODE | grep 'gc=s'    # promoted=… per scavenge
 * Builds 16 short-lived rows at a time, ten times, then awaits 1 ms; for 4 s. Nothing outlives its
 * turn, so a young-generation collection should promote next to nothing. On Node 20 (V8 11.3):
 * - `spread`: rows built as `{ ...fields, x }` (a spread copy grown by a key its source lacks):
 *   ~2 MB promoted per scavenge. `written` (field by field), `assign` (`Object.assign({}, f, {x})`)
 *   and `spread-last` (`{ x, ...fields }`): next to nothing. The audit path now avoids the first.
 * - `generator` / `async-generator`: the same rows walked through a (sync / async) generator
 *   instead of a plain loop (`loop`): ~2 MB promoted per scavenge. The SQL step layer
 *   (storage/sql/step.ts) and the response stages (async generators over SSE groups) are built on
 *   generators; see docs/benchmarks.md, "Sixth session".
 */
const mode = process.argv[2] ?? 'spread'
const build = {
  spread: (fields, i) => ({ ...fields, x: i }),
  written: (fields, i) => ({ id: fields.id, a: fields.a, b: fields.b, c: fields.c, x: i }),
  assign: (fields, i) => Object.assign({}, fields, { x: i }),
  'spread-last': (fields, i) => ({ x: i, ...fields }),
}
const walk = {
  loop: (rows) => { let k = 0; for (const r of rows) k += r.a.length; return k },
  generator: (rows) => { let k = 0; for (const r of (function* () { yield* rows })()) k += r.a.length; return k },
}
if (!(mode in build) && !(mode in walk) && mode !== 'async-generator') throw new Error('mode: spread | written | assign | spread-last | loop | generator | async-generator')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const end = Date.now() + 4000
let n = 0
while (Date.now() < end) {
  for (let k = 0; k < 10; k++) {
    const rows = Array.from({ length: 16 }, (_, i) => ({ id: `id${n++}`, a: 'p'.repeat(40) + i, b: `r${i}`, c: [i] }))
    if (mode in build) rows.map((o, i) => build[mode]({ id: o.id, a: o.a, b: o.b, c: o.c }, i))
    else if (mode in walk) walk[mode](rows)
    else for await (const r of (async function* () { yield* rows })()) n += r.c.length - 1
  }
  await sleep(1)
}
