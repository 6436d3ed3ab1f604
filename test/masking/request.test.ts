import { describe, expect, it } from 'vitest'
import { compileMasker, MaskingConfigError } from '../../src/masking/index.js'
import { defaultMasker, PLANTED } from './helpers.js'

const BLOCK = ['aws-access-key', 'private-key', 'anthropic-key']
const masker = defaultMasker()
const pem = PLANTED.find((p) => p.detector === 'private-key')!.value

const request = {
  model: 'claude-sonnet-4-6',
  max_tokens: 100,
  system: [{ type: 'text', text: 'You deploy with AKIAIOSFODNN7EXAMPLE' }],
  mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'x', authorization_token: 'sk-ant-api03-this-is-a-legit-credential-aaaa' }],
  messages: [
    { role: 'user', content: 'plain string, mail bob@example.com' },
    { role: 'assistant', content: [{ type: 'thinking', thinking: 'AKIAIOSFODNN7EXAMPLE', signature: 's' }, { type: 'tool_use', id: 't1', name: 'run', input: { cmd: 'echo AKIAIOSFODNN7EXAMPLE' } }] },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: `found:\n${pem}` }] },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'no secrets here' }, title: 'notes' },
        { type: 'document', source: { type: 'content', content: [{ type: 'text', text: 'ASIAY34FZKBOKMUTVV7A' }] } },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AKIAIOSFODNN7EXAMPLE' } },
      ],
    },
  ],
}

describe('scanRequest (masking.requests.block)', () => {
  it('finds blocked secrets in system, messages, tool results and documents; says where, never what', () => {
    const { hits, findings } = masker.scanRequest(request, BLOCK)
    expect(hits).toEqual({ 'aws-access-key': 2, 'private-key': 1 })
    expect(findings).toEqual([
      { detector: 'aws-access-key', path: 'system[0].text' },
      { detector: 'private-key', path: 'messages[2].content[0].content[0].text' },
      { detector: 'aws-access-key', path: 'messages[2].content[2].source.content[0].text' },
    ])
    expect(JSON.stringify(findings)).not.toContain('AKIA')
  })

  it('uses only the detectors asked for (email is not blocked here)', () => {
    expect(masker.scanRequest({ messages: [{ role: 'user', content: 'bob@example.com' }] }, BLOCK).hits).toEqual({})
    expect(masker.scanRequest({ messages: [{ role: 'user', content: 'bob@example.com' }] }, ['email']).hits).toEqual({ email: 1 })
  })

  it('tolerates bodies of any shape', () => {
    for (const body of [null, 'x', 42, [], {}, { messages: 'x' }, { messages: [null, { content: [null, 5] }] }, { system: 7 }]) {
      expect(masker.scanRequest(body, BLOCK).hits).toEqual({})
    }
  })
})

describe('maskRequest', () => {
  it('masks the same places copy-on-write and leaves the input untouched', () => {
    const before = JSON.stringify(request)
    const { body, changed, hits } = masker.maskRequest(request, BLOCK)
    expect(JSON.stringify(request)).toBe(before)
    expect(changed).toBe(true)
    expect(hits).toEqual({ 'aws-access-key': 2, 'private-key': 1 })
    const masked = body as typeof request
    expect(masked.system[0]!.text).toBe('You deploy with [REDACTED:aws-access-key]')
    expect(masked.messages[1]).toBe(request.messages[1])
    expect(masked.mcp_servers).toBe(request.mcp_servers)
    expect(JSON.stringify(masked.messages[2])).toContain('found:\\n[REDACTED:private-key]')
  })

  it('returns the same object when nothing matched', () => {
    const clean = { messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] }
    const result = masker.maskRequest(clean, BLOCK)
    expect(result.body).toBe(clean)
    expect(result.changed).toBe(false)
  })

  it('compiles request detector sets once, and rejects unknown names', () => {
    const m = compileMasker([{ patterns: [{ name: 'ticket', regex: 'OPS-[0-9]+', maxLength: 12 }] }], { thinking: 'keep', requestDetectors: [BLOCK] })
    expect(m.scanRequest({ system: 'OPS-12 AKIAIOSFODNN7EXAMPLE' }, ['ticket', 'aws-access-key']).hits).toEqual({ ticket: 1, 'aws-access-key': 1 })
    expect(() => m.scanRequest({}, ['nope'])).toThrow(MaskingConfigError)
  })
})
