import { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import { setImmediate as turn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { holdOutputWhile, Outbox, type HoldsOutput } from '../../src/response/outbox.js'

/** The part of a ServerResponse the outbox uses, recording each write. */
class FakeResponse extends EventEmitter {
  writes: string[] = []
  ended: string | undefined
  headersSent = false
  writableEnded = false
  destroyed = false
  accepting = true
  write(chunk: Uint8Array): boolean {
    this.headersSent = true
    this.writes.push(Buffer.from(chunk).toString())
    return this.accepting
  }
  end(chunk?: Uint8Array): void {
    this.headersSent = true
    this.writableEnded = true
    this.ended = chunk ? Buffer.from(chunk).toString() : ''
  }
  flushHeaders(): void {
    this.headersSent = true
    this.writes.push('<headers>')
  }
  cork(): void {}
  uncork(): void {}
}

const outboxOf = (holder?: HoldsOutput) => {
  const res = new FakeResponse()
  return { res, out: new Outbox(res as unknown as ServerResponse, holder ? () => holder.outputHold : undefined) }
}

/** A promise settled by hand, like a store commit the test decides the end of. */
function commit(): { promise: Promise<void>; settle(): void; fail(): void } {
  let settle!: () => void
  let fail!: () => void
  const promise = new Promise<void>((resolve, reject) => {
    settle = resolve
    fail = () => reject(new Error('commit failed'))
  })
  return { promise, settle, fail }
}
const bytes = (text: string) => Buffer.from(text)

describe('Outbox', () => {
  it('sends the headers in the turn they were set even when nothing follows', async () => {
    const { res } = outboxOf()
    await turn()
    expect(res.writes).toEqual(['<headers>'])
  })

  it('writes the events of one turn together, and an event that comes alone in its own turn', async () => {
    const { res, out } = outboxOf()
    out.add(bytes('a'))
    out.add(bytes('b'))
    expect(res.writes).toEqual([])
    await turn()
    expect(res.writes).toEqual(['ab'])
    out.add(bytes('c'))
    await turn()
    expect(res.writes).toEqual(['ab', 'c'])
  })

  it('ends with what is still queued in the same write as the end', () => {
    const { res, out } = outboxOf()
    out.add(bytes('a'))
    out.add(bytes('b'))
    out.end()
    expect(res.writes).toEqual([])
    expect(res.ended).toBe('ab')
  })

  it('waits for drain once the client stops reading, and stops waiting when it goes away', async () => {
    const { res, out } = outboxOf()
    res.accepting = false
    expect(out.add(bytes('a'))).toBeUndefined()
    await turn()
    const blocked = out.add(bytes('b'))
    expect(blocked).toBeInstanceOf(Promise)
    res.emit('drain')
    await blocked
    expect(out.add(bytes('c'))).toBeUndefined()
    await turn()
    const again = out.add(bytes('d'))
    res.emit('close')
    await again
  })

  it('writes at once past 64 KiB without waiting for the turn to end', () => {
    const { res, out } = outboxOf()
    out.add(Buffer.alloc(40 * 1024, 'x'))
    expect(res.writes).toHaveLength(0)
    out.add(Buffer.alloc(40 * 1024, 'y'))
    expect(res.writes).toHaveLength(2)
  })

  it('drops what is queued once the response is destroyed', async () => {
    const { res, out } = outboxOf()
    out.add(bytes('a'))
    res.destroyed = true
    await turn()
    expect(res.writes).toEqual([])
  })

  it('keeps what is queued while a stage holds for a commit, and sends it with the end in one write', async () => {
    const holder: HoldsOutput = {}
    const { res, out } = outboxOf(holder)
    out.add(bytes('a'))
    out.add(bytes('b'))
    const last = commit()
    const held = holdOutputWhile(holder, last.promise)
    await turn()
    await turn()
    expect(res.writes).toEqual([])
    last.settle()
    await held
    expect(holder.outputHold).toBeUndefined()
    out.add(bytes('c'))
    out.end()
    expect(res.ended).toBe('abc')
    await turn()
    await turn()
    expect(res.writes).toEqual([])
  })

  it('holds the headers too, and writes what is queued a turn after a hold that failed', async () => {
    const holder: HoldsOutput = {}
    const { res, out } = outboxOf(holder)
    const owner = commit()
    const held = holdOutputWhile(holder, owner.promise)
    await turn()
    expect(res.writes).toEqual([])
    out.add(bytes('a'))
    owner.fail()
    await expect(held).rejects.toThrow('commit failed')
    await turn()
    expect(res.writes).toEqual(['a'])
  })

  it('waits for at most four holds in a row, then writes', async () => {
    const holder: HoldsOutput = {}
    const { res, out } = outboxOf(holder)
    out.add(bytes('a'))
    for (let i = 0; i < 4; i++) {
      const c = commit()
      const held = holdOutputWhile(holder, c.promise)
      await turn()
      expect(res.writes).toEqual([])
      c.settle()
      // The stage holds again at once, before the outbox's next turn.
      await held
    }
    const fifth = commit()
    void holdOutputWhile(holder, fifth.promise)
    await turn()
    await turn()
    expect(res.writes).toEqual(['a'])
    fifth.settle()
  })
})
