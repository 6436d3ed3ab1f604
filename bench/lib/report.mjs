/** The human-readable output of `npm run bench` and bench/micro.mjs (docs/benchmarks.md explains each number). */
const int = (n) => Math.round(n).toLocaleString('en-US')
const ms = (n) => n.toFixed(2)
const signedMs = (n) => `${n >= 0 ? '+' : ''}${n.toFixed(2)}`
const signedInt = (n) => `${n >= 0 ? '+' : ''}${int(n)}`
const ratio = (n) => `${n.toFixed(2)}×`
/** Two significant digits below 10, one decimal below 100, whole numbers above. */
const us = (n) => (n < 1 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : int(n))

/** Columns: [header, align ('l' | 'r')]; rows: arrays of strings. */
function table(columns, rows, indent = '') {
  const widths = columns.map(([title], c) => Math.max(title.length, ...rows.map((row) => row[c].length)))
  const line = (row) => indent + row.map((cell, c) => (columns[c][1] === 'l' ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()
  return [line(columns.map(([title]) => title)), ...rows.map(line)]
}

export function renderTable(results) {
  const { machine, settings, phases, variants, peakRssMb, goal, load, micro } = results
  const { latency, saturation, sse } = phases
  const rows = settings.targets.map((t) => {
    const v = variants[t.key]
    const cell = (phase) => phase.targets[t.key]
    return [
      t.label,
      t.body,
      ms(cell(latency).latencyMs.p50),
      v ? signedMs(v.addedLatencyMs.p50) : '',
      ms(cell(latency).latencyMs.p99),
      v ? signedMs(v.addedLatencyMs.p99) : '',
      int(cell(saturation).perSecond),
      v ? ratio(v.saturationRatio) : '',
      int(cell(sse).perSecond),
      v ? ratio(v.sseRatio) : '',
      int(cell(saturation).cpuUsPerRequest.proxy),
      v ? signedInt(v.addedCpuUs.perRequest) : '',
      int(cell(sse).cpuUsPerRequest.proxy),
      v ? signedInt(v.addedCpuUs.perStream) : '',
      peakRssMb[t.key].toFixed(1),
    ]
  })
  const columns = [
    ['target', 'l'], ['body', 'l'],
    [`p50 ms`, 'r'], ['added', 'r'], [`p99 ms`, 'r'], ['added', 'r'],
    ['req/s', 'r'], ['ratio', 'r'], ['SSE/s', 'r'], ['ratio', 'r'],
    ['CPU µs/req', 'r'], ['added', 'r'], ['CPU µs/stream', 'r'], ['added', 'r'],
    ['RSS MB', 'r'],
  ]
  const perRound = (phase) => settings.targets.map((t) => `  ${t.label.padEnd(24)} ${phase.targets[t.key].perSecondRounds.map(int).join(' / ')}`)
  const goalLine = goal.measured === undefined
    ? `goal: ${goal.variant} ≥ ${ratio(goal.saturationRatio)} the pass-through's req/s at saturation: not measured (variant not chosen)`
    : `goal: ${goal.variant} ≥ ${ratio(goal.saturationRatio)} the pass-through's req/s at saturation: ${ratio(goal.measured)} ${goal.verdict}`
  const sat = Object.values(saturation.targets)
  const avg = (key) => sat.reduce((n, t) => n + t.cpuUsPerRequest[key], 0) / sat.length
  return [
    '',
    'skillgate benchmark: gateway variants vs a plain node:http + undici pass-through, same mock upstream, same run',
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, node ${machine.node}, ${machine.os}`,
    `rounds: ${settings.rounds} × ${settings.roundMs} ms per target per phase, ${settings.order}; ${settings.warmupMs} ms warm-up each; the run took ${results.elapsedS} s`,
    `background load: other processes kept ${load.otherCores.toFixed(2)} of ${machine.cpus} cores busy during measured rounds` +
      (load.otherCores > 0.2 ? ' (a busy machine: trust ratios and CPU/request more than absolute numbers)' : ' (a quiet machine)') +
      `; load average at the end ${load.loadAverage.map((n) => n.toFixed(2)).join(' ')}`,
    '',
    'variants:',
    ...Object.entries(settings.variants).map(([name, text]) => `  ${name.padEnd(13)} ${text}`),
    'bodies:',
    ...Object.entries(settings.bodies).map(([name, text]) => `  ${name.padEnd(13)} ${text}`),
    '',
    `latency at ${latency.concurrency} concurrent requests; req/s at ${saturation.concurrency} (non-streaming); SSE/s = whole streams per second at ${sse.concurrency};`,
    'CPU = the proxy process\'s CPU per request (saturation) and per stream (SSE); RSS = its peak RSS;',
    '"added" and "ratio" compare each variant with the pass-through on the same body.',
    ...Object.entries(variants)
      .filter(([, v]) => v.workers > 1)
      .map(([name, v]) => `${name}: CPU summed over its primary and ${v.workers} workers (/proc, 10 ms ticks); RSS = the sum of their peak RSS (an upper bound).`),
    '',
    ...table(columns, rows),
    '',
    goalLine,
    '',
    'per round, saturation req/s:',
    ...perRound(saturation),
    'per round, SSE streams/s:',
    ...perRound(sse),
    ...auditLines(variants),
    ...logLines(variants),
    `sharing the CPUs (saturation, mean over targets): mock ${int(avg('mock'))} µs and load generator ${int(avg('loadGenerator'))} µs per request;` +
      ` peak RSS mock ${peakRssMb.mock.toFixed(1)} MB, load generator ${peakRssMb.loadGenerator.toFixed(1)} MB`,
    ...(micro ? ['', ...renderMicro(micro), ...headsVersusStrict(micro, saturation)] : []),
    '',
  ].join('\n')
}

function auditLines(variants) {
  const audited = Object.entries(variants).filter(([, v]) => v.audit !== undefined)
  if (audited.length === 0) return []
  return [
    'audit records written (read from each SQLite store after a graceful stop) / requests sent:',
    ...audited.map(([name, v]) => {
      const total = Object.values(v.audit).reduce((a, b) => a + b, 0)
      const outcomes = Object.entries(v.audit).map(([outcome, n]) => `${outcome} ${int(n)}`).join(', ')
      return `  ${name.padEnd(13)} ${int(total)} / ${int(v.requests)}${total === v.requests ? '' : '  (MISMATCH)'}  (${outcomes})`
    }),
  ]
}

function logLines(variants) {
  return [
    'gateway logs at level warn:',
    ...Object.entries(variants).map(
      ([name, v]) => `  ${name.padEnd(13)} ${v.log.lines === 0 ? 'nothing logged' : `${v.log.lines} line(s): ${v.log.messages.map((m) => JSON.stringify(m)).join(', ')}`}`,
    ),
  ]
}

/** Issue #16's budget: signing heads must cost under 1 % of the audit-strict variant's CPU per request. */
function headsVersusStrict(micro, saturation) {
  const strict = saturation.targets['audit-strict']
  if (micro.heads === undefined || strict === undefined) return []
  const perHead = Math.max(...Object.values(micro.heads.cpuUsPerHead))
  const perRequest = perHead / micro.heads.everyRecords
  const share = perRequest / strict.cpuUsPerRequest.proxy
  return [
    `signed audit heads at everyRecords ${int(micro.heads.everyRecords)}: ${perRequest.toFixed(3)} µs CPU per request = ${(share * 100).toFixed(4)} % of audit-strict's ${int(strict.cpuUsPerRequest.proxy)} µs per request (budget 1 %: ${share < 0.01 ? 'met' : 'NOT met'})`,
  ]
}

/** The micro-costs section (also printed alone by bench/micro.mjs). */
export function renderMicro(micro) {
  const { verify, policy, masking } = micro
  const r = masking.perResponse
  const perRequest = [
    ['token verification, cold: strict ES256 verify, no cache', us(verify.coldUs)],
    ['token verification, warm: hit in the verified-token cache (cacheVerifications)', us(verify.warmUs)],
    ['policy, full rule: evaluatePolicy (CEL condition, claims, skills/tools/maxTokens grants), realistic body', us(policy.fullUs)],
    ['policy, auth rule: evaluatePolicy (subject prefix, models glob), simple body', us(policy.authUs)],
    ['policy input: extractRequestFacts on the realistic body (already parsed)', us(policy.factsUs)],
    ...(policy.factsOnceUs === undefined ? [] : [['request facts once per request: extractRequestFacts + namedFacts (record, review), realistic body; goal ≤ 10 µs', us(policy.factsOnceUs)]]),
    [`masking the realistic reply as JSON (${int(r.jsonBytes)} B): maskMessageJson`, us(r.jsonUs)],
    [`masking the realistic reply as SSE (${r.sseEvents} events, ${int(r.sseBytes)} B): parse, stream masker, re-frame`, us(r.sseUs)],
    ...(r.sseUnmaskedUs === undefined ? [] : [[`  of which parse + JSON.parse alone (a stream masker that changes nothing)`, us(r.sseUnmaskedUs)]]),
    ...(r.responsePathUs === undefined ? [] : [
      [`SSE response path, per stream, CPU: observer, usage, owners, masking, audit log (${(r.responsePathUs / r.sseEvents).toFixed(2)} µs/event)`, us(r.responsePathUs)],
      [`  without masking (${(r.responsePathUnmaskedUs / r.sseEvents).toFixed(2)} µs/event; masking adds ${((r.responsePathUs - r.responsePathUnmaskedUs) / r.sseEvents).toFixed(2)} µs/event)`, us(r.responsePathUnmaskedUs)],
      [`  the same before the observer: each stage parsing again (${(r.responsePathBeforeUs / r.sseEvents).toFixed(2)} µs/event)`, us(r.responsePathBeforeUs)],
    ]),
  ]
  const throughput = masking.rows.map((row) => [
    `${row.what}, ${row.input}`,
    row.mbps.toFixed(1),
    row.baseline === undefined ? '' : `${row.baseline.toFixed(1)} (${row.baselineName})`,
  ])
  const heads = micro.heads === undefined ? [] : Object.entries(micro.heads.cpuUsPerHead).map(([alg, cpuUs]) => [`signed audit head, ${alg}: sign + store in SQLite, CPU per head (per request: ÷ everyRecords ${int(micro.heads.everyRecords)})`, us(cpuUs)])
  return [
    `micro-costs per request, in-process against dist/, no HTTP (best of ${micro.batches} batches; ${(micro.elapsedMs / 1000).toFixed(1)} s):`,
    ...table([['what', 'l'], ['µs', 'r']], [...perRequest, ...heads], '  '),
    `masking throughput, MB/s of input (${Math.round(masking.size / 1024)} KiB inputs, best of ${masking.runs} after a warm-up run; all detectors + 1 custom pattern):`,
    ...table([['what', 'l'], ['masked', 'r'], ['without masking', 'l']], throughput, '  '),
  ]
}
