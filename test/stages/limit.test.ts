import { describe, expect, it } from 'vitest'
import type { Limiter } from '../../src/limits/index.js'
import type { StreamSlot } from '../../src/limits/stream-slot.js'
import type { RequestContext } from '../../src/pipeline/context.js'
import { limit } from '../../src/stages/limit.js'

/**
 * A client that leaves mid-stream gives its concurrent-stream slot back at once, before the stages
 * below it (the interrupted record's commit) have finished: reconnecting right away finds it free.
 */
describe('limit stage', () => {
  it('releases the stream slot as soon as the client leaves, not after the stages below finish', async () => {
    const released: string[] = []
    const slot = { lease: { key: 'k', id: 'slot-1', expiresAt: new Date(0) }, release: async () => {} } as StreamSlot
    const limiter = {
      checkBefore: async () => ({ ok: true as const, slot }),
      settle: async () => {},
      recordUsage: async () => {},
      release: async (s: StreamSlot | null) => {
        if (s !== null) released.push(s.lease.id)
      },
    } as unknown as Limiter
    const client = new AbortController()
    const ctx = {
      signal: client.signal,
      decision: { rule: 'r', principal: 'p' },
      json: { stream: true },
      log: { error: () => {} },
    } as unknown as RequestContext
    let finishBelow = () => {}
    const below = new Promise<void>((resolve) => (finishBelow = resolve))
    const running = limit(limiter, () => ({ concurrentStreams: 1 }))(ctx, () => below)
    await Promise.resolve()
    expect(released).toEqual([])
    client.abort()
    expect(released, 'released when the client left').toEqual(['slot-1'])
    finishBelow()
    await running
    // The stage's own release at the end is harmless: a slot's release is idempotent.
    expect(released).toEqual(['slot-1', 'slot-1'])
  })
})
