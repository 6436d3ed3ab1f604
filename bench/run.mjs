/**
 * `npm run bench`: several gateway variants (auth only, + async audit, + strict audit, everything on
 * with one worker, and everything on with one worker per CPU through `skillgate serve --workers N`)
 * against a plain node:http + undici pass-through proxy, all in front of the same mock upstream,
 * measured in one run with rounds interleaved (every variant and the pass-through take turns) so drift
 * on a shared machine hits all alike; then micro-costs per request measured in-process. One table.
 * docs/benchmarks.md explains every number. Exit code 1 only on errors (an unexpected status, a
 * broken stream, a crash), 2 on a bad command line, never for performance.
 *
 *   node bench/run.mjs [--quick] [--variants auth,full] [--duration 1500ms] [--rounds 4] [--json] [--skip-micro] [--cpu-prof DIR]
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_MOCK_API_KEY } from '../dist/mock-upstream/index.js'
import { runTask, startChild, stopChildren } from './lib/children.mjs'
import { procAvailable, startCliGateway } from './lib/cli-gateway.mjs'
import { createClient, percentiles, runRound } from './lib/load.mjs'
import { renderTable } from './lib/report.mjs'
import { BODIES, UPSTREAM_POOL, VARIANTS, configOf, gatewayConfig, mintToken, requestBody, requestJson } from './lib/workload.mjs'

const USAGE = `usage: node bench/run.mjs [--quick] [--variants LIST] [--duration D] [--rounds N] [--json] [--skip-micro] [--cpu-prof DIR]
  --quick         smoke run (~30 s plus the build): 2 rounds of 500 ms per target per phase, shorter micro-costs
  --variants L    gateway variants, comma-separated, from: ${Object.keys(VARIANTS).join(', ')}
                  (default: all; full-workers needs Linux /proc and is left out of the default elsewhere)
  --duration D    length of one measured round, e.g. 2s or 1500ms (default 1500ms, quick 500ms)
  --rounds N      measured rounds per target per phase (default 4, quick 2)
  --json          print the results as JSON on stdout (progress stays on stderr)
  --skip-micro    leave out the in-process micro-costs
  --cpu-prof DIR  write V8 CPU profiles of every gateway variant and of the pass-through into DIR
`
const GOAL = { variant: 'auth', saturationRatio: 0.8 } // the issue's goal: auth on, ≥ 0.8 × pass-through req/s
const PHASES = [
  { name: 'latency', title: 'non-streaming, moderate fixed concurrency', concurrency: 8, stream: false },
  { name: 'saturation', title: 'non-streaming, high concurrency', concurrency: 128, stream: false },
  { name: 'sse', title: 'stream: true, whole stream read', concurrency: 32, stream: true },
]
// Each gateway's log file, SQLite store and signing key live under here; removed after a clean run, kept after a failure.
const WORK_DIR = join(tmpdir(), `skillgate-bench-${process.pid}`)
const HEADERS = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }

const log = (line) => process.stderr.write(`${line}\n`)
// After an error (exit 1) the logs and stores stay for a look; after success or Ctrl-C (130) they go.
process.on('exit', (code) => {
  if (!existsSync(WORK_DIR)) return
  if (code === 0 || code === 130) rmSync(WORK_DIR, { recursive: true, force: true })
  else process.stderr.write(`bench: gateway logs and stores kept in ${WORK_DIR}\n`)
})

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
      variants: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      json: { type: 'boolean' },
      'skip-micro': { type: 'boolean' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  const quick = values.quick === true
  const roundMs = values.duration === undefined ? (quick ? 500 : 1_500) : parseDuration(values.duration)
  const rounds = values.rounds === undefined ? (quick ? 2 : 4) : Number(values.rounds)
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer')
  // The multi-worker variant measures its processes through /proc: by default only where that exists.
  const defaults = Object.keys(VARIANTS).filter((v) => VARIANTS[v].workers === undefined || procAvailable())
  const variants = values.variants === undefined ? defaults : [...new Set(values.variants.split(',').map((v) => v.trim()).filter(Boolean))]
  const unknown = variants.filter((v) => !Object.hasOwn(VARIANTS, v))
  if (unknown.length > 0 || variants.length === 0) throw new Error(`--variants: unknown ${unknown.join(', ') || '(empty)'}; choose from ${Object.keys(VARIANTS).join(', ')}`)
  const noProc = variants.filter((v) => VARIANTS[v].workers !== undefined && !procAvailable())
  if (noProc.length > 0) throw new Error(`--variants: ${noProc.join(', ')} needs /proc (Linux) to measure a primary and its workers`)
  // Keep the canonical order (cheapest first) whatever order was typed.
  const chosen = Object.keys(VARIANTS).filter((v) => variants.includes(v))
  const cpuProfDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof'])
  return {
    quick, roundMs, rounds, variants: chosen, warmupMs: quick ? 250 : 750, json: values.json === true, micro: values['skip-micro'] !== true, cpuProfDir,
  }
}

function parseDuration(text) {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text)
  if (!match) throw new Error(`--duration: expected e.g. 2s or 1500ms, got ${text}`)
  const ms = Math.round(Number(match[1]) * (match[2] === 'ms' ? 1 : 1_000))
  if (ms < 100) throw new Error('--duration must be at least 100ms')
  return ms
}

const cpuProfArgs = (dir, name) => (dir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${name}.cpuprofile`])
// A cluster's workers inherit the primary's flags, so one file name would be overwritten: node's default names carry the pid.
const cpuProfTreeArgs = (dir) => (dir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', dir])

/**
 * The targets in the order a round visits them: for each request body, the pass-through on that
 * body, then every chosen variant that sends it. Each variant is compared with the pass-through on
 * its own body.
 */
