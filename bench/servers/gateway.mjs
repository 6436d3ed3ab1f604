// The real gateway (dist/), built from a config like a deployment's, one per variant (see
// lib/workload.mjs). Config comes from the parent in BENCH_GATEWAY_CONFIG (JSON is YAML).
import { pino } from 'pino'
import { loadConfigText, formatProblems } from '../../dist/config/load.js'
import { startGateway } from '../../dist/wiring/gateway.js'
import { createLogger } from '../../dist/observability/logger.js'
import { serveChild } from '../lib/child.mjs'

const name = `gateway ${process.env.BENCH_VARIANT ?? ''}`.trim()
serveChild(name, async () => {
  const loaded = loadConfigText(process.env.BENCH_GATEWAY_CONFIG ?? '', `bench-${process.env.BENCH_VARIANT ?? 'gateway'}.json`, {})
  if (!loaded.ok) throw new Error(`bench gateway config invalid:\n${formatProblems(loaded.problems)}`)
  // The production logger (same redaction), at warn, to a file: per-request info lines are not written.
  // Synchronous writes are fine because at warn nothing is logged on the happy path.
  const destination = pino.destination({ dest: process.env.BENCH_GATEWAY_LOG, sync: true, mkdir: true })
  const logger = createLogger({ level: 'warn', destination })
  const gateway = await startGateway(loaded.config, { logger, port: 0 })
  return { url: gateway.url, close: () => gateway.close(1_000) }
})
