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
  it('finds blocked secrets in every string but the opaque ones; says where, never what', () => {
    const { hits, findings } = masker.scanRequest(request, BLOCK)
    // Opaque and not scanned: the MCP credential, the signature, the id, the binary image data.
    expect(hits).toEqual({ 'aws-access-key': 4, 'private-key': 1 })
    expect(findings).toEqual([
      { detector: 'aws-access-key', path: 'system[0].text' },
      { detector: 'aws-access-key', path: 'messages[1].content[0].thinking' },
      { detector: 'aws-access-key', path: 'messages[1].content[1].input.cmd' },
      { detector: 'private-key', path: 'messages[2].content[0].content[0].text' },
      { detector: 'aws-access-key', path: 'messages[2].content[2].source.content[0].text' },
    ])
    expect(JSON.stringify(findings)).not.toContain('AKIA')
  })

  it.each([
    ['a tool description', { tools: [{ name: 'deploy', description: 'uses AKIAIOSFODNN7EXAMPLE', input_schema: { type: 'object' } }] }, 'tools[0].description'],
    ['a stop sequence', { stop_sequences: ['AKIAIOSFODNN7EXAMPLE'] }, 'stop_sequences[0]'],
    ['metadata', { metadata: { user_id: 'u', note: 'AKIAIOSFODNN7EXAMPLE' } }, 'metadata.note'],
    ['a batch entry', { requests: [{ custom_id: 'a', params: { messages: [{ role: 'user', content: 'AKIAIOSFODNN7EXAMPLE' }] } }] }, 'requests[0].params.messages[0].content'],
    ['an unknown future field', { future_field: { deep: ['AKIAIOSFODNN7EXAMPLE'] } }, 'future_field.deep[0]'],
    ['a member name', { tools: [{ name: 't', input_schema: { properties: { AKIAIOSFODNN7EXAMPLE: {} } } }] }, 'tools[0].input_schema.properties.AKIAIOSFODNN7EXAMPLE (member name)'],
    ['a base64 text document (decoded)', { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'text/plain', data: Buffer.from('key AKIAIOSFODNN7EXAMPLE').toString('base64') } }] }] }, 'messages[0].content[0].source.data (decoded)'],
  ])('finds a secret in %s', (_where, body, path) => {
    expect(masker.scanRequest(body, BLOCK).findings).toEqual([{ detector: 'aws-access-key', path }])
  })

  it('names the body itself, a top-level list and a member named "" as before', () => {
    const at = (body: unknown) => masker.scanRequest(body, BLOCK).findings.map((f) => f.path)
    expect(at('AKIAIOSFODNN7EXAMPLE')).toEqual(['(body)'])
    expect(at([1, null, ['AKIAIOSFODNN7EXAMPLE']])).toEqual(['[2][0]'])
    expect(at({ '': 'AKIAIOSFODNN7EXAMPLE', a: { '': { b: 'AKIAIOSFODNN7EXAMPLE' } } })).toEqual(['', 'a..b'])
    expect(at({ AKIAIOSFODNN7EXAMPLE: 1 })).toEqual(['AKIAIOSFODNN7EXAMPLE (member name)'])
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
    expect(hits).toEqual({ 'aws-access-key': 3, 'private-key': 1 })
    const masked = body as typeof request
    expect(masked.system[0]!.text).toBe('You deploy with [REDACTED:aws-access-key]')
    // Forwarded: thinking keeps its text (the signature must verify); the tool input is masked.
    expect(masked.messages[1]!.content[0]).toBe(request.messages[1]!.content[0])
    expect(JSON.stringify(masked.messages[1])).toContain('echo [REDACTED:aws-access-key]')
    expect(masked.mcp_servers).toBe(request.mcp_servers)
    expect(JSON.stringify(masked.messages[2])).toContain('found:\\n[REDACTED:private-key]')
  })

  it('masks thinking too in the audit copy (forwarded: false), and re-encodes base64 text documents', () => {
    const audit = masker.maskRequest(request, BLOCK, { forwarded: false })
    expect(audit.hits).toEqual({ 'aws-access-key': 4, 'private-key': 1 })
    const doc = { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'text/plain', data: Buffer.from('a AKIAIOSFODNN7EXAMPLE b').toString('base64') } }] }] }
    const masked = masker.maskRequest(doc, BLOCK).body as typeof doc
    expect(Buffer.from(masked.messages[0]!.content[0]!.source.data, 'base64').toString()).toBe('a [REDACTED:aws-access-key] b')
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
