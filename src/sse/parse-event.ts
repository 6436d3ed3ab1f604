/**
 * Reads the event name and data of one whole SSE event (as framed by `SseFramer`), per the WHATWG
 * rules: lines end in CRLF, LF or CR; `data:` lines join with "\n"; one leading space after the
 * colon is dropped; comment lines (":") are ignored. The name defaults to "message".
 */
export interface SseEvent {
  readonly event: string
  readonly data: string
}

/**
 * One pass over the decoded text with `indexOf` (no regex split, no array per line): this runs
 * once for every event of every stream, so it is the floor of the SSE path's cost.
 */
export function parseSseEvent(raw: Uint8Array): SseEvent {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  return fastPath(bytes) ?? parseText(bytes.toString('utf8'))
}

const LF = 0x0a
const CR = 0x0d

/** `prefix` (ASCII) at `at` in `bytes`: compared byte by byte, cheaper than a native call this short. */
function startsWith(bytes: Buffer, at: number, prefix: string): boolean {
  if (at + prefix.length > bytes.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix.charCodeAt(i)) return false
  return true
}

/**
 * What the Messages API (and almost every server) sends: `event: NAME\ndata: ONE LINE\n\n`, LF
 * only. Found with a few searches on the bytes; only the name and the data are decoded. Anything
 * else (CR, comments, several data lines, no space after the colon) takes the general path.
 */
function fastPath(bytes: Buffer): SseEvent | undefined {
  const length = bytes.length
  if (bytes[length - 1] !== LF || bytes[length - 2] !== LF || !startsWith(bytes, 0, 'event: ')) return undefined
  const nameEnd = bytes.indexOf(LF, 7)
  const dataStart = nameEnd + 7
  if (!startsWith(bytes, nameEnd + 1, 'data: ') || bytes.indexOf(LF, dataStart) !== length - 2 || bytes.indexOf(CR) !== -1) return undefined
  return { event: bytes.toString('utf8', 7, nameEnd), data: bytes.toString('utf8', dataStart, length - 2) }
}

function parseText(text: string): SseEvent {
  let event = 'message'
  let data: string | undefined
  let start = 0
  const length = text.length
  while (start < length) {
    let end = start
    // Line end: the first CR or LF (CRLF counts once, handled when skipping below).
    while (end < length) {
      const code = text.charCodeAt(end)
      if (code === 0x0a || code === 0x0d) break
      end++
    }
    if (end > start && text.charCodeAt(start) !== 0x3a) {
      const colon = text.indexOf(':', start)
      const hasValue = colon !== -1 && colon < end
      const fieldEnd = hasValue ? colon : end
      let valueStart = hasValue ? colon + 1 : end
      if (valueStart < end && text.charCodeAt(valueStart) === 0x20) valueStart++
      const fieldLength = fieldEnd - start
      if (fieldLength === 4 && text.startsWith('data', start)) {
        const value = text.slice(valueStart, end)
        data = data === undefined ? value : `${data}\n${value}`
      } else if (fieldLength === 5 && text.startsWith('event', start)) {
        event = text.slice(valueStart, end)
      }
    }
    start = end + (text.charCodeAt(end) === 0x0d && text.charCodeAt(end + 1) === 0x0a ? 2 : 1)
  }
  return { event, data: data ?? '' }
}

const LINE_BREAK = /[\r\n]/

/**
 * Frames an event whose data is `JSON.stringify` output, which never holds a raw CR or LF (they
 * are escaped): one data line, no scan of the data. The name is still checked.
 */
export function serializeJsonEvent(event: string, json: string): Buffer {
  if (LINE_BREAK.test(event)) throw new Error('SSE event name must not contain CR or LF')
  return Buffer.from(`event: ${event}\ndata: ${json}\n\n`)
}

/** Frames one event; names and data are checked so a value can never inject another event. */
export function serializeSseEvent(event: string, data: string): Buffer {
  if (LINE_BREAK.test(event)) throw new Error('SSE event name must not contain CR or LF')
  // JSON text (what the gateway re-frames) has no raw line breaks: one data line.
  if (!LINE_BREAK.test(data)) return Buffer.from(`event: ${event}\ndata: ${data}\n\n`)
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`)
  return Buffer.from(`event: ${event}\n${lines.join('')}\n`)
}
