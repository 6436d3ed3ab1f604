/**
 * One variant, one phase, for profiling a single path (not part of `npm run bench`):
 *   node bench/focus.mjs --variant audit-strict --stream [--concurrency 32] [--seconds 6] [--cpu-prof DIR] [--node-flags=--max-semi-space-size=32]
 * Prints requests/s, the gateway's and mock's CPU µs per request over the measured window and the
 * gateway's peak RSS.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { parseArgs } from 'node:util'
import { DEFAULT_MOCK_API_KEY } from '../dist/mock-upstream/index.js'
import { startChild, stopChildren } from './lib/children.mjs'
import { createClient, runRound } from './lib/load.mjs'
import { UPSTREAM_POOL, VARIANTS, gatewayConfig, mintToken, requestBody } from './lib/workload.mjs'

const { values } = parseArgs({
  options: {
    variant: { type: 'string', default: 'audit-strict' }, stream: { type: 'boolean', default: false },
    concurrency: { type: 'string' }, seconds: { type: 'string', default: '6' }, 'cpu-prof': { type: 'string' }, passthrough: { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
  },
})
const variant = values.variant
const stream = values.stream
const concurrency = Number(values.concurrency ?? (stream ? 32 : 128))
const dir = join(tmpdir(), `skillgate-focus-${process.pid}`)
mkdirSync(dir, { recursive: true })
const flags = values['node-flags'].split(' ').filter(Boolean)
const prof = [...flags, ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`, `--cpu-prof-name=focus-${variant}${stream ? '-sse' : ''}.cpuprofile`] : [])]
try {
  const { jwk, token } = await mintToken()
  const mock = await startChild('mock', new URL('./servers/mock.mjs', import.meta.url))
  const server = values.passthrough
    ? await startChild('pass-through', new URL('./servers/passthrough.mjs', import.meta.url), { BENCH_UPSTREAM: JSON.stringify({ url: mock.url, apiKey: DEFAULT_MOCK_API_KEY, ...UPSTREAM_POOL }) }, prof)
    : await startChild('gateway', new URL('./servers/gateway.mjs', import.meta.url), {
        BENCH_VARIANT: variant, BENCH_GATEWAY_CONFIG: JSON.stringify(gatewayConfig(variant, { mockUrl: mock.url, jwk, dir })), BENCH_GATEWAY_LOG: join(dir, 'gateway.log'),
      }, prof)
  const client = createClient(server.url, concurrency)
  const args = { concurrency, body: requestBody(VARIANTS[variant].body, stream), stream, headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', authorization: `Bearer ${token}` } }
  await runRound(client, { ...args, durationMs: 1500 })
  const before = await Promise.all([server.stats(), mock.stats()])
  const round = await runRound(client, { ...args, durationMs: Number(values.seconds) * 1000 })
  const after = await Promise.all([server.stats(), mock.stats()])
  const n = round.completed
  console.log(`${values.passthrough ? 'pass-through' : variant} ${stream ? 'sse' : 'json'} c=${concurrency}: ${n} ok, ${round.failures.count} failed ${round.failures.samples.join('; ')}; ${(n / round.elapsedMs * 1000).toFixed(0)}/s; gateway ${((after[0].cpuUs - before[0].cpuUs) / n).toFixed(0)} µs/req, mock ${((after[1].cpuUs - before[1].cpuUs) / n).toFixed(0)} µs/req; gateway peak RSS ${(after[0].maxRssKb / 1024).toFixed(0)} MB`)
  await client.close()
} finally {
  await stopChildren()
  if (!process.env.FOCUS_KEEP) rmSync(dir, { recursive: true, force: true }); else console.log(dir)
}
