/**
 * Same-run A/B of two builds (not part of `npm run bench`): one mock, this tree's gateway ("new") and
 * another tree's ("base", e.g. a detached worktree of the old commit with its own `dist/`), plus the
 * pass-through with --pt, in alternating rounds; prints each target's median CPU µs per request
 * (JSON, c=128) and per stream (SSE, c=32) with every round's figure, then each one's peak RSS. CPU
 * is read inside each process, so the medians compare builds far better than req/s on a shared
 * machine.
 *   git worktree add --detach /tmp/base <commit> && (cd /tmp/base && ln -s "$PWD/node_modules" . && npx tsc -p tsconfig.build.json)
 *   node bench/ab.mjs --base /tmp/base [--variant auth] [--rounds 8] [--ms 1200] [--pt] [--new-node-flags=--max-semi-space-size=32]
 * (`--base .` with node flags compares one build under two V8 settings.)
 */
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { DEFAULT_MOCK_API_KEY } from '../dist/mock-upstream/index.js'
import { startChild, stopChildren } from './lib/children.mjs'
import { createClient, runRound } from './lib/load.mjs'
import { UPSTREAM_POOL, VARIANTS, gatewayConfig, mintToken, requestBody } from './lib/workload.mjs'

const { values } = parseArgs({
  options: {
    base: { type: 'string' }, variant: { type: 'string', default: 'auth' }, rounds: { type: 'string', default: '8' },
    ms: { type: 'string', default: '1200' }, warmup: { type: 'string', default: '2500' }, pt: { type: 'boolean', default: false },
    'new-node-flags': { type: 'string', default: '' },
  },
})
if (!values.base) {
  process.stderr.write('usage: node bench/ab.mjs --base DIR [--variant auth] [--rounds 8] [--ms 1200] [--pt]\n')
  process.exit(2)
}
const variant = values.variant
const dir = join(tmpdir(), `skillgate-ab-${process.pid}`)
mkdirSync(dir, { recursive: true })
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

try {
  const { jwk, token } = await mintToken()
  const mock = await startChild('mock', new URL('./servers/mock.mjs', import.meta.url))
  const targets = {}
  for (const [name, script] of [['base', pathToFileURL(join(values.base, 'bench/servers/gateway.mjs'))], ['new', new URL('./servers/gateway.mjs', import.meta.url)]]) {
    const own = join(dir, name)
    mkdirSync(own)
    const flags = name === 'new' ? values['new-node-flags'].split(' ').filter(Boolean) : []
    targets[name] = await startChild(name, script, {
      BENCH_VARIANT: variant, BENCH_GATEWAY_CONFIG: JSON.stringify(gatewayConfig(variant, { mockUrl: mock.url, jwk, dir: own })), BENCH_GATEWAY_LOG: join(own, 'gateway.log'),
    }, flags)
  }
  if (values.pt) targets.pt = await startChild('pass-through', new URL('./servers/passthrough.mjs', import.meta.url), { BENCH_UPSTREAM: JSON.stringify({ url: mock.url, apiKey: DEFAULT_MOCK_API_KEY, ...UPSTREAM_POOL }) })
  const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', authorization: `Bearer ${token}` }
  for (const stream of [true, false]) {
    const concurrency = stream ? 32 : 128
    const args = { concurrency, body: requestBody(VARIANTS[variant].body, stream), stream, headers }
    const names = Object.keys(targets)
    const clients = Object.fromEntries(names.map((k) => [k, createClient(targets[k].url, concurrency)]))
    const perRequest = Object.fromEntries(names.map((k) => [k, []]))
    for (const k of names) await runRound(clients[k], { ...args, durationMs: Number(values.warmup) })
    for (let r = 0; r < Number(values.rounds); r++) {
      // Alternating order: no target always runs right after the same neighbour.
      for (const k of r % 2 ? [...names].reverse() : names) {
        const before = await targets[k].stats()
        const round = await runRound(clients[k], { ...args, durationMs: Number(values.ms) })
        const after = await targets[k].stats()
        if (round.failures.count > 0) throw new Error(`${k}: ${round.failures.count} failed: ${round.failures.samples.join('; ')}`)
        perRequest[k].push((after.cpuUs - before.cpuUs) / round.completed)
      }
    }
    for (const k of names) {
      console.log(`${variant} ${stream ? 'sse ' : 'json'} ${k.padEnd(4)} median ${median(perRequest[k]).toFixed(0)} µs CPU/${stream ? 'stream' : 'request'}  [${perRequest[k].map((x) => x.toFixed(0)).join(' ')}]`)
      await clients[k].close()
    }
  }
  // Each target is one process for the whole run: its peak RSS covers both phases.
  for (const k of Object.keys(targets)) console.log(`peak RSS ${k.padEnd(4)} ${((await targets[k].stats()).maxRssKb / 1024).toFixed(0)} MB`)
} finally {
  await stopChildren()
  rmSync(dir, { recursive: true, force: true })
}
