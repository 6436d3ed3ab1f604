import { describe, expect, it } from 'vitest'
import { createMemoryReplayGuard } from '../../src/exchange/index.js'

describe('createMemoryReplayGuard', () => {
  it('admits (iss, jti) once until it expires, and keeps issuers apart', async () => {
    let now = 1_000_000
    const replay = createMemoryReplayGuard({ now: () => now })
    const exp = new Date(now + 60_000)
    expect(await replay.useOnce('https://a', 'j1', exp)).toBe(true)
    expect(await replay.useOnce('https://a', 'j1', exp)).toBe(false)
    expect(await replay.useOnce('https://b', 'j1', exp)).toBe(true)
    // Length-prefixed keys: ("https://a", "bj") is not ("https://ab", "j").
    expect(await replay.useOnce('https://a', 'bj', exp)).toBe(true)
    expect(await replay.useOnce('https://ab', 'j', exp)).toBe(true)
    now += 60_001
    expect(await replay.useOnce('https://a', 'j1', new Date(now + 60_000))).toBe(true)
  })

  it('prunes expired entries and fails closed when full of live ones', async () => {
    let now = 0
    const replay = createMemoryReplayGuard({ now: () => now, maxEntries: 2 })
    await replay.useOnce('i', 'a', new Date(10))
    await replay.useOnce('i', 'b', new Date(1_000))
    now = 20
    expect(await replay.useOnce('i', 'c', new Date(1_000))).toBe(true)
    expect(replay.size).toBe(2)
    await expect(replay.useOnce('i', 'd', new Date(1_000))).rejects.toThrow(/full/)
  })
})
