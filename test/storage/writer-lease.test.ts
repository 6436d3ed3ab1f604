import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AuditOp } from '../../src/audit/batch-plan.js'
import { WriterLease, type WriterOptions } from '../../src/storage/writer-lease.js'

const begin = { kind: 'begin' } as AuditOp

function options(onError: WriterOptions['onError']): WriterOptions {
  return { writerId: 'w1', leaseMs: 300, now: () => new Date(1_000), delayMs: 0, maxBatch: 16, onError }
}

describe('WriterLease', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('reports a failed timer renewal to onError and keeps renewing', async () => {
    vi.useFakeTimers()
    const errors: Array<[string, Error]> = []
    let calls = 0
    const lease = new WriterLease(options((op, error) => errors.push([op, error])), () => {
      calls += 1
      if (calls === 1) throw new Error('store down')
    })
    lease.track([begin], [{ ok: true, value: undefined }])
    await vi.advanceTimersByTimeAsync(100)
    expect(errors).toEqual([['writer-lease', new Error('store down')]])
    await vi.advanceTimersByTimeAsync(100)
    expect(calls).toBe(2)
    expect(errors).toHaveLength(1)
    lease.stop()
  })

  it('renews only while it has open records', async () => {
    vi.useFakeTimers()
    let calls = 0
    const lease = new WriterLease(options(() => undefined), () => (calls += 1))
    lease.track([begin], [{ ok: true, value: undefined }])
    await vi.advanceTimersByTimeAsync(100)
    lease.track([{ kind: 'complete' } as AuditOp], [{ ok: true, value: undefined }])
    await vi.advanceTimersByTimeAsync(500)
    expect(calls).toBe(1)
  })
})
