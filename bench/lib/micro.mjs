/**
 * Micro-costs per request, measured in-process against dist/ (no HTTP, no other process involved):
 * policy evaluation, token verification with and without the verified-token cache, and masking.
 * Each number is the best of several batches (the least the code costs; interference from other
 * processes only ever adds time). docs/benchmarks.md explains every row.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfigText, formatProblems } from '../../dist/config/load.js'
import { toIssuerSpec } from '../../dist/wiring/identity.js'
import { createTokenVerifier } from '../../dist/identity/index.js'
import { cacheVerifications } from '../../dist/identity/verified-cache.js'
import { DEFAULT_MOCK_API_KEY, startMockUpstream } from '../../dist/mock-upstream/index.js'
import { compilePolicy } from '../../dist/policy/compile.js'
import { evaluatePolicy } from '../../dist/policy/evaluate.js'
import { extractRequestFacts } from '../../dist/policy/request-facts.js'
import { namedFacts } from '../../dist/stages/audit-facts.js'
import { ObservedFrame } from '../../dist/response/observed-frame.js'
import { eventMayNameObject } from '../../dist/stages/own-responses.js'
import { reportedUsage } from '../../dist/stages/observe-response.js'
import { StreamRecorder } from '../../dist/audit/stream-log.js'
import { measureHeadCosts } from './heads.mjs'
import { createMasker, measureMasking } from './masking.mjs'
import { gatewayConfig, mintToken, requestJson } from './workload.mjs'

/** `quick`: shorter batches and smaller masking inputs (a few seconds in all). */
export async function measureMicroCosts({ quick = false } = {}) {
  const started = performance.now()
  const timing = quick ? { batches: 5, batchMs: 40 } : { batches: 9, batchMs: 80 }
  const { jwk, token } = await mintToken()
  // Only loaded and compiled, never started: nothing is written to this directory.
  const dir = join(tmpdir(), 'skillgate-bench-micro-not-created')
  const load = (variant) => {
    const loaded = loadConfigText(JSON.stringify(gatewayConfig(variant, { mockUrl: 'http://127.0.0.1:9', jwk, dir })), `bench-${variant}.json`, {})
    if (!loaded.ok) throw new Error(`bench ${variant} config invalid:\n${formatProblems(loaded.problems)}`)
    return loaded.config
  }
  const full = load('full')
  const auth = load('auth')

  // Token verification: the strict verifier alone (what a first request, or every request without
  // the cache, pays) and through the gateway's verified-token cache (every later request).
  const verifier = createTokenVerifier(full.issuers.map(toIssuerSpec))
  await verifier.warmUp()
  const cached = cacheVerifications(verifier)
  const { claims } = await cached.verify(token)
  const verify = {
    coldUs: await perCallAsync(() => verifier.verify(token), timing),
    warmUs: await perCallAsync(() => cached.verify(token), timing),
  }
  verifier.close()

  // Policy: request facts from the parsed body, then the rule selection and every grant check.
  const input = (body) => ({ issuerId: 'ci', claims, endpoint: 'messages', facts: extractRequestFacts('messages', requestJson(body)) })
  const fullPolicy = compilePolicy(full.rules, full.skills)
  const authPolicy = compilePolicy(auth.rules, auth.skills)
  const fullInput = input('realistic')
  const authInput = input('simple')
  for (const [policy, given, name] of [[fullPolicy, fullInput, 'full'], [authPolicy, authInput, 'auth']]) {
    const decision = evaluatePolicy(policy, given)
    if (decision.effect !== 'allow') throw new Error(`bench: the ${name} policy denies its own request: ${JSON.stringify(decision.reasons)}`)
  }
  const realisticJson = requestJson('realistic')
  const policy = {
    factsUs: perCall(() => extractRequestFacts('messages', realisticJson), timing),
    // What a request pays for its facts now that they are derived once (read-body) and only named
    // for the approver and the audit record (namedFacts); the goal is at most 10 µs.
    factsOnceUs: perCall(() => namedFacts(extractRequestFacts('messages', realisticJson)), timing),
    fullUs: perCall(() => evaluatePolicy(fullPolicy, fullInput), timing),
    authUs: perCall(() => evaluatePolicy(authPolicy, authInput), timing),
  }

  // Masking throughput first, on the same inputs as bench/masking.mjs (so the numbers compare),
  // then per response: the mock's actual `full` reply (code execution + a text full of secrets).
  const throughput = measureMasking(quick ? { size: 256 * 1024, runs: 3 } : { size: 1024 * 1024, runs: 7 })
  const reply = await mockReplies()
  const masker = createMasker()
  if (!masker.maskMessageJson(reply.json).body.toString().includes('[REDACTED')) throw new Error('bench: the masker left the mock reply unmasked')
  const perResponse = {
    jsonBytes: reply.json.length,
    sseBytes: reply.sse.reduce((n, frame) => n + frame.length, 0),
    sseEvents: reply.sse.length,
    jsonUs: perCall(() => masker.maskMessageJson(reply.json), timing),
    sseUs: perCall(() => maskFrames(masker, reply.sse), timing),
    // The same loop with a stream masker that returns every event unchanged: what parsing and
    // JSON.parse cost on their own, so sseUs minus this is what the masker adds.
    sseUnmaskedUs: perCall(() => maskFrames(PASS_THROUGH_MASKER, reply.sse), timing),
    // Every stage's work on the stream, as the pipeline runs it now (one observer: each event parsed
    // once, shared) and as it ran before issue #15 (each stage parsing the events it reads again).
    ...(await measureResponsePath(masker, reply.sse, timing)),
  }
  const masking = { ...throughput, perResponse }
  const heads = await measureHeadCosts({ quick })
  return { verify, policy, masking, heads, batches: timing.batches, elapsedMs: Math.round(performance.now() - started) }
}

