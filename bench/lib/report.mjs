/** The human-readable table printed by `npm run bench` (docs/benchmarks.md explains each row). */
export function renderTable(results) {
  const { machine, settings, phases, summary } = results
  const { latency, saturation, sse } = phases
  const int = (n) => Math.round(n).toLocaleString('en-US')
  const ms = (n) => n.toFixed(2)
  const signed = (n, unit) => `${n >= 0 ? '+' : ''}${unit === 'ms' ? n.toFixed(2) : int(n)} ${unit}`
  const ratio = (n) => `${n.toFixed(2)}×`
  const rows = [
    ['', 'gateway', 'pass-through', 'gateway vs pass-through'],
    [`latency p50 @${latency.concurrency} conns (ms)`, ms(latency.gateway.latencyMs.p50), ms(latency.passthrough.latencyMs.p50), `${signed(summary.addedLatencyMs.p50, 'ms')} added`],
    [`latency p99 @${latency.concurrency} conns (ms)`, ms(latency.gateway.latencyMs.p99), ms(latency.passthrough.latencyMs.p99), `${signed(summary.addedLatencyMs.p99, 'ms')} added`],
    [`saturation @${saturation.concurrency} conns (req/s)`, int(saturation.gateway.perSecond), int(saturation.passthrough.perSecond),
      `${ratio(summary.saturationRatio)}  goal ≥ ${ratio(summary.goal.saturationRatio)}: ${summary.goal.verdict}`],
    [`SSE @${sse.concurrency} conns (streams/s)`, int(sse.gateway.perSecond), int(sse.passthrough.perSecond), ratio(summary.sseRatio)],
    [`proxy CPU per request @${saturation.concurrency} (µs)`, int(saturation.gateway.cpuUsPerRequest.proxy), int(saturation.passthrough.cpuUsPerRequest.proxy),
      signed(saturation.gateway.cpuUsPerRequest.proxy - saturation.passthrough.cpuUsPerRequest.proxy, 'µs')],
    [`proxy CPU per stream, SSE (µs)`, int(sse.gateway.cpuUsPerRequest.proxy), int(sse.passthrough.cpuUsPerRequest.proxy),
      signed(sse.gateway.cpuUsPerRequest.proxy - sse.passthrough.cpuUsPerRequest.proxy, 'µs')],
    ['peak RSS of the process (MB)', summary.peakRssMb.gateway.toFixed(1), summary.peakRssMb.passthrough.toFixed(1), ''],
  ]
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)))
  const line = (row) => row.map((cell, c) => (c === 0 || c === 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ').trimEnd()
  const perRound = (phase) => `gateway ${phase.gateway.perSecondRounds.map(int).join(' / ')}; pass-through ${phase.passthrough.perSecondRounds.map(int).join(' / ')}`
  const sat = saturation.gateway.cpuUsPerRequest
  return [
    '',
    'skillgate benchmark: gateway (auth on, ES256 token verified per request, 1 allow rule) vs plain node:http + undici pass-through',
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, node ${machine.node}, ${machine.os}`,
    `rounds: ${settings.rounds} × ${settings.roundMs} ms per target per phase, ${settings.order}; ${settings.warmupMs} ms warm-up each`,
    `gateway: audit ${settings.audit}; logs at level ${settings.gatewayLog.level} to a file (removed after the run): ` +
      (settings.gatewayLog.lines === 0 ? 'nothing logged' : `${settings.gatewayLog.lines} line(s): ${settings.gatewayLog.messages.map((m) => JSON.stringify(m)).join(', ')}`),
    `other processes kept ${summary.otherCores.toFixed(2)} of ${machine.cpus} cores busy during measured rounds` +
      (summary.otherCores > 0.2 ? ' (a busy machine: trust the ratios and CPU/request more than absolute numbers)' : ' (a quiet machine)'),
    '',
    ...rows.map(line),
    '',
    `per round, saturation req/s: ${perRound(saturation)}`,
    `per round, SSE streams/s:    ${perRound(sse)}`,
    `sharing the CPUs (saturation, gateway rounds): mock ${int(sat.mock)} µs and load generator ${int(sat.loadGenerator)} µs per request;` +
      ` peak RSS mock ${summary.peakRssMb.mock.toFixed(1)} MB, load generator ${summary.peakRssMb.loadGenerator.toFixed(1)} MB`,
    '',
  ].join('\n')
}
