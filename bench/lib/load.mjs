import { Pool } from 'undici'

/**
 * A closed-loop load generator: `concurrency` workers, each sending its next request as soon as the
 * previous response is fully read. One Pool per target, reused across rounds, so connection setup
 * is not part of any measured round. Timeouts keep a stuck server from hanging the bench.
 */
export function createClient(origin, connections) {
  return new Pool(origin, { connections, pipelining: 1, headersTimeout: 15_000, bodyTimeout: 15_000, keepAliveTimeout: 60_000 })
}

/** Runs one round; every response must be 2xx and every stream must end with `message_stop`. */
export async function runRound(client, { concurrency, durationMs, headers, body, stream }) {
  const latencies = []
  const failures = { count: 0, samples: [] }
  const fail = (what) => {
    failures.count++
    if (failures.samples.length < 3) failures.samples.push(what)
  }
  const started = performance.now()
  const deadline = started + durationMs

  async function worker() {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      try {
        const res = await client.request({ method: 'POST', path: '/v1/messages', headers, body })
        const text = await res.body.text()
        const problem = check(res, text, stream)
        if (problem) fail(problem)
        else latencies.push(performance.now() - t0)
      } catch (error) {
        fail(`transport error: ${error.code ?? error.message}`)
      }
    }
  }

  await Promise.all(Array.from({ length: concurrency }, worker))
  return { completed: latencies.length, elapsedMs: performance.now() - started, latencies, failures }
}

function check(res, text, stream) {
  if (res.statusCode < 200 || res.statusCode > 299) return `HTTP ${res.statusCode}: ${text.slice(0, 300)}`
  if (!stream) return undefined
  if (!String(res.headers['content-type']).startsWith('text/event-stream')) return `not an event stream: ${res.headers['content-type']}`
  if (!text.includes('event: message_stop')) return `stream ended without message_stop (${text.length} bytes)`
  return undefined
}

/** Nearest-rank percentile over all samples (ms). */
export function percentiles(samples, points) {
  const sorted = Float64Array.from(samples).sort()
  const at = (p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)])
  return Object.fromEntries(points.map((p) => [`p${p}`, at(p)]))
}
