/**
 * Reads the event name and data of one whole SSE event (as framed by `SseFramer`), per the WHATWG
 * rules: lines end in CRLF, LF or CR; `data:` lines join with "\n"; one leading space after the
 * colon is dropped; comment lines (":") are ignored. The name defaults to "message".
 */
export interface SseEvent {
  readonly event: string
  readonly data: string
}

export function parseSseEvent(raw: Uint8Array): SseEvent {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
  let event = 'message'
  const data: string[] = []
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
  }
  return { event, data: data.join('\n') }
}

/** Frames one event; names and data are checked so a value can never inject another event. */
export function serializeSseEvent(event: string, data: string): Buffer {
  if (/[\r\n]/.test(event)) throw new Error('SSE event name must not contain CR or LF')
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`)
  return Buffer.from(`event: ${event}\n${lines.join('')}\n`)
}