function planTargets(variants) {
  const bodies = [...new Set(variants.map((v) => VARIANTS[v].body))]
  return bodies.flatMap((body) => [
    { key: body === 'simple' ? 'pass-through' : `pass-through/${body}`, label: body === 'simple' ? 'pass-through' : `pass-through (${body})`, kind: 'passthrough', body },
    ...variants.filter((v) => VARIANTS[v].body === body).map((v) => ({ key: v, label: v, kind: 'gateway', variant: v, body })),
  ])
}

/** One measured (or warm-up) round against one target, with the CPU each process spent during it. */
async function measure(target, mock, phase, durationMs, token) {
  const before = await Promise.all([target.server.stats(), mock.stats()])
  const ownBefore = process.cpuUsage()
  const busyBefore = machineBusyMs()
  const wallBefore = performance.now()
  const round = await runRound(target.client, {
    concurrency: phase.concurrency,
    durationMs,
    body: requestBody(target.body, phase.stream),
    stream: phase.stream,
    headers: { ...HEADERS, authorization: `Bearer ${token}` },
  })
  const settleMs = await settle(target.server)
  const busyMs = machineBusyMs() - busyBefore
  const wallMs = performance.now() - wallBefore
  const own = process.cpuUsage(ownBefore)
  const after = await Promise.all([target.server.stats(), mock.stats()])
  const cpuUs = { proxy: after[0].cpuUs - before[0].cpuUs, mock: after[1].cpuUs - before[1].cpuUs, loadGenerator: own.user + own.system }
  // Whatever the machine did besides our processes: other work competing for the same cores.
  const otherMs = Math.max(0, busyMs - (cpuUs.proxy + cpuUs.mock + cpuUs.loadGenerator) / 1000)
  target.requests += round.completed + round.failures.count
  return { ...round, cpuUs, settleMs, otherCores: otherMs / wallMs }
}

/**
 * Waits until the target is idle again (under 10% of a core over 25 ms, at most 2 s), so work it
 * deferred (an async audit queue, a WAL checkpoint) is charged to it and does not slow the next
 * target's round.
 */
async function settle(server) {
  const started = performance.now()
  let previous = await server.stats()
  while (performance.now() - started < 2_000) {
    await sleep(25)
    const now = await server.stats()
    const busy = now.cpuUs - previous.cpuUs
    previous = now
    if (busy < 2_500) break
  }
  return performance.now() - started
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
    settleMsMax: Math.round(Math.max(...rounds.map((r) => r.settleMs))),
    otherCores: rounds.reduce((n, r) => n + r.otherCores, 0) / rounds.length,
  }
}

/**
 * Before any load: each variant really is what it claims (auth refuses a missing token, policy
 * refuses a model outside its glob, the `full` variant masks replies and blocks secrets in requests).
 * Refusals here are the only non-2xx responses the bench expects.
 */
