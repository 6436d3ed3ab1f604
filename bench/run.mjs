/**
 * `npm run bench`: the gateway (auth on) against a plain node:http + undici pass-through proxy, both
 * in front of the same mock upstream, measured in the same run with rounds interleaved (gateway,
 * pass-through, gateway, …) so drift on a shared machine hits both alike. docs/benchmarks.md explains
 * every number. Exit code 1 only on errors (non-2xx, broken stream, crash), never for performance.
 *
 *   node bench/run.mjs [--quick] [--duration 2s] [--rounds 5] [--json] [--audit] [--cpu-prof DIR]
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { randomUUID } from 'node:crypto'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { DEFAULT_MOCK_API_KEY } from '../dist/mock-upstream/index.js'
import { startChild, stopChildren } from './lib/children.mjs'
import { createClient, percentiles, runRound } from './lib/load.mjs'
import { renderTable } from './lib/report.mjs'

const USAGE = `usage: node bench/run.mjs [--quick] [--duration D] [--rounds N] [--json] [--audit] [--cpu-prof D]
  --quick       smoke run (~20 s): 2 rounds of 1 s per target per phase
  --duration D  length of one measured round, e.g. 3s or 1500ms (default 2s, quick 1s)
  --rounds N    measured rounds per target per phase (default 5, quick 2)
  --json        print the results as JSON on stdout (progress stays on stderr)
  --audit       keep the gateway's audit on (strict durability, SQLite); default: audit.insecureDisabled
  --cpu-prof D  write V8 CPU profiles of the gateway and the pass-through into directory D
`
const GOAL = 0.8 // gateway saturation req/s ≥ 0.8 × pass-through, auth on
const PHASES = [
  { name: 'latency', title: 'non-streaming, moderate fixed concurrency', concurrency: 8, stream: false },
  { name: 'saturation', title: 'non-streaming, high concurrency', concurrency: 128, stream: false },
  { name: 'sse', title: 'stream: true, whole stream read', concurrency: 32, stream: true },
]
// Both proxies get these upstream pool settings (the gateway through its config).
const UPSTREAM_POOL = { connections: 256, connectTimeoutMs: 10_000, firstByteTimeoutMs: 600_000, idleTimeoutMs: 300_000 }
const ISSUER = 'https://token.actions.githubusercontent.com/bench'
const AUDIENCE = 'skillgate-bench'
// The gateway's log file and its SQLite store live here; removed after a clean run, kept after a failure.
const WORK_DIR = join(tmpdir(), `skillgate-bench-${process.pid}`)
const GATEWAY_LOG = join(WORK_DIR, 'gateway.log')

const log = (line) => process.stderr.write(`${line}\n`)

/** A bad command line prints the usage and exits 2 (1 is kept for errors while measuring). */
function parseOptions() {
  try {
    return readOptions()
  } catch (error) {
    process.stderr.write(`bench: ${error.message}\n${USAGE}`)
    process.exit(2)
  }
}

function readOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      json: { type: 'boolean' },
      'cpu-prof': { type: 'string' },
      audit: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  const quick = values.quick === true
  const roundMs = values.duration === undefined ? (quick ? 1_000 : 2_000) : parseDuration(values.duration)
  const rounds = values.rounds === undefined ? (quick ? 2 : 5) : Number(values.rounds)
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer')
  const cpuProf = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']]
  return { quick, roundMs, rounds, warmupMs: quick ? 300 : 1_000, json: values.json === true, cpuProf, audit: values.audit === true }
}

function parseDuration(text) {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text)
  if (!match) throw new Error(`--duration: expected e.g. 3s or 1500ms, got ${text}`)
  return Math.round(Number(match[1]) * (match[2] === 'ms' ? 1 : 1_000))
}

/** An ES256 key pair and one token shaped like a GitHub Actions OIDC token, reused by every request. */
async function mintToken() {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-key-1', alg: 'ES256', use: 'sig' }
  const now = Math.floor(Date.now() / 1000)
  const token = await new SignJWT({
    repository: 'acme/app', repository_id: '42', repository_owner: 'acme', repository_owner_id: '1234567',
    ref: 'refs/heads/main', sha: 'd6cd1e2bd19e03a81132a23b2025920577f84e37', workflow: 'ci', event_name: 'push',
    run_id: '9876543210', run_attempt: '1', actor: 'octocat', job_workflow_ref: 'acme/app/.github/workflows/ci.yml@refs/heads/main',
  })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('repo:acme/app:ref:refs/heads/main')
    .setIssuedAt(now)
    .setNotBefore(now - 5)
    .setExpirationTime(now + 600) // outlives the run, within the issuer's default maxLifetime (15 min)
    .setJti(randomUUID())
    .sign(privateKey)
  return { jwk, token }
}

