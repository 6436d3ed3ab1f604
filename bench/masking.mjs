/**
 * Masking throughput: maskText, maskMessageJson and the stream masker against a no-op, plus the
 * regex-engine candidates of src/masking/README.md (JS RegExp, re2-wasm, the linear engine) on the
 * same text. Numbers are MB/s of input (UTF-16 code units / 1e6 per second), best of N runs.
 *
 *   npm run build && node bench/masking.mjs [--quick]
 */
import { createRequire } from 'node:module'
import { compileMasker, detectors } from '../dist/masking/index.js'

const quick = process.argv.includes('--quick')
const RUNS = quick ? 3 : 7
const SIZE = quick ? 256 * 1024 : 1024 * 1024

const TICKET = { name: 'ticket', regex: '\\b(OPS|SEC|INC)-[0-9]{1,7}\\b', maxLength: 16 }
const masker = compileMasker([{ detectors: Object.keys(detectors) }, { patterns: [TICKET] }], { thinking: 'keep' })

const WORDS = 'the release notes for version 1.2.3 are ready and the gateway passed all 42 checks on main today'.split(' ')
function prose(size, secretEvery = 0) {
  const parts = []
  let length = 0
  for (let i = 0; length < size; i++) {
    const word = secretEvery && i % secretEvery === 0 ? 'mail bob.smith@example.com about OPS-1234 from 10.0.0.1' : WORDS[(i * 7919) % WORDS.length]
    parts.push(word)
    length += word.length + 1
  }
  return parts.join(' ').slice(0, size)
}
const base64 = Buffer.from(Array.from({ length: (SIZE * 3) / 4 }, (_, i) => (i * 2654435761) >>> 24)).toString('base64')
const inputs = { 'prose, clean': prose(SIZE), 'prose, 1 secret line / 200 words': prose(SIZE, 200), 'base64 blob': base64 }

function best(fn) {
  let ms = Infinity
  for (let r = 0; r < RUNS; r++) {
    const start = performance.now()
    fn()
    ms = Math.min(ms, performance.now() - start)
  }
  return ms
}
const mbps = (chars, ms) => (chars / 1e6 / (ms / 1000)).toFixed(1)

const rows = []
for (const [name, text] of Object.entries(inputs)) {
  rows.push(['maskText', name, mbps(text.length, best(() => masker.maskText(text)))])
}

// maskMessageJson: a message of text blocks (unchanged → same Buffer; with secrets → re-serialised)
for (const [name, text] of [['clean', inputs['prose, clean']], ['with secrets', inputs['prose, 1 secret line / 200 words']]]) {
  const blocks = []
  for (let i = 0; i < text.length; i += 4096) blocks.push({ type: 'text', text: text.slice(i, i + 4096) })
  const body = Buffer.from(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', content: blocks, usage: { output_tokens: 1 } }))
  const noop = best(() => JSON.parse(body.toString('utf8')))
  rows.push(['maskMessageJson', `${name} (JSON.parse alone: ${mbps(body.length, noop)})`, mbps(body.length, best(() => masker.maskMessageJson(body)))])
}

// Stream: 20-character text deltas, as parsed SSE events; the no-op only iterates the same events.
for (const [name, text] of [['clean', inputs['prose, clean']], ['with secrets', inputs['prose, 1 secret line / 200 words']]]) {
  const events = [{ event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } }]
  for (let i = 0; i < text.length; i += 20) {
    events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text.slice(i, i + 20) } } })
  }
  events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } })
  const noop = best(() => {
    const out = []
    for (const ev of events) out.push(ev)
  })
  const masked = best(() => {
    const stream = masker.createStreamMasker()
    for (const ev of events) stream.push(ev)
    stream.end()
  })
  rows.push(['stream (20-char deltas)', `${name} (no-op: ${mbps(text.length, noop)})`, mbps(text.length, masked)])
}

// Engine candidates on the same patterns (the detector sources are valid JS RegExp syntax).
const specs = [...Object.values(detectors), TICKET]
const jsRegexes = specs.map((d) => [new RegExp(d.regex, 'g'), d])
function jsMask(text) {
  let out = text
  for (const [re, d] of jsRegexes) out = out.replace(re, (m) => (d.validate && !d.validate(m) ? m : `[REDACTED:${d.name}]`))
  return out
}
const sample = inputs['prose, 1 secret line / 200 words']
rows.push(['JS RegExp, one pass per pattern', 'prose, 1 secret line / 200 words', mbps(sample.length, best(() => jsMask(sample)))])
try {
  const { RE2 } = createRequire(import.meta.url)('re2-wasm')
  const re2 = specs.map((d) => [new RE2(d.regex, 'gu'), d])
  const small = sample.slice(0, 20_000)
  const ms = best(() => {
    let out = small
    for (const [re, d] of re2) out = out.replace(re, (m) => (d.validate && !d.validate(m) ? m : `[REDACTED:${d.name}]`))
  })
  rows.push(['re2-wasm, one pass per pattern', 'first 20 000 chars only (quadratic)', mbps(small.length, ms)])
} catch (err) {
  rows.push(['re2-wasm', `unavailable: ${err.message.split('\n')[0]}`, '-'])
}

const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length), ['what', 'input', 'MB/s'][c].length))
const line = (r) => r.map((cell, c) => (c === 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ')
console.log(`masking throughput, best of ${RUNS}, ${(SIZE / 1024).toFixed(0)} KiB inputs, Node ${process.version}`)
console.log(line(['what', 'input', 'MB/s']))
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
for (const r of rows) console.log(line(r))
