import { describe, expect, it } from 'vitest'
import { unauthenticatedCap } from '../../src/http/unauthenticated-cap.js'

const minute = 60_000
const t0 = 1_000 * minute

describe('unauthenticatedCap (listen.unauthenticatedPerMinute)', () => {
  it('refuses an address from its Nth refusal until the minute ends, naming the seconds left', () => {
    const cap = unauthenticatedCap(3)
    expect([cap.count('a', t0), cap.count('a', t0 + 1), cap.count('a', t0 + 2)]).toEqual([false, false, true])
    expect(cap.retryAfter('a', t0 + 15_000)).toBe(45)
    expect(cap.retryAfter('b', t0 + 15_000)).toBe(0)
    expect(cap.retryAfter('a', t0 + minute)).toBe(0)
  })

  it('stays within its address bound: past it, new addresses share one count', () => {
    const cap = unauthenticatedCap(2, 3)
    for (const address of ['a', 'b', 'c']) cap.count(address, t0)
    cap.count('d', t0)
    cap.count('e', t0)
    expect(cap.retryAfter('f', t0)).toBeGreaterThan(0)
    expect(cap.retryAfter('a', t0)).toBe(0)
    // A new minute frees the entries of the last one.
    cap.count('g', t0 + minute)
    expect(cap.retryAfter('g', t0 + minute)).toBe(0)
    expect(cap.retryAfter('f', t0 + minute)).toBe(0)
  })
})
