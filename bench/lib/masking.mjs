/**
 * Masking throughput, shared by bench/masking.mjs (the full table, with the regex-engine candidates)
 * and the micro-costs of bench/run.mjs: maskText, maskMessageJson and the stream masker against a
 * no-op on the same input. Numbers are MB/s of input (UTF-16 code units / 1e6 per second for text,
 * bytes for JSON), best of N runs.
 */
import { compileMasker, detectors } from '../../dist/masking/index.js'
import { TICKET } from './workload.mjs'

export { TICKET }

/** Every built-in detector plus one custom pattern: the `full` variant's profile. */
export const createMasker = () => compileMasker([{ detectors: Object.keys(detectors) }, { patterns: [TICKET] }], { thinking: 'keep' })

const WORDS = 'the release notes for version 1.2.3 are ready and the gateway passed all 42 checks on main today'.split(' ')
export function prose(size, secretEvery = 0) {
  const parts = []
  let length = 0
  for (let i = 0; length < size; i++) {
    const word = secretEvery && i % secretEvery === 0 ? 'mail bob.smith@example.com about OPS-1234 from 10.0.0.1' : WORDS[(i * 7919) % WORDS.length]
    parts.push(word)
    length += word.length + 1
  }
  return parts.join(' ').slice(0, size)
}

/** The inputs, `size` characters each. */
export function maskingInputs(size) {
  const base64 = Buffer.from(Array.from({ length: (size * 3) / 4 }, (_, i) => (i * 2654435761) >>> 24)).toString('base64')
  // The dense input keeps the exact runs busy almost everywhere: the engine's slow path.
  return { 'prose, clean': prose(size), 'prose, 1 secret line / 200 words': prose(size, 200), 'prose, 1 secret line / 3 words': prose(size, 3), 'base64 blob': base64 }
}

/** Fastest of `runs` runs of `fn`, in ms, after one unmeasured run (JIT, inline caches). */
export function best(fn, runs) {
  return bestTimes(fn, runs).ms
}

/**
 * Fastest wall-clock time and least CPU time (this process, user + system) of `runs` runs, in ms.
 * On a machine shared with other jobs the CPU time is the steadier of the two: waiting for a core
 * adds wall time but no CPU time.
 */
export function bestTimes(fn, runs) {
  fn()
  let ms = Infinity
  let cpuMs = Infinity
  for (let r = 0; r < runs; r++) {
    const cpu = process.cpuUsage()
    const start = performance.now()
    fn()
    ms = Math.min(ms, performance.now() - start)
    const used = process.cpuUsage(cpu)
    cpuMs = Math.min(cpuMs, (used.user + used.system) / 1000)
  }
  return { ms, cpuMs }
}

export const mbPerSecond = (units, ms) => units / 1e6 / (ms / 1000)

/** `{ name: text }` → maskText MB/s of each. */
export function measureMaskText(masker, inputs, runs) {
  return Object.entries(inputs).map(([input, text]) => {
    const { ms, cpuMs } = bestTimes(() => masker.maskText(text), runs)
    return { what: 'maskText', input, mbps: mbPerSecond(text.length, ms), cpuMbps: mbPerSecond(text.length, cpuMs) }
  })
}

/**
 * maskMessageJson on an assistant message of 4 KiB text blocks (unchanged → same Buffer; with
 * secrets → re-serialised), next to JSON.parse of the same bytes (what reading it costs at least).
 */
export function measureMessageJson(masker, texts, runs) {
  return Object.entries(texts).map(([input, text]) => {
    const blocks = []
    for (let i = 0; i < text.length; i += 4096) blocks.push({ type: 'text', text: text.slice(i, i + 4096) })
    const body = Buffer.from(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', content: blocks, usage: { output_tokens: 1 } }))
    const baseline = mbPerSecond(body.length, best(() => JSON.parse(body.toString('utf8')), runs))
    const { ms, cpuMs } = bestTimes(() => masker.maskMessageJson(body), runs)
    return { what: 'maskMessageJson', input, mbps: mbPerSecond(body.length, ms), cpuMbps: mbPerSecond(body.length, cpuMs), baseline, baselineName: 'JSON.parse alone' }
  })
}

/** The stream masker on parsed SSE events of 20-character text deltas; the no-op only iterates them. */
export function measureStream(masker, texts, runs) {
  return Object.entries(texts).map(([input, text]) => {
    const events = [{ event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } }]
    for (let i = 0; i < text.length; i += 20) {
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text.slice(i, i + 20) } } })
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } })
    const baseline = mbPerSecond(text.length, best(() => {
      const out = []
      for (const ev of events) out.push(ev)
    }, runs))
    const { ms, cpuMs } = bestTimes(() => {
      const stream = masker.createStreamMasker()
      for (const ev of events) stream.push(ev)
      stream.end()
    }, runs)
    return { what: 'stream (20-char deltas)', input, mbps: mbPerSecond(text.length, ms), cpuMbps: mbPerSecond(text.length, cpuMs), baseline, baselineName: 'no-op' }
  })
}

/** maskText, maskMessageJson and the stream masker, clean and with secrets: the micro-costs' masking rows. */
export function measureMasking({ size, runs }) {
  const masker = createMasker()
  const inputs = maskingInputs(size)
  const texts = { clean: inputs['prose, clean'], 'with secrets': inputs['prose, 1 secret line / 200 words'] }
  return {
    size,
    runs,
    rows: [
      ...measureMaskText(masker, { clean: texts.clean, 'with secrets': texts['with secrets'] }, runs),
      ...measureMessageJson(masker, texts, runs),
      ...measureStream(masker, texts, runs),
    ],
  }
}
