import { describe, expect, it } from 'vitest'
import type { AuditCompletion, AuditOpening } from '../../src/audit/record.js'
import { RefusalAggregator } from '../../src/audit/refusals.js'
import { validateCompletion, validateOpening } from '../../src/audit/record-builder.js'
import { newRequestId } from '../../src/observability/request-id.js'

const minute = 60_000

function aggregator(options: { burst?: number; maxKeys?: number } = {}) {
  let now = 1_000 * minute + 5_000
  const written: Array<{ opening: AuditOpening; completion: AuditCompletion }> = []
  const refusals = new RefusalAggregator({
    record: async (opening, completion) => void written.push({ opening, completion }),
    newId: () => newRequestId(now),
    content: 'masked',
    now: () => now,
    ...options,
  })
  return { refusals, written, advance: (ms: number) => void (now += ms) }
}

const missing = (clientAddress: string) => ({ clientAddress, code: 'GW_AUTHN_MISSING', status: 401 })

describe('RefusalAggregator: unauthenticated refusals per address, code and minute', () => {
  it('10,000 refusals from one address in a minute: the burst on their own, the rest one counted record', async () => {
    const { refusals, written, advance } = aggregator({ burst: 10 })
    let own = 0
    for (let i = 0; i < 10_000; i++) {
      if (refusals.admit(missing('198.51.100.7'))) own++
      advance(1)
    }
    expect(own).toBe(10)
    expect(written).toHaveLength(0) // the minute is still running
    advance(minute)
    await refusals.flushEnded()
    expect(written).toHaveLength(1)
    const { opening, completion } = written[0]!
    expect(opening.aggregate).toMatchObject({ count: 9_990, clientAddress: '198.51.100.7' })
    expect(opening).toMatchObject({ decision: 'deny', principal: null, endpoint: 'unknown', reasons: [{ code: 'GW_AUTHN_MISSING' }] })
    expect(completion).toMatchObject({ status: 401, outcome: 'denied', error: 'GW_AUTHN_MISSING' })
    expect(validateOpening(opening)).toEqual([])
    expect(validateCompletion(completion)).toEqual([])
    expect(Date.parse(opening.aggregate!.last) - Date.parse(opening.aggregate!.first)).toBe(9_989)
  })

  it('counts each address and code apart, and starts a new burst every minute', async () => {
    const { refusals, written, advance } = aggregator({ burst: 2 })
    const admitted = (clientAddress: string, code = 'GW_AUTHN_MISSING') => refusals.admit({ clientAddress, code, status: 401 })
    expect([admitted('a'), admitted('a'), admitted('a'), admitted('b'), admitted('a', 'GW_AUTHN_INVALID')]).toEqual([true, true, false, true, true])
    advance(minute)
    // The next refusal writes the minute that ended.
    expect(admitted('a')).toBe(true)
    await refusals.flushEnded()
    expect(written.map((w) => [w.opening.aggregate?.clientAddress, w.opening.aggregate?.count])).toEqual([['a', 1]])
  })

  it('close() writes the running minute too; nothing is written for a minute within its burst', async () => {
    const { refusals, written } = aggregator({ burst: 1 })
    refusals.admit(missing('a'))
    refusals.admit(missing('a'))
    refusals.admit(missing('b'))
    await refusals.close()
    expect(written.map((w) => w.opening.aggregate?.clientAddress)).toEqual(['a'])
  })

  it('bounds its memory: past maxKeys, new addresses share one "*" tally', async () => {
    const { refusals, written } = aggregator({ burst: 0, maxKeys: 2 })
    for (const address of ['a', 'b', 'c', 'd', 'e']) refusals.admit(missing(address))
    await refusals.close()
    expect(written.map((w) => [w.opening.aggregate?.clientAddress, w.opening.aggregate?.count]).sort()).toEqual([
      ['*', 3],
      ['a', 1],
      ['b', 1],
    ])
  })

  it('a failed write is reported, never thrown at the request', async () => {
    const errors: Error[] = []
    const refusals = new RefusalAggregator({ record: () => Promise.reject(new Error('store down')), newId: () => newRequestId(), content: 'masked', burst: 0, onError: (e) => errors.push(e) })
    refusals.admit(missing('a'))
    await refusals.close()
    expect(errors.map((e) => e.message)).toEqual(['store down'])
  })
})
