/**
 * Masking throughput: maskText, maskMessageJson and the stream masker against a no-op, plus the
 * regex-engine candidates of src/masking/README.md (JS RegExp, re2-wasm, the linear engine) on the
 * same text. Numbers are MB/s of input (UTF-16 code units / 1e6 per second), best of N runs after
 * one warm-up run, by wall clock and per second of CPU time. The measurements live in lib/masking.mjs, shared with the micro-costs of
 * `npm run bench`.
 *
 *   npm run build && node bench/masking.mjs [--quick]
 */
import { createRequire } from 'node:module'
import { detectors } from '../dist/masking/index.js'
import { TICKET, bestTimes, createMasker, maskingInputs, mbPerSecond, measureMaskText, measureMessageJson, measureStream } from './lib/masking.mjs'

const quick = process.argv.includes('--quick')
const RUNS = quick ? 3 : 7
const SIZE = quick ? 256 * 1024 : 1024 * 1024

const masker = createMasker()
const inputs = maskingInputs(SIZE)
const texts = { clean: inputs['prose, clean'], 'with secrets': inputs['prose, 1 secret line / 200 words'] }
const mbps = (chars, ms) => mbPerSecond(chars, ms).toFixed(1)
const withBaseline = (r) => [r.what, `${r.input} (${r.baselineName}: ${r.baseline.toFixed(1)})`, r.mbps.toFixed(1), r.cpuMbps.toFixed(1)]

const rows = [
  ...measureMaskText(masker, inputs, RUNS).map((r) => [r.what, r.input, r.mbps.toFixed(1), r.cpuMbps.toFixed(1)]),
  ...measureMessageJson(masker, texts, RUNS).map(withBaseline),
  ...measureStream(masker, texts, RUNS).map(withBaseline),
]

// Engine candidates on the same patterns (the detector sources are valid JS RegExp syntax).
const specs = [...Object.values(detectors), TICKET]
const jsRegexes = specs.map((d) => [new RegExp(d.regex, 'g'), d])
function jsMask(text) {
  let out = text
  for (const [re, d] of jsRegexes) out = out.replace(re, (m) => (d.validate && !d.validate(m) ? m : `[REDACTED:${d.name}]`))
  return out
}
const sample = inputs['prose, 1 secret line / 200 words']
const js = bestTimes(() => jsMask(sample), RUNS)
rows.push(['JS RegExp, one pass per pattern', 'prose, 1 secret line / 200 words', mbps(sample.length, js.ms), mbps(sample.length, js.cpuMs)])
try {
  const { RE2 } = createRequire(import.meta.url)('re2-wasm')
  const re2 = specs.map((d) => [new RE2(d.regex, 'gu'), d])
  const small = sample.slice(0, 20_000)
  const { ms, cpuMs } = bestTimes(() => {
    let out = small
    for (const [re, d] of re2) out = out.replace(re, (m) => (d.validate && !d.validate(m) ? m : `[REDACTED:${d.name}]`))
  }, RUNS)
  rows.push(['re2-wasm, one pass per pattern', 'first 20 000 chars only (quadratic)', mbps(small.length, ms), mbps(small.length, cpuMs)])
} catch (err) {
  rows.push(['re2-wasm', `unavailable: ${err.message.split('\n')[0]}`, '-', '-'])
}

const HEADER = ['what', 'input', 'MB/s', 'MB/CPU-s']
const widths = HEADER.map((h, c) => Math.max(...rows.map((r) => r[c].length), h.length))
const line = (r) => r.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ')
console.log(`masking throughput, best of ${RUNS} after 1 warm-up run, ${(SIZE / 1024).toFixed(0)} KiB inputs, Node ${process.version}`)
console.log('MB/s: wall clock; MB/CPU-s: per second of this process\'s CPU time (steadier when other jobs share the cores)')
console.log(line(HEADER))
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
for (const r of rows) console.log(line(r))