function gatewayConfig(mockUrl, jwk, audit) {
  return {
    listen: { host: '127.0.0.1', port: 0, drainTimeout: '2s' },
    storage: { url: `sqlite:${join(WORK_DIR, 'skillgate.db')}` },
    // The goal is about auth; the audit's cost is measured separately with --audit.
    ...(audit ? {} : { audit: { insecureDisabled: true } }),
    upstream: {
      url: mockUrl,
      apiKey: { value: DEFAULT_MOCK_API_KEY },
      connections: UPSTREAM_POOL.connections,
      timeouts: { connect: '10s', firstByte: '10m', idle: '5m' },
    },
    issuers: [{ id: 'ci', issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: { keys: [jwk] }, direct: true }],
    rules: [{ id: 'bench', issuer: 'ci', match: { subject: 'repo:acme/app:*' }, allow: { endpoints: ['messages'], models: ['claude-*'] } }],
  }
}

const requestBody = (stream) =>
  Buffer.from(
    JSON.stringify({
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      ...(stream ? { stream: true } : {}),
      messages: [{ role: 'user', content: 'Summarise the failing test output of this CI job in one sentence.' }],
    }),
  )

/** One measured (or warm-up) round against one target, with the CPU each process spent during it. */
async function measure(target, mock, phase, durationMs, token) {
  const before = await Promise.all([target.server.stats(), mock.stats()])
  const ownBefore = process.cpuUsage()
  const busyBefore = machineBusyMs()
  const round = await runRound(target.client, {
    concurrency: phase.concurrency,
    durationMs,
    body: requestBody(phase.stream),
    stream: phase.stream,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
  })
  const busyMs = machineBusyMs() - busyBefore
  const own = process.cpuUsage(ownBefore)
  const after = await Promise.all([target.server.stats(), mock.stats()])
  const cpuUs = { proxy: after[0].cpuUs - before[0].cpuUs, mock: after[1].cpuUs - before[1].cpuUs, loadGenerator: own.user + own.system }
  // Whatever the machine did besides our three processes: other work competing for the same cores.
  const otherMs = Math.max(0, busyMs - (cpuUs.proxy + cpuUs.mock + cpuUs.loadGenerator) / 1000)
  return { ...round, cpuUs, otherCores: otherMs / round.elapsedMs }
}

/** CPU time (ms) all cores spent busy since boot (/proc/stat on Linux, 10 ms ticks). */
function machineBusyMs() {
  return cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0)
}

function latencySummary(samples) {
  const { p50, p90, p99, p100 } = percentiles(samples, [50, 90, 99, 100])
  return { p50, p90, p99, max: p100 }
}

function summarise(rounds) {
  const completed = rounds.reduce((n, r) => n + r.completed, 0)
  const elapsedMs = rounds.reduce((n, r) => n + r.elapsedMs, 0)
  const cpu = (key) => Math.round(rounds.reduce((n, r) => n + r.cpuUs[key], 0) / Math.max(1, completed))
  return {
    requests: completed,
    perSecond: (completed / elapsedMs) * 1000,
    perSecondRounds: rounds.map((r) => Math.round((r.completed / r.elapsedMs) * 1000)),
    latencyMs: latencySummary(rounds.flatMap((r) => r.latencies)),
    cpuUsPerRequest: { proxy: cpu('proxy'), mock: cpu('mock'), loadGenerator: cpu('loadGenerator') },
    otherCores: rounds.reduce((n, r) => n + r.otherCores, 0) / rounds.length,
  }
}

