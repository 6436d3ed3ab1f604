import { describe, expect, it } from 'vitest'
import { createMetrics } from '../../src/observability/metrics.js'
import { readRepoFile } from './helpers.js'

/**
 * docs/metrics.md documents every metric the gateway exports, with its type and labels, and nothing
 * it does not export (style-anchors §15: invariants are checked by CI, not by reviewers).
 */

interface DocumentedMetric {
  readonly type: string
  readonly labels: string[]
}

const doc = readRepoFile('docs/metrics.md')

/** prom-client reads these from /proc: they exist on Linux only (where CI runs). */
const linuxOnly = new Set(['virtual_memory_bytes', 'heap_bytes', 'open_fds', 'max_fds'].map((n) => `skillgate_process_${n}`))

const documented = new Map<string, DocumentedMetric>(
  [...doc.matchAll(/^\| `(skillgate_[a-z0-9_]+)` \| (\w+) \|([^|]*)\|/gm)].map((m) => [
    m[1] ?? '',
    { type: m[2] ?? '', labels: [...(m[3] ?? '').matchAll(/`([^`]+)`/g)].map((l) => l[1] ?? '').sort() },
  ]),
)

describe('docs/metrics.md', () => {
  const { registry } = createMetrics()
  const exported = new Map(
    registry.getMetricsAsArray().map((metric) => {
      const m = metric as unknown as { name: string; type: string; labelNames?: readonly string[] }
      return [m.name, { type: String(m.type), labels: [...(m.labelNames ?? [])].sort() }]
    }),
  )

  it('documents every exported metric with its type and labels', () => {
    expect(exported.size).toBeGreaterThan(3)
    for (const [name, metric] of exported) {
      expect(documented.get(name), `${name} is missing from docs/metrics.md`).toEqual(metric)
    }
  })

  it('documents no metric the gateway does not export', () => {
    for (const name of documented.keys()) {
      if (process.platform !== 'linux' && linuxOnly.has(name)) continue
      expect(exported.has(name), `${name} is documented but not exported`).toBe(true)
    }
  })

  it('uses only exported metrics in the example alerts', () => {
    const alerts = doc.slice(doc.indexOf('## Example alerts'))
    const used = new Set([...alerts.matchAll(/\bskillgate_[a-z0-9_]+/g)].map((m) => (m[0] ?? '').replace(/_(bucket|sum|count)$/, '')))
    expect(used.size).toBeGreaterThan(0)
    for (const name of used) expect(documented.has(name), `alert uses undocumented ${name}`).toBe(true)
  })
})
