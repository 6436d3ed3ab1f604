/**
 * The request side of the `full` variant, in-process against dist/ (not part of `npm run bench`):
 * what each request pays before forwarding for its body (parse, facts), policy (CEL condition and
 * grants), the `masking.requests.block` guard and the audit's masked copy of the request. CPU µs per
 * call, best batch of interleaved rounds (a burst of load elsewhere hits every row alike).
 *
 *   npm run build && node bench/request-side.mjs [--quick] [--dist DIR]
 */
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { gatewayConfig, mintToken, requestJson } from './lib/workload.mjs'

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname } } })
const dist = (path) => import(pathToFileURL(join(resolve(values.dist), path)).href)
const [{ loadConfigText, formatProblems }, { compileRules }, { createTokenVerifier }, { toIssuerSpec }, { evaluatePolicy }, { extractRequestFacts }, { parseJsonBody }, { auditRequest, namedFacts }] = await Promise.all([
  dist('config/load.js'), dist('wiring/policy-and-masking.js'), dist('identity/index.js'), dist('wiring/identity.js'),
  dist('policy/evaluate.js'), dist('policy/request-facts.js'), dist('request/json-body.js'), dist('stages/audit-facts.js'),
])

const timing = values.quick ? { batches: 5, batchMs: 40, rounds: 2 } : { batches: 7, batchMs: 80, rounds: 3 }
const { jwk, token } = await mintToken()
const loaded = loadConfigText(JSON.stringify(gatewayConfig('full', { mockUrl: 'http://127.0.0.1:9', jwk, dir: join(tmpdir(), 'skillgate-bench-not-created') })), 'bench-full.json', {})
if (!loaded.ok) throw new Error(formatProblems(loaded.problems))
const config = loaded.config
const { policy, masking } = compileRules(config)
const verifier = createTokenVerifier(config.issuers.map(toIssuerSpec))
await verifier.warmUp()
const { claims } = await verifier.verify(token)
verifier.close()

const bytes = Buffer.from(JSON.stringify(requestJson('realistic')))
const json = parseJsonBody(bytes)
const facts = extractRequestFacts('messages', json)
const input = { issuerId: 'ci', claims, endpoint: 'messages', facts }
const decision = evaluatePolicy(policy, input)
if (decision.effect !== 'allow') throw new Error(`the full policy denies its own request: ${JSON.stringify(decision.reasons)}`)
const requests = masking.requests
const ctx = { json, facts, decision, endpoint: { name: 'messages', inspectBody: true }, headers: {} }
if (requests.masker.scanRequest(json, requests.block).findings.length > 0) throw new Error('the guard blocks the realistic body')

const rows = {
  'parseJsonBody (864 B)': () => parseJsonBody(bytes),
  'extractRequestFacts': () => extractRequestFacts('messages', json),
  'evaluatePolicy, full rule': () => evaluatePolicy(policy, input),
  'guard: scanRequest, 4 block detectors': () => requests.masker.scanRequest(json, requests.block),
  'audit copy: auditRequest (all detectors + ticket)': () => auditRequest(ctx, masking),
  'namedFacts': () => namedFacts(facts),
}
rows['request side in all (the rows above, once each)'] = () => {
  const parsed = parseJsonBody(bytes)
  const f = extractRequestFacts('messages', parsed)
  evaluatePolicy(policy, { ...input, facts: f })
  requests.masker.scanRequest(parsed, requests.block)
  auditRequest({ ...ctx, json: parsed, facts: f }, masking)
}

const best = Object.fromEntries(Object.keys(rows).map((k) => [k, Infinity]))
for (let round = 0; round < timing.rounds; round++) for (const [k, fn] of Object.entries(rows)) best[k] = Math.min(best[k], perCallCpu(fn, timing))
console.log(`request side of the full variant, CPU µs per call (best of ${timing.rounds} × ${timing.batches} batches), dist: ${values.dist}`)
for (const [k, us] of Object.entries(best)) console.log(`  ${k.padEnd(52)} ${us.toFixed(2).padStart(8)}`)

function perCallCpu(fn, { batches, batchMs }) {
  const run = (n) => {
    const start = process.cpuUsage()
    for (let i = 0; i < n; i++) fn()
    const used = process.cpuUsage(start)
    return (used.user + used.system) / 1000
  }
  let n = 1
  while (run(n) < batchMs / 4) n *= 2
  let bestMs = Infinity
  for (let b = 0; b < batches; b++) bestMs = Math.min(bestMs, run(n))
  return (bestMs * 1000) / n
}
