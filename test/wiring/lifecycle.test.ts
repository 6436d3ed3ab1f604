import { createServer } from 'node:http'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createLifecycle } from '../../src/http/lifecycle.js'

const deferred = () => {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

describe('http lifecycle', () => {
  it('settledInFlight waits for the requests in flight now, not for later ones', async () => {
    const lifecycle = createLifecycle(createServer(), pino({ level: 'silent' }))
    const early = deferred()
    lifecycle.track(early.promise)
    let settled = false
    const waiting = lifecycle.settledInFlight().then(() => (settled = true))
    const late = deferred()
    lifecycle.track(late.promise)
    await new Promise((r) => setImmediate(r))
    expect(settled).toBe(false)
    early.resolve()
    await waiting
    expect(settled, 'the later request is still running').toBe(true)
    late.resolve()
  })

  it('a failed request counts as finished, and its error is logged rather than left unhandled', async () => {
    const lines: string[] = []
    const lifecycle = createLifecycle(createServer(), pino({ level: 'error' }, { write: (line: string) => lines.push(line) }))
    lifecycle.track(Promise.reject(new Error('handler failed')))
    await expect(lifecycle.settledInFlight()).resolves.toBeUndefined()
    expect(lines.join('')).toContain('request handler failed')
  })
})