async function main() {
  const options = parseOptions()
  const expectedMs = PHASES.length * 2 * (options.rounds * options.roundMs + options.warmupMs)
  // The bench always stops by itself: a hang turns into an error well after the expected end.
  const watchdog = setTimeout(() => {
    log(`bench: error: still running after ${Math.round((expectedMs * 2 + 30_000) / 1000)} s, giving up`)
    process.exit(1)
  }, expectedMs * 2 + 30_000)
  watchdog.unref()

  log(`bench: ${cpus().length} CPUs, node ${process.version}; ${options.rounds} round(s) × ${options.roundMs} ms per target per phase, ~${Math.round(expectedMs / 1000)} s`)
  const { jwk, token } = await mintToken()
  mkdirSync(WORK_DIR, { recursive: true })
  const mock = await startChild('mock upstream', new URL('./servers/mock.mjs', import.meta.url))
  const [gateway, passthrough] = await Promise.all([
    startChild('gateway', new URL('./servers/gateway.mjs', import.meta.url), {
      BENCH_GATEWAY_CONFIG: JSON.stringify(gatewayConfig(mock.url, jwk, options.audit)),
      BENCH_GATEWAY_LOG: GATEWAY_LOG,
    }, options.cpuProf),
    startChild('pass-through', new URL('./servers/passthrough.mjs', import.meta.url), {
      BENCH_UPSTREAM: JSON.stringify({ url: mock.url, apiKey: DEFAULT_MOCK_API_KEY, ...UPSTREAM_POOL }),
    }, options.cpuProf),
  ])
  log(`bench: mock ${mock.url} (pid ${mock.pid}), gateway ${gateway.url} (pid ${gateway.pid}), pass-through ${passthrough.url} (pid ${passthrough.pid})`)
  log(`bench: gateway logs at level warn → ${GATEWAY_LOG}; audit ${options.audit ? 'on (strict, SQLite)' : 'off (audit.insecureDisabled)'}`)

  const maxConcurrency = Math.max(...PHASES.map((p) => p.concurrency))
  const targets = [
    { key: 'gateway', label: 'gateway', server: gateway, client: createClient(gateway.url, maxConcurrency) },
    { key: 'passthrough', label: 'pass-through', server: passthrough, client: createClient(passthrough.url, maxConcurrency) },
  ]
  const errors = { count: 0, samples: [] }
  const phases = {}
  for (const phase of PHASES) {
    // Warm-up per target: JIT, connections at this concurrency. Not measured, but still checked.
    for (const target of targets) collect(errors, target, await measure(target, mock, phase, options.warmupMs, token))
    failFast(errors)
    const rounds = { gateway: [], passthrough: [] }
    for (let i = 1; i <= options.rounds; i++) {
      for (const target of targets) {
        const round = await measure(target, mock, phase, options.roundMs, token)
        collect(errors, target, round)
        failFast(errors)
        rounds[target.key].push(round)
        const { p50, p99 } = percentiles(round.latencies, [50, 99])
        log(
          `${phase.name.padEnd(10)} round ${i}/${options.rounds} ${target.label.padEnd(12)} ${fmtInt((round.completed / round.elapsedMs) * 1000).padStart(7)}/s` +
            `  p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  other load ${round.otherCores.toFixed(2)} cores`,
        )
      }
    }
    phases[phase.name] = { concurrency: phase.concurrency, stream: phase.stream, gateway: summarise(rounds.gateway), passthrough: summarise(rounds.passthrough) }
  }

  const [gw, pt, mk] = await Promise.all([gateway.stats(), passthrough.stats(), mock.stats()])
  for (const target of targets) await target.client.destroy()
  await stopChildren()
  clearTimeout(watchdog)
  const gatewayLog = readGatewayLog()
  rmSync(WORK_DIR, { recursive: true, force: true })

  const mb = (kb) => Math.round((kb / 1024) * 10) / 10
  const saturationRatio = phases.saturation.gateway.perSecond / phases.saturation.passthrough.perSecond
  const results = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, os: `${process.platform} ${release()}` },
    settings: {
      roundMs: options.roundMs, rounds: options.rounds, warmupMs: options.warmupMs, order: 'interleaved: gateway, pass-through, gateway, …',
      phases: PHASES, upstreamPool: UPSTREAM_POOL, gatewayLog: { level: 'warn', destination: GATEWAY_LOG, ...gatewayLog },
      audit: options.audit ? 'on (strict durability, SQLite)' : 'off (audit.insecureDisabled)',
    },
    phases,
    summary: {
      addedLatencyMs: {
        p50: phases.latency.gateway.latencyMs.p50 - phases.latency.passthrough.latencyMs.p50,
        p99: phases.latency.gateway.latencyMs.p99 - phases.latency.passthrough.latencyMs.p99,
      },
      saturationRatio,
      goal: { saturationRatio: GOAL, verdict: saturationRatio >= GOAL ? 'PASS' : 'BELOW' },
      sseRatio: phases.sse.gateway.perSecond / phases.sse.passthrough.perSecond,
      // Mean number of cores other processes kept busy during measured rounds (0 on an idle machine).
      otherCores: mean(Object.values(phases).flatMap((p) => [p.gateway.otherCores, p.passthrough.otherCores])),
      loadAverage: loadavg()[0],
      peakRssMb: { gateway: mb(gw.maxRssKb), passthrough: mb(pt.maxRssKb), mock: mb(mk.maxRssKb), loadGenerator: mb(process.resourceUsage().maxRSS) },
    },
    errors,
  }
  process.stdout.write(options.json ? `${JSON.stringify(results, null, 2)}\n` : renderTable(results))
}

/** What the gateway logged at warn or above (pino JSON lines): the count and the first few messages. */
function readGatewayLog() {
  const lines = (existsSync(GATEWAY_LOG) ? readFileSync(GATEWAY_LOG, 'utf8') : '').split('\n').filter(Boolean)
  const message = (line) => {
    try {
      return JSON.parse(line).msg
    } catch {
      return line.slice(0, 120)
    }
  }
  return { lines: lines.length, messages: lines.slice(0, 3).map(message) }
}

/** Numbers measured while requests fail mean nothing: stop at the first failing round (exit 1). */
function failFast(errors) {
  if (errors.count === 0) return
  log(`bench: error: ${errors.count} request(s) failed, e.g.:\n  ${errors.samples.join('\n  ')}\nbench: gateway log and store kept in ${WORK_DIR}`)
  process.exit(1)
}

function collect(errors, target, round) {
  errors.count += round.failures.count
  for (const sample of round.failures.samples) if (errors.samples.length < 5) errors.samples.push(`${target.label}: ${sample}`)
}

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length
const fmtInt = (n) => Math.round(n).toLocaleString('en-US')

main().catch((error) => {
  log(`bench: error: ${error?.stack ?? error}`)
  process.exit(1)
})