async function preflight(target, token) {
  const problems = []
  const send = async (body, { auth = true, stream = false } = {}) => {
    target.requests++
    const res = await target.client.request({
      method: 'POST',
      path: '/v1/messages',
      headers: { ...HEADERS, ...(auth ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body ?? requestJson(target.body, stream)),
    })
    return { status: res.statusCode, text: await res.body.text() }
  }
  const expect = async (what, status, ...args) => {
    const res = await send(...args)
    if (res.status !== status) problems.push(`${what}: expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 200)}`)
    return res
  }
  await expect('a request on its body', 200)
  if (target.kind === 'gateway') {
    await expect('no token (auth on)', 401, undefined, { auth: false })
    await expect('a model outside the allow rule (policy on)', 403, { ...requestJson(target.body), model: 'not-a-claude-model' })
  }
  if (target.kind === 'gateway' && configOf(target.variant) === 'full') {
    const withSecret = requestJson('realistic')
    withSecret.messages = [...withSecret.messages, { role: 'user', content: 'use AWS key AKIAIOSFODNN7EXAMPLE' }]
    await expect('a request carrying an AWS key (masking.requests.block)', 400, withSecret)
    const web = { ...requestJson('realistic'), tools: [{ type: 'web_search_20250305', name: 'web_search' }] }
    await expect('a tool outside allow.tools', 403, web)
    for (const stream of [false, true]) {
      const res = await expect(`a ${stream ? 'streamed' : 'JSON'} reply`, 200, undefined, { stream })
      if (res.status === 200 && (!res.text.includes('[REDACTED') || res.text.includes('alice.smith@example.com'))) {
        problems.push(`the ${stream ? 'streamed' : 'JSON'} reply is not masked: ${res.text.slice(0, 200)}`)
      }
    }
  }
  return problems.map((p) => `${target.label}: preflight: ${p}`)
}

/** Audit records a variant's store holds, by outcome (read after the gateway stopped and flushed). */
function auditRecords(target) {
  const path = join(target.dir, 'skillgate.db')
  if (!existsSync(path)) return undefined
  const Database = createRequire(import.meta.url)('better-sqlite3')
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const rows = db.prepare('SELECT outcome, count(*) AS n FROM audit_records GROUP BY outcome').all()
    return Object.fromEntries(rows.map((r) => [r.outcome, r.n]))
  } finally {
    db.close()
  }
}

