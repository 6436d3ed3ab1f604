import { describe, expect, it } from 'vitest'
import { shouldTuneHeap, tuneHeapGrowth } from '../../src/wiring/heap.js'

describe('heap growth', () => {
  it('is set by the gateway when the operator gave no heap flag', () => {
    expect(shouldTuneHeap([], '')).toBe(true)
    expect(shouldTuneHeap(['--enable-source-maps'], '--require ./otel.js --max-http-header-size=16384')).toBe(true)
  })

  it("keeps the operator's heap sizing, on the command line or in NODE_OPTIONS, either spelling", () => {
    for (const flag of ['--max-old-space-size=512', '--max_old_space_size=512', '--heap-growing-percent=50', '--max-semi-space-size=64', '--optimize-for-size', '--max-heap-size=1024', '--initial-old-space-size=64', '--min-semi-space-size=4', '--max-young-generation-size=48']) {
      expect(shouldTuneHeap([flag], ''), flag).toBe(false)
      expect(shouldTuneHeap([], `--enable-source-maps ${flag}`), flag).toBe(false)
    }
    // A flag that merely starts alike is not a heap flag.
    expect(shouldTuneHeap(['--max-old-space-size-typo-is-not-ours'], '')).toBe(true)
  })

  it('sets the flag once per process', () => {
    expect(tuneHeapGrowth(['--max-old-space-size=512'], '')).toBe(false)
    expect(tuneHeapGrowth([], '')).toBe(true)
    expect(tuneHeapGrowth([], '')).toBe(false)
  })
})