/** A masker whose streams change nothing (the baseline of the SSE row). */
const PASS_THROUGH_MASKER = { createStreamMasker: () => ({ push: (ev) => [ev], end: () => [] }) }

/**
 * The SSE response path per stream, now and before the observer (µs of this process's CPU, best
 * batch: on a shared machine wall time would count other processes' time too). Also run alone by
 * bench/sse-path.mjs.
 */
export async function measureResponsePath(masker, frames, timing) {
  const variants = {
    responsePathUs: () => responsePath(masker, frames),
    responsePathUnmaskedUs: () => responsePath(undefined, frames),
    responsePathBeforeUs: () => responsePathBefore(masker, frames),
  }
  // Interleaved rounds, best of each: a burst of load elsewhere then hits every variant alike.
  const best = Object.fromEntries(Object.keys(variants).map((k) => [k, Infinity]))
  for (let round = 0; round < 3; round++) {
    for (const [k, fn] of Object.entries(variants)) best[k] = Math.min(best[k], perCallCpu(fn, timing))
  }
  return best
}

/** Like `perCall`, in CPU time of this process (user + system). */
export function perCallCpu(fn, { batches, batchMs }) {
  const run = (n) => {
    const start = process.cpuUsage()
    for (let i = 0; i < n; i++) fn()
    const used = process.cpuUsage(start)
    return (used.user + used.system) / 1000
  }
  const n = calibrate(run, batchMs)
  let bestMs = Infinity
  for (let b = 0; b < batches; b++) bestMs = Math.min(bestMs, run(n))
  return (bestMs * 1000) / n
}

/** What the mask-response stage does per event: the observed frame's JSON (parsed once), push, re-frame what changed. */
function maskFrames(masker, frames) {
  const stream = masker.createStreamMasker()
  const out = []
  for (const raw of frames) {
    const frame = ObservedFrame.fromRaw(raw)
    const input = { event: frame.event, data: frame.json }
    for (const ev of stream.push(input)) out.push(ev === input ? frame.raw : ObservedFrame.fromEvent(ev.event, ev.data).raw)
  }
  for (const ev of stream.end()) out.push(ObservedFrame.fromEvent(ev.event, ev.data).raw)
  return out
}

const USAGE = Buffer.from('"usage"')
const CONTAINER = Buffer.from('"container"')
const FILE_ID = Buffer.from('"file_id"')

/**
 * The response stages' per-event work on an SSE reply, in pipeline order: observer (usage),
 * own-responses (events naming a container or file), mask-response (when `masker`), audit-close
 * (event log + assembled message). No I/O: the store and audit writes are left out.
 */