async function main() {
  const started = performance.now()
  const options = parseOptions()
  const targetsPlan = planTargets(options.variants)
  const microMs = options.micro ? (options.quick ? 4_000 : 10_000) : 0
  const expectedMs = PHASES.length * targetsPlan.length * (options.rounds * (options.roundMs + 100) + options.warmupMs + 100) + microMs + 5_000
  // The bench always stops by itself: a hang turns into an error well after the expected end.
  const watchdogMs = expectedMs * 2 + 30_000
  const watchdog = setTimeout(() => {
    log(`bench: error: still running after ${Math.round(watchdogMs / 1000)} s, giving up`)
    process.exit(1)
  }, watchdogMs)
  watchdog.unref()

  log(
    `bench: ${cpus().length} CPUs, node ${process.version}, load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}; ` +
      `variants ${options.variants.join(', ')}; ${options.rounds} round(s) × ${options.roundMs} ms per target per phase, ~${Math.round(expectedMs / 1000)} s`,
  )
  let micro
  if (options.micro) {
    log('bench: micro-costs (in-process, no HTTP)…')
    micro = await runTask('micro-costs', new URL('./micro.mjs', import.meta.url), options.quick ? ['--quick'] : [], 90_000)
    log(`bench: micro-costs done in ${(micro.elapsedMs / 1000).toFixed(1)} s: verify cold ${micro.verify.coldUs.toFixed(1)} µs, warm ${micro.verify.warmUs.toFixed(2)} µs; policy (full) ${micro.policy.fullUs.toFixed(1)} µs`)
  }

  const { jwk, token } = await mintToken()
  mkdirSync(WORK_DIR, { recursive: true })
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true })
  const mock = await startChild('mock upstream', new URL('./servers/mock.mjs', import.meta.url))
  const maxConcurrency = Math.max(...PHASES.map((p) => p.concurrency))
  const passthrough = startChild('pass-through', new URL('./servers/passthrough.mjs', import.meta.url), {
    BENCH_UPSTREAM: JSON.stringify({ url: mock.url, apiKey: DEFAULT_MOCK_API_KEY, ...UPSTREAM_POOL }),
  }, cpuProfArgs(options.cpuProfDir, 'pass-through'))
  const gateways = new Map(
    options.variants.map((variant) => {
      const dir = join(WORK_DIR, variant)
      mkdirSync(dir, { recursive: true })
      const config = gatewayConfig(variant, { mockUrl: mock.url, jwk, dir })
      if (VARIANTS[variant].workers !== undefined) {
        // The real CLI with node:cluster; CPU and RSS summed over the primary and its workers (lib/cli-gateway.mjs).
        const server = startCliGateway(`gateway ${variant}`, {
          config, dir, workers: VARIANTS[variant].workers, logPath: join(dir, 'gateway.log'), execArgv: cpuProfTreeArgs(options.cpuProfDir),
        })
        return [variant, { server, dir }]
      }
      const server = startChild(`gateway ${variant}`, new URL('./servers/gateway.mjs', import.meta.url), {
        BENCH_VARIANT: variant,
        BENCH_GATEWAY_CONFIG: JSON.stringify(config),
        BENCH_GATEWAY_LOG: join(dir, 'gateway.log'),
      }, cpuProfArgs(options.cpuProfDir, `gateway-${variant}`))
      return [variant, { server, dir }]
    }),
  )
  // Started together; the first that fails to start ends the bench.
  await Promise.all([passthrough, ...[...gateways.values()].map((g) => g.server)])
  const targets = []
  for (const plan of targetsPlan) {
    const server = await (plan.kind === 'passthrough' ? passthrough : gateways.get(plan.variant).server)
    // `requests`: every request sent to it, refusals included (what its audit should hold).
    targets.push({ ...plan, server, dir: gateways.get(plan.variant)?.dir, client: createClient(server.url, maxConcurrency), requests: 0 })
  }
  log(`bench: mock ${mock.url} (pid ${mock.pid}); ${targets.map((t) => `${t.label} ${t.server.url} (pid ${t.server.pid}${t.server.workers ? `, primary of ${t.server.workers} workers` : ''})`).join('; ')}`)
  log(`bench: gateway logs at level warn, SQLite stores and signing keys under ${WORK_DIR}`)

  const errors = { count: 0, samples: [] }
  for (const target of targets) {
    for (const problem of await preflight(target, token)) {
      errors.count++
      if (errors.samples.length < 5) errors.samples.push(problem)
    }
  }
  failFast(errors)

  const phases = {}
  for (const phase of PHASES) {
    // Warm-up per target: JIT, connections at this concurrency. Not measured, but still checked.
    for (const target of targets) collect(errors, target, await measure(target, mock, phase, options.warmupMs, token))
    failFast(errors)
    const rounds = Object.fromEntries(targets.map((t) => [t.key, []]))
    for (let i = 1; i <= options.rounds; i++) {
      // Each round starts one target later, so no target always runs first (or right after the same one).
      const order = targets.map((_, j) => targets[(j + i - 1) % targets.length])
      for (const target of order) {
        const round = await measure(target, mock, phase, options.roundMs, token)
        collect(errors, target, round)
        failFast(errors)
        rounds[target.key].push(round)
        const { p50, p99 } = percentiles(round.latencies, [50, 99])
        log(
          `${phase.name.padEnd(10)} round ${i}/${options.rounds} ${target.label.padEnd(24)} ${fmtInt((round.completed / round.elapsedMs) * 1000).padStart(7)}/s` +
            `  p50 ${p50.toFixed(2).padStart(6)} ms  p99 ${p99.toFixed(2).padStart(7)} ms  other load ${round.otherCores.toFixed(2)} cores`,
        )
      }
    }
    phases[phase.name] = { concurrency: phase.concurrency, stream: phase.stream, targets: Object.fromEntries(targets.map((t) => [t.key, summarise(rounds[t.key])])) }
  }

  const finalStats = await Promise.all([mock.stats(), ...targets.map((t) => t.server.stats())])
  for (const target of targets) await target.client.destroy()
  await stopChildren()
  clearTimeout(watchdog)
  const mb = (kb) => Math.round((kb / 1024) * 10) / 10
  const gatewayInfo = Object.fromEntries(
    targets
      .filter((t) => t.kind === 'gateway')
      .map((t) => [t.variant, { log: readGatewayLog(join(t.dir, 'gateway.log')), audit: configOf(t.variant) === 'auth' ? undefined : auditRecords(t), requests: t.requests }]),
  )
  rmSync(WORK_DIR, { recursive: true, force: true })

  const byKey = Object.fromEntries(targets.map((t, i) => [t.key, { ...t, rssMb: mb(finalStats[i + 1].maxRssKb) }]))
  const baselineOf = (variant) => targets.find((t) => t.kind === 'passthrough' && t.body === VARIANTS[variant].body).key
  const at = (phase, key) => phases[phase].targets[key]
  const variants = Object.fromEntries(
    options.variants.map((variant) => {
      const base = baselineOf(variant)
      return [
        variant,
        {
          describe: VARIANTS[variant].describe,
          body: VARIANTS[variant].body,
          workers: VARIANTS[variant].workers ?? 1,
          baseline: base,
          addedLatencyMs: {
            p50: at('latency', variant).latencyMs.p50 - at('latency', base).latencyMs.p50,
            p99: at('latency', variant).latencyMs.p99 - at('latency', base).latencyMs.p99,
          },
          saturationRatio: at('saturation', variant).perSecond / at('saturation', base).perSecond,
          sseRatio: at('sse', variant).perSecond / at('sse', base).perSecond,
          addedCpuUs: {
            perRequest: at('saturation', variant).cpuUsPerRequest.proxy - at('saturation', base).cpuUsPerRequest.proxy,
            perStream: at('sse', variant).cpuUsPerRequest.proxy - at('sse', base).cpuUsPerRequest.proxy,
          },
          peakRssMb: byKey[variant].rssMb,
          ...gatewayInfo[variant],
        },
      ]
    }),
  )
  const goalRatio = variants[GOAL.variant]?.saturationRatio
  const results = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, os: `${process.platform} ${release()}` },
    settings: {
      roundMs: options.roundMs, rounds: options.rounds, warmupMs: options.warmupMs,
      order: 'interleaved: every target once per round, each round starting one target later',
      phases: PHASES, upstreamPool: UPSTREAM_POOL, gatewayLog: 'level warn, to a file per variant (removed after the run)',
      variants: Object.fromEntries(options.variants.map((v) => [v, VARIANTS[v].describe])),
      bodies: Object.fromEntries([...new Set(targets.map((t) => t.body))].map((b) => [b, BODIES[b]])),
      targets: targets.map((t) => ({ key: t.key, label: t.label, kind: t.kind, body: t.body })),
    },
    phases,
    variants,
    passthrough: Object.fromEntries(targets.filter((t) => t.kind === 'passthrough').map((t) => [t.key, { body: t.body }])),
    peakRssMb: {
      ...Object.fromEntries(targets.map((t) => [t.key, byKey[t.key].rssMb])),
      mock: mb(finalStats[0].maxRssKb),
      loadGenerator: mb(process.resourceUsage().maxRSS),
    },
    goal: goalRatio === undefined
      ? { variant: GOAL.variant, saturationRatio: GOAL.saturationRatio, verdict: 'NOT MEASURED' }
      : { variant: GOAL.variant, saturationRatio: GOAL.saturationRatio, measured: goalRatio, verdict: goalRatio >= GOAL.saturationRatio ? 'PASS' : 'BELOW' },
    load: {
      // Mean number of cores other processes kept busy during measured rounds (0 on an idle machine).
      otherCores: mean(Object.values(phases).flatMap((p) => Object.values(p.targets).map((t) => t.otherCores))),
      loadAverage: loadavg(),
    },
    micro,
    errors,
  }
  results.elapsedS = Math.round((performance.now() - started) / 100) / 10
  log(`bench: done in ${results.elapsedS} s`)
  process.stdout.write(options.json ? `${JSON.stringify(results, null, 2)}\n` : renderTable(results))
}

/** What a gateway logged at warn or above (pino JSON lines): the count and the first few messages. */
function readGatewayLog(path) {
  const lines = (existsSync(path) ? readFileSync(path, 'utf8') : '').split('\n').filter(Boolean)
  const message = (line) => {
    try {
      return JSON.parse(line).msg
    } catch {
      return line.slice(0, 120)
    }
  }
  return { lines: lines.length, messages: [...new Set(lines.map(message))].slice(0, 3) }
}

/** Numbers measured while requests fail mean nothing: stop at the first failing round (exit 1). */
function failFast(errors) {
  if (errors.count === 0) return
  log(`bench: error: ${errors.count} request(s) failed, e.g.:\n  ${errors.samples.join('\n  ')}`)
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
