/**
 * JSON Lines answers (batch results), parsed at most once per line however many stages read them
 * (issue #15): own-responses (containers and files each message names) and mask-downloads (each
 * message masked) both pass blocks of whole lines, the same Buffer object from one stage to the
 * next, and ask `linesOf(block)` for its lines, whose JSON is parsed on first use and memoised.
 */
const NEWLINE = 0x0a
const UNPARSED: unique symbol = Symbol('unparsed')
const INVALID: unique symbol = Symbol('invalid JSON')

export class ObservedLine {
  #json: unknown = UNPARSED
  /** The line without its newline. */
  constructor(readonly bytes: Buffer) {}

  /** True for an empty or whitespace-only line (JSONL allows a trailing one). */
  get blank(): boolean {
    return this.bytes.toString('latin1').trim() === ''
  }

  /** The line's JSON; undefined when it is not JSON. Readers must not mutate it. */
  get json(): unknown {
    if (this.#json === UNPARSED) {
      try {
        this.#json = JSON.parse(this.bytes.toString('utf8')) as unknown
      } catch {
        this.#json = INVALID
      }
    }
    return this.#json === INVALID ? undefined : this.#json
  }
}

const lines = new WeakMap<Uint8Array, readonly ObservedLine[]>()

/** The lines of a block (the last may lack its newline), memoised for the block object. */
export function linesOf(block: Buffer): readonly ObservedLine[] {
  let found = lines.get(block)
  if (found === undefined) {
    const split: ObservedLine[] = []
    let start = 0
    while (start < block.length) {
      const end = block.indexOf(NEWLINE, start)
      const stop = end === -1 ? block.length : end
      split.push(new ObservedLine(block.subarray(start, stop)))
      start = stop + 1
    }
    lines.set(block, (found = split))
  }
  return found
}

/**
 * Re-chunks a byte stream into blocks of whole lines (and a last partial line at the end). A chunk
 * that already ends a line is passed on as the same object, so the next stage's `linesOf` finds
 * the lines this one parsed.
 */
export async function* wholeLineBlocks(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let pending: Buffer | undefined
  for await (const chunk of chunks) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (bytes.length === 0) continue
    if (pending === undefined && bytes[bytes.length - 1] === NEWLINE) {
      yield bytes
      continue
    }
    const joined: Buffer = pending === undefined ? Buffer.from(bytes) : Buffer.concat([pending, bytes])
    const last = joined.lastIndexOf(NEWLINE)
    if (last === -1) {
      pending = joined
      continue
    }
    pending = last + 1 < joined.length ? joined.subarray(last + 1) : undefined
    yield joined.subarray(0, last + 1)
  }
  if (pending !== undefined) yield pending
}
