import { describe, expect, it } from 'vitest'
import { boundaryOf, parseMultipart, summarize } from '../../src/mock-upstream/multipart.js'

const CRLF = '\r\n'

function body(boundary: string, parts: string[]): Buffer {
  return Buffer.from(parts.map((p) => `--${boundary}${CRLF}${p}${CRLF}`).join('') + `--${boundary}--${CRLF}`)
}

describe('multipart parser', () => {
  it('reads the boundary, quoted or not', () => {
    expect(boundaryOf('multipart/form-data; boundary=abc123')).toBe('abc123')
    expect(boundaryOf('multipart/form-data; charset=utf-8; boundary="a b;c"')).toBe('a b;c')
    expect(boundaryOf('application/json')).toBeUndefined()
    expect(boundaryOf(undefined)).toBeUndefined()
  })

  it('parses names, filenames (quoted, escaped, RFC 5987), content types and binary data', () => {
    const b = 'XyZ'
    const raw = body(b, [
      `Content-Disposition: form-data; name="display_name"${CRLF}${CRLF}Acme`,
      `Content-Disposition: form-data; name="files[]"; filename="acme/SKILL.md"${CRLF}Content-Type: text/markdown${CRLF}${CRLF}---\r\nname: acme\r\n---`,
      `content-disposition: form-data; name="file"; filename="a\\"b.txt"${CRLF}${CRLF}x`,
      `Content-Disposition: form-data; name="f"; filename="fallback.txt"; filename*=UTF-8''na%C3%AFve.txt${CRLF}${CRLF}`,
    ])
    const parts = parseMultipart(raw, b)
    expect(parts?.map((p) => [p.name, p.filename, p.contentType, p.data.toString()])).toEqual([
      ['display_name', undefined, undefined, 'Acme'],
      ['files[]', 'acme/SKILL.md', 'text/markdown', '---\r\nname: acme\r\n---'],
      ['file', 'a"b.txt', undefined, 'x'],
      ['f', 'naïve.txt', undefined, ''],
    ])
    expect(summarize(parts ?? [])[1]).toEqual({ name: 'files[]', filename: 'acme/SKILL.md', contentType: 'text/markdown', size: 20 })
  })

  it('keeps binary bytes intact', () => {
    const b = 'bin'
    const payload = Buffer.from([0, 255, 13, 10, 45, 45, 98, 105, 1])
    const raw = Buffer.concat([
      Buffer.from(`--${b}${CRLF}Content-Disposition: form-data; name="file"; filename="x.bin"${CRLF}${CRLF}`),
      payload,
      Buffer.from(`${CRLF}--${b}--${CRLF}`),
    ])
    expect(parseMultipart(raw, b)?.[0]?.data.equals(payload)).toBe(true)
  })

  it('returns undefined for malformed bodies', () => {
    expect(parseMultipart(Buffer.from('no boundary here'), 'b')).toBeUndefined()
    expect(parseMultipart(Buffer.from(`--b${CRLF}Content-Disposition: form-data; name="x"${CRLF}${CRLF}unterminated`), 'b')).toBeUndefined()
    expect(parseMultipart(Buffer.from(`--b${CRLF}Content-Type: text/plain${CRLF}${CRLF}x${CRLF}--b--`), 'b')).toBeUndefined()
  })
})
