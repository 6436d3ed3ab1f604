/** Masking of tool results (issue #19 item 4): what is content is masked, what is structure passes. */
import { describe, expect, it } from 'vitest'
import { compileMasker } from '../../src/masking/index.js'
import { maskToolResult, ResultMaskingError } from '../../src/mcp/result-masking.js'

const masker = compileMasker([{ detectors: ['email'] }], { thinking: 'keep' })
const email = 'bob.jones@example.org'

describe('maskToolResult', () => {
  it('masks text blocks, embedded text resources and every structuredContent string; counts hits', () => {
    const result = {
      content: [
        { type: 'text', text: `owner ${email}` },
        { type: 'resource', resource: { uri: 'file:///a.txt', mimeType: 'text/plain', text: `cc ${email}` } },
        { type: 'image', data: 'aGVsbG8=', mimeType: 'image/png' },
      ],
      structuredContent: { people: [{ email, age: 40 }], note: null },
      isError: false,
    }
    const { result: masked, hits } = maskToolResult(result, masker)
    expect(masked).toEqual({
      content: [
        { type: 'text', text: 'owner [REDACTED:email]' },
        { type: 'resource', resource: { uri: 'file:///a.txt', mimeType: 'text/plain', text: 'cc [REDACTED:email]' } },
        { type: 'image', data: 'aGVsbG8=', mimeType: 'image/png' },
      ],
      structuredContent: { people: [{ email: '[REDACTED:email]', age: 40 }], note: null },
      isError: false,
    })
    expect(hits).toEqual({ email: 3 })
    expect(result.content[0]).toEqual({ type: 'text', text: `owner ${email}` }) // the input is not changed
  })

  it('without profiles the result passes unchanged; a result nested beyond reason is withheld', () => {
    expect(maskToolResult({ content: [{ type: 'text', text: email }] }, undefined).result).toEqual({ content: [{ type: 'text', text: email }] })
    let deep: unknown = 'x'
    for (let i = 0; i < 100; i++) deep = [deep]
    expect(() => maskToolResult({ structuredContent: deep }, masker)).toThrow(ResultMaskingError)
  })
})
