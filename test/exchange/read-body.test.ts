/**
 * The token endpoint's body deadline (issue #13 item 4): a body that stops arriving, or trickles in
 * forever, is refused; the clock is vitest's, so nothing waits for real.
 */
import { PassThrough } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { bodyRefusedResponse, readBody, type BodyResult } from '../../src/exchange/index.js'

const limits = { maxBytes: 64, idleMs: 5_000, deadlineMs: 10_000 }

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

function track(promise: Promise<BodyResult>): { result: BodyResult | undefined } {
  const state: { result: BodyResult | undefined } = { result: undefined }
  void promise.then((result) => (state.result = result))
  return state
}

describe('token endpoint body deadline', () => {
  it('reads a body that arrives in time', async () => {
    const stream = new PassThrough()
    const reading = readBody(stream, limits)
    stream.write('grant_type=')
    await vi.advanceTimersByTimeAsync(4_000)
    stream.end('x')
    await expect(reading).resolves.toEqual({ ok: true, body: Buffer.from('grant_type=x') })
  })

  it('refuses a body that stops arriving', async () => {
    const stream = new PassThrough()
    const state = track(readBody(stream, limits))
    stream.write('a')
    await vi.advanceTimersByTimeAsync(4_999)
    expect(state.result).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(state.result).toEqual({ ok: false, reason: 'timeout' })
  })

  it('refuses a body that keeps trickling (one byte every 4 s) at the overall deadline', async () => {
    const stream = new PassThrough()
    const state = track(readBody(stream, limits))
    for (let i = 0; i < 2; i++) {
      stream.write('a')
      await vi.advanceTimersByTimeAsync(4_000)
    }
    stream.write('a')
    expect(state.result).toBeUndefined()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(state.result).toEqual({ ok: false, reason: 'timeout' })
  })

  it('refuses a body over the size cap, and one the client abandons', async () => {
    const big = new PassThrough()
    const tooLarge = readBody(big, limits)
    big.write(Buffer.alloc(65))
    await expect(tooLarge).resolves.toEqual({ ok: false, reason: 'too_large' })
    const gone = new PassThrough()
    const aborted = readBody(gone, limits)
    gone.destroy()
    await expect(aborted).resolves.toEqual({ ok: false, reason: 'aborted' })
  })

  it('answers a timeout with 408 in OAuth form and closes the connection', () => {
    const response = bodyRefusedResponse('timeout')
    expect(response.status).toBe(408)
    expect(response.headers).toMatchObject({ connection: 'close', 'cache-control': 'no-store' })
    expect(JSON.parse(response.body)).toEqual({ error: 'invalid_request', error_description: 'request body not received in time' })
  })
})
