/**
 * The connector rewrite's edit of a Messages body, done on the bytes: only the `url` value of the
 * rewritten `mcp_servers[]` entries changes and an `authorization_token` member is appended to each
 * of them; every other byte (whitespace, key order, number spelling, escapes, other servers) is
 * forwarded exactly as the client sent it. Works on the UTF-8 bytes, not on a decoded string, so
 * even a body a decoder would alter passes through untouched: every byte it looks for is ASCII.
 *
 * Only called on a body `parseJsonBody` accepted (well-formed, no duplicate member), which is what
 * lets the scanner below skip values without validating them.
 */

/** What to change in `mcp_servers[index]`: its new `url` and the `authorization_token` to add. */
export interface ServerEdit {
  readonly index: number
  readonly url: string
  readonly authorizationToken: string
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

interface Splice {
  readonly start: number
  readonly end: number
  readonly text: string
}

/**
 * Applies `edits` to a top-level `mcp_servers` array. Throws when an edited entry is missing, has no
 * string `url`, or already carries an `authorization_token` (the stage refuses those first).
 * @example rewriteServers(Buffer.from('{"mcp_servers":[{"url":"skillgate:gh"}]}'), [{ index: 0, url: 'https://gw/mcp/gh', authorizationToken: 't' }])
 * // {"mcp_servers":[{"url":"https://gw/mcp/gh","authorization_token":"t"}]}
 */
export function rewriteServers(body: Buffer, edits: readonly ServerEdit[]): Buffer {
  if (edits.length === 0) return body
  const byIndex = new Map(edits.map((edit) => [edit.index, edit]))
  const splices: Splice[] = []
  const scan = new Scanner(body)
  scan.expect(OPEN_BRACE)
  scan.members((key) => {
    if (key !== 'mcp_servers' || scan.peek() !== OPEN_BRACKET) return scan.skipValue()
    scan.elements((index) => {
      const edit = byIndex.get(index)
      if (edit === undefined || scan.peek() !== OPEN_BRACE) return scan.skipValue()
      splices.push(...editServer(scan, edit))
      byIndex.delete(index)
    })
  })
  if (byIndex.size > 0) throw new Error('an edited mcp_servers entry is not an object in the body')
  return applySplices(body, splices)
}

function editServer(scan: Scanner, edit: ServerEdit): Splice[] {
  const out: Splice[] = []
  let sawUrl = false
  scan.expect(OPEN_BRACE)
  scan.members((key) => {
    if (key === 'authorization_token') throw new Error('the entry already has an authorization_token')
    const start = scan.at
    scan.skipValue()
    if (key === 'url') {
      if (scan.byteAt(start) !== QUOTE) throw new Error('the entry url is not a string')
      out.push({ start, end: scan.at, text: JSON.stringify(edit.url) })
      sawUrl = true
    }
  })
  if (!sawUrl) throw new Error('the entry has no url')
  // Before the closing brace (the scanner stopped on it): the entry has at least `url`, so a comma leads.
  const close = scan.at - 1
  out.push({ start: close, end: close, text: `,"authorization_token":${JSON.stringify(edit.authorizationToken)}` })
  return out
}

function applySplices(body: Buffer, splices: readonly Splice[]): Buffer {
  const sorted = [...splices].sort((a, b) => a.start - b.start)
  const parts: Buffer[] = []
  let from = 0
  for (const splice of sorted) {
    parts.push(body.subarray(from, splice.start), Buffer.from(splice.text, 'utf8'))
    from = splice.end
  }
  parts.push(body.subarray(from))
  return Buffer.concat(parts)
}

/** A forward-only reader over well-formed JSON bytes. */
class Scanner {
  at = 0
  constructor(private readonly bytes: Buffer) {}

  byteAt(i: number): number | undefined {
    return this.bytes[i]
  }

  peek(): number | undefined {
    this.skipSpace()
    return this.bytes[this.at]
  }

  expect(byte: number): void {
    if (this.peek() !== byte) throw new Error(`expected ${String.fromCharCode(byte)} at byte ${this.at}`)
    this.at += 1
  }

  /** Calls `visit` with each member name, positioned at its value; `visit` must consume the value. Leaves `at` after `}`. */
  members(visit: (key: string) => void): void {
    if (this.peek() === CLOSE_BRACE) {
      this.at += 1
      return
    }
    for (;;) {
      const start = this.at
      this.skipString()
      const key = JSON.parse(this.bytes.toString('utf8', start, this.at)) as string
      this.expect(COLON)
      this.skipSpace()
      visit(key)
      const next = this.peek()
      this.at += 1
      if (next === CLOSE_BRACE) return
      if (next !== COMMA) throw new Error(`expected , or } at byte ${this.at - 1}`)
      this.skipSpace()
    }
  }

  /** Calls `visit` with each element's index, positioned at it; `visit` must consume it. Leaves `at` after `]`. */
  elements(visit: (index: number) => void): void {
    this.expect(OPEN_BRACKET)
    if (this.peek() === CLOSE_BRACKET) {
      this.at += 1
      return
    }
    for (let index = 0; ; index += 1) {
      this.skipSpace()
      visit(index)
      const next = this.peek()
      this.at += 1
      if (next === CLOSE_BRACKET) return
      if (next !== COMMA) throw new Error(`expected , or ] at byte ${this.at - 1}`)
    }
  }

  skipValue(): void {
    const first = this.peek()
    if (first === QUOTE) return this.skipString()
    if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
      // A number, true, false or null: runs until a delimiter.
      while (this.at < this.bytes.length && !isDelimiter(this.bytes[this.at] as number)) this.at += 1
      return
    }
    let depth = 0
    do {
      const byte = this.bytes[this.at] as number
      if (byte === QUOTE) {
        this.skipString()
        continue
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth += 1
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth -= 1
      this.at += 1
    } while (depth > 0 && this.at < this.bytes.length)
  }

  private skipString(): void {
    if (this.bytes[this.at] !== QUOTE) throw new Error(`expected a string at byte ${this.at}`)
    let i = this.at + 1
    for (;;) {
      const byte = this.bytes[i]
      if (byte === undefined) throw new Error('unterminated string')
      if (byte === BACKSLASH) i += 2
      else if (byte === QUOTE) break
      else i += 1
    }
    this.at = i + 1
  }

  private skipSpace(): void {
    while (this.at < this.bytes.length && isSpace(this.bytes[this.at] as number)) this.at += 1
  }
}

const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
const isDelimiter = (byte: number) => byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isSpace(byte)
