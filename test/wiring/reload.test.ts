import { afterEach, describe, expect, it, vi } from 'vitest'
import { pino } from 'pino'
import type { Generation } from '../../src/wiring/generation.js'
import { holdGenerations } from '../../src/wiring/reload.js'

/** A generation that only records whether it was installed and closed. */
const fakeGeneration = (name: string) => {
  const state = { closed: 0 }
  const generation = { config: { source: name }, close: () => (state.closed += 1) } as unknown as Generation
  return { generation, state }
}

const deferred = () => {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

const logger = pino({ level: 'silent' })
const turn = () => new Promise((r) => setImmediate(r))

afterEach(() => vi.useRealTimers())

describe('holdGenerations (configuration reload)', () => {
  it('installs the first generation, then each replacement at once', () => {
    const installed: string[] = []
    const first = fakeGeneration('a')
    const generations = holdGenerations(first.generation, { settledInFlight: () => new Promise(() => undefined), graceMs: 60_000, install: (g) => installed.push(g.config.source), logger })
    const second = fakeGeneration('b')
    generations.replace(second.generation)
    expect(installed).toEqual(['a', 'b'])
    expect(generations.current).toBe(second.generation)
    generations.closeAll()
  })

  it('closes the replaced generation only after the requests in flight at the swap have finished', async () => {
    const inFlight = deferred()
    const first = fakeGeneration('a')
    const generations = holdGenerations(first.generation, { settledInFlight: () => inFlight.promise, graceMs: 60_000, install: () => undefined, logger })
    generations.replace(fakeGeneration('b').generation)
    await turn()
    expect(first.state.closed, 'a request in flight may still use it').toBe(0)
    inFlight.resolve()
    await turn()
    expect(first.state.closed).toBe(1)
  })

  it('closes it after the grace even when a request never finishes', async () => {
    vi.useFakeTimers()
    const first = fakeGeneration('a')
    const generations = holdGenerations(first.generation, { settledInFlight: () => new Promise(() => undefined), graceMs: 5_000, install: () => undefined, logger })
    generations.replace(fakeGeneration('b').generation)
    await vi.advanceTimersByTimeAsync(4_999)
    expect(first.state.closed).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(first.state.closed).toBe(1)
  })

  it('closes current and retiring generations exactly once on shutdown', async () => {
    const inFlight = deferred()
    const first = fakeGeneration('a')
    const second = fakeGeneration('b')
    const generations = holdGenerations(first.generation, { settledInFlight: () => inFlight.promise, graceMs: 60_000, install: () => undefined, logger })
    generations.replace(second.generation)
    generations.closeAll()
    expect([first.state.closed, second.state.closed]).toEqual([1, 1])
    inFlight.resolve()
    await turn()
    expect(first.state.closed, 'not closed again when its requests finish').toBe(1)
  })
})
