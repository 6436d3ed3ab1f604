import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMetrics } from '../../src/observability/metrics.js'
import type { Storage } from '../../src/storage/ports.js'
import { createErrorReports } from '../../src/wiring/error-reports.js'
import { watchStorageHealth } from '../../src/wiring/storage.js'

const setup = () => {
  const lines: Array<Record<string, unknown>> = []
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) })
  const metrics = createMetrics()
  return { lines, metrics, reports: createErrorReports(metrics, logger) }
}

const sample = async (metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}) => {
  const metric = await metrics.registry.getSingleMetric(name)?.get()
  return metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value
}

afterEach(() => vi.useRealTimers())

describe('error reports', () => {
  it('counts each failure under its labels and logs it at level error with the message only', async () => {
    const { lines, metrics, reports } = setup()
    reports.storage(new Error('lease renewal failed: connection refused'), { op: 'lease' })
    reports.storage(new Error('again'), { op: 'lease' })
    reports.auditWrite(new Error('disk full'), { op: 'begin' }, { recordId: 'r1' })
    expect(await sample(metrics, 'skillgate_storage_errors_total', { op: 'lease' })).toBe(2)
    expect(await sample(metrics, 'skillgate_audit_errors_total', { op: 'begin' })).toBe(1)
    expect(lines[0]).toMatchObject({ level: 50, op: 'lease', detail: 'lease renewal failed: connection refused', msg: 'storage background operation failed' })
    expect(lines[2]).toMatchObject({ op: 'begin', recordId: 'r1', detail: 'disk full', msg: 'audit write failed' })
    expect(JSON.stringify(lines), 'no stack traces or error objects in the log').not.toContain('stack')
  })

  it('a failing store health check is counted as op=health and shown to /readyz', async () => {
    vi.useFakeTimers()
    const { metrics, reports } = setup()
    const storage = { health: () => Promise.reject(new Error('connection refused')) } as unknown as Storage
    const health = watchStorageHealth(storage, reports, 1_000)
    expect(health.value.ok).toBe(true)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(health.value).toEqual({ ok: false, detail: 'connection refused' })
    expect(await sample(metrics, 'skillgate_storage_errors_total', { op: 'health' })).toBe(1)
    health.stop()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(await sample(metrics, 'skillgate_storage_errors_total', { op: 'health' }), 'stopped').toBe(1)
  })
})