function responsePath(masker, frames) {
  const stream = masker?.createStreamMasker()
  const recorder = new StreamRecorder(0)
  let usage
  const out = []
  const audit = (frame) => {
    recorder.add(frame.event, frame.data, 1, frame.json)
    out.push(frame.raw)
  }
  for (const raw of frames) {
    const frame = ObservedFrame.fromRaw(raw)
    usage = reportedUsage(frame) ?? usage
    if (eventMayNameObject(frame)) void frame.json
    if (!stream) {
      audit(frame)
      continue
    }
    const input = { event: frame.event, data: frame.json }
    for (const ev of stream.push(input)) audit(ev === input ? frame : ObservedFrame.fromEvent(ev.event, ev.data))
  }
  for (const ev of stream?.end() ?? []) audit(ObservedFrame.fromEvent(ev.event, ev.data))
  return [out, usage]
}

/** The same work as the stages did it before the observer: each parsing the frames it reads itself. */
function responsePathBefore(masker, frames) {
  const stream = masker.createStreamMasker()
  const recorder = new StreamRecorder(0)
  let usage
  const out = []
  for (const raw of frames) {
    if (raw.includes(CONTAINER) || raw.includes(FILE_ID)) JSON.parse(legacyParse(raw).data)
    const { event, data } = legacyParse(raw)
    const input = { event, data: JSON.parse(data) }
    for (const ev of stream.push(input)) {
      const bytes = ev === input ? raw : legacySerialize(ev.event, JSON.stringify(ev.data))
      if (bytes.includes(USAGE)) usage = JSON.parse(legacyParse(bytes).data)
      const seen = legacyParse(bytes)
      recorder.add(seen.event, seen.data, 1)
      out.push(bytes)
    }
  }
  return [out, usage]
}

/** parse-event.ts before issue #15 (regex split per frame), kept here to measure the change. */
function legacyParse(raw) {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
  let event = 'message'
  const data = []
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
  }
  return { event, data: data.join('\n') }
}

function legacySerialize(event, data) {
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`)
  return Buffer.from(`event: ${event}\n${lines.join('')}\n`)
}

/** The `realistic` reply of the mock upstream, as JSON bytes and as SSE frames. */
export async function mockReplies() {
  const mock = await startMockUpstream({ host: '127.0.0.1', port: 0, maxRecordedRequests: 10 })
  try {
    const post = async (stream) => {
      const res = await fetch(`${mock.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': DEFAULT_MOCK_API_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify(requestJson('realistic', stream)),
      })
      if (res.status !== 200) throw new Error(`bench: mock upstream answered ${res.status}`)
      return Buffer.from(await res.arrayBuffer())
    }
    const json = await post(false)
    const sse = (await post(true)).toString('utf8').split('\n\n').filter((f) => f.trim() !== '').map((f) => Buffer.from(`${f}\n\n`))
    return { json, sse }
  } finally {
    await mock.close()
  }
}

/** Calls per batch so one batch lasts about `batchMs`. */
function calibrate(timeOne, batchMs) {
  let n = 1
  for (;;) {
    const ms = timeOne(n)
    if (ms >= batchMs / 4 || n >= 1 << 24) return Math.max(1, Math.ceil((n * batchMs) / Math.max(ms, 0.001)))
    n *= 4
  }
}

/** µs per call of a synchronous `fn`: best batch of `batches`. */
export function perCall(fn, { batches, batchMs }) {
  const run = (n) => {
    const start = performance.now()
    for (let i = 0; i < n; i++) fn()
    return performance.now() - start
  }
  const n = calibrate(run, batchMs)
  let bestMs = Infinity
  for (let b = 0; b < batches; b++) bestMs = Math.min(bestMs, run(n))
  return (bestMs * 1000) / n
}

/** µs per call of an async `fn`, awaited one after the other: best batch of `batches`. */
export async function perCallAsync(fn, { batches, batchMs }) {
  const run = async (n) => {
    const start = performance.now()
    for (let i = 0; i < n; i++) await fn()
    return performance.now() - start
  }
  // Calibrate on a short probe, then time whole batches.
  let n = 1
  let ms = await run(n)
  while (ms < batchMs / 4 && n < 1 << 22) {
    n *= 4
    ms = await run(n)
  }
  n = Math.max(1, Math.ceil((n * batchMs) / Math.max(ms, 0.001)))
  let bestMs = Infinity
  for (let b = 0; b < batches; b++) bestMs = Math.min(bestMs, await run(n))
  return (bestMs * 1000) / n
}
