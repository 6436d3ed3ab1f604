import { describe, expect, it } from 'vitest'
import { compilePatternSet } from '../../src/masking/pattern-set.js'
import { detectors } from '../../src/masking/detectors/index.js'
import { IDLE_STATES } from '../../src/masking/regex/search-dfa.js'
import { findMatches } from '../../src/masking/scanner.js'
import { warmUp } from '../../src/masking/warm-up.js'
import { PLANTED, TICKET } from './helpers.js'

describe('start-up warm-up of the DFA caches', () => {
  const specs = [...Object.values(detectors), TICKET]

  it('builds the states ordinary text and secrets reach before the first request', () => {
    const { set } = compilePatternSet(specs)
    expect(set!.search.cachedStates).toBe(IDLE_STATES)
    warmUp(set!)
    const search = set!.search.cachedStates
    const runs = set!.automaton.cachedStates
    expect(search).toBeGreaterThan(IDLE_STATES)
    expect(runs).toBeGreaterThan(0)
    // A typical answer after the warm-up needs few new states (the first request stays cheap).
    const answer = `The build passed. Customer record: ${PLANTED.map((p) => p.value).join(', ')}; see OPS-77.`
    findMatches(set!, answer)
    expect(set!.search.cachedStates - search).toBeLessThan(search / 2)
  })

  it('changes no result: a warmed set and a cold one find the same regions', () => {
    const cold = compilePatternSet(specs).set!
    const warm = compilePatternSet(specs).set!
    warmUp(warm)
    const text = `mail ${PLANTED.map((p) => p.value).join(' and ')} 😀 done`
    expect(findMatches(warm, text)).toEqual(findMatches(cold, text))
    expect(findMatches(warm, text).length).toBeGreaterThanOrEqual(PLANTED.length)
  })
})
