/**
 * A V8 quirk the audit path works around (not part of `npm run bench`):
 *   node --trace-gc-nvp bench/spread-promotion.mjs spread | grep 'gc=s'    # promoted=… per scavenge
 *   node --trace-gc-nvp bench/spread-promotion.mjs written | grep 'gc=s'
 * Builds rows from short-lived objects the way a batch plan does, 16 at a time with an await in
 * between, for 4 s. With `{ ...fields, x }` (a spread copy grown by a key the source lacks) each
 * young-generation collection promotes ~2 MB of rows that are already garbage; written out field by
 * field, or with `Object.assign`, or `{ x, ...fields }`, it promotes next to nothing.
 * Seen on Node 20 (V8 11.3).
 */
const mode = process.argv[2] ?? 'spread'
const build = {
  spread: (fields, i) => ({ ...fields, x: i }),
  written: (fields, i) => ({ id: fields.id, a: fields.a, b: fields.b, c: fields.c, x: i }),
  assign: (fields, i) => Object.assign({}, fields, { x: i }),
  'spread-last': (fields, i) => ({ x: i, ...fields }),
}[mode]
if (build === undefined) throw new Error('mode: spread | written | assign | spread-last')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const end = Date.now() + 4000
let n = 0
while (Date.now() < end) {
  for (let k = 0; k < 10; k++) {
    const ops = Array.from({ length: 16 }, (_, i) => ({ id: `id${n++}`, a: 'p'.repeat(40) + i, b: `r${i}`, c: [i] }))
    ops.map((o, i) => build({ id: o.id, a: o.a, b: o.b, c: o.c }, i))
  }
  await sleep(1)
}
