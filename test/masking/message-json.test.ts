import { describe, expect, it } from 'vitest'
import { MaskingError } from '../../src/masking/index.js'
import { defaultMasker, PLANTED } from './helpers.js'

const masker = defaultMasker()
const jwtValue = PLANTED.find((p) => p.detector === 'jwt')!.value

const message = (content: unknown[]) => ({
  id: 'msg_012foMGXNQ1eqhaq3QvA5dY6', type: 'message', role: 'assistant', model: 'claude-opus-4-8', content,
  stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 415, output_tokens: 76 },
})

const buffer = (value: unknown) => Buffer.from(JSON.stringify(value))
const parse = (body: Buffer): ReturnType<typeof message> => JSON.parse(body.toString('utf8')) as ReturnType<typeof message>

describe('maskMessageJson', () => {
  it('returns the very same Buffer when nothing matched (no re-serialisation)', () => {
    const body = Buffer.from('{ "id":"msg_1", "type":"message", "content":[{"type":"text","text":"all clear"}], "usage":{"output_tokens":1.0} }')
    const result = masker.maskMessageJson(body)
    expect(result.body).toBe(body)
    expect(result.changed).toBe(false)
    expect(result.hits).toEqual({})
  })

  it('masks text, tool_use and server_tool_use inputs, citations and tool results; keeps ids and metadata', () => {
    const input = message([
      { type: 'text', text: 'Mail alice.smith@example.com', citations: [{ type: 'char_location', cited_text: 'card 4111 1111 1111 1111', document_index: 0, document_title: 'ops 10.0.0.1', start_char_index: 0, end_char_index: 9 }] },
      { type: 'tool_use', id: 'toolu_011LF2VkWpAfJnTKJcmh1PNf', name: 'deploy', input: { token: jwtValue, hosts: ['10.0.0.2'], dry_run: true } },
      { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'who owns AKIAIOSFODNN7EXAMPLE' } },
      { type: 'code_execution_tool_result', tool_use_id: 'srvtoolu_2', content: { type: 'code_execution_result', stdout: 'OPS-1234567 done', stderr: 'warn bob@example.com', return_code: 0, content: [{ file_id: 'file_011' }] } },
      { type: 'web_fetch_tool_result', tool_use_id: 'srvtoolu_3', content: { type: 'web_fetch_result', url: 'https://a.example', content: { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'call +1 415 555 0132' }, title: 'IBAN GB82WEST12345698765432' } } },
      { type: 'mcp_tool_result', tool_use_id: 'mcptoolu_4', is_error: false, content: [{ type: 'text', text: 'key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123' }] },
      { type: 'container_upload', file_id: 'file_AKIAIOSFODNN7EXAMPLE' },
    ])
    const result = masker.maskMessageJson(buffer(input))
    expect(result.changed).toBe(true)
    const out = parse(result.body)
    expect(out.content).toEqual([
      { ...input.content[0] as object, text: 'Mail [REDACTED:email]', citations: [{ type: 'char_location', cited_text: 'card [REDACTED:credit-card]', document_index: 0, document_title: 'ops [REDACTED:ipv4]', start_char_index: 0, end_char_index: 9 }] },
      { type: 'tool_use', id: 'toolu_011LF2VkWpAfJnTKJcmh1PNf', name: 'deploy', input: { token: '[REDACTED:jwt]', hosts: ['[REDACTED:ipv4]'], dry_run: true } },
      { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'who owns [REDACTED:aws-access-key]' } },
      { type: 'code_execution_tool_result', tool_use_id: 'srvtoolu_2', content: { type: 'code_execution_result', stdout: '[REDACTED:ticket] done', stderr: 'warn [REDACTED:email]', return_code: 0, content: [{ file_id: 'file_011' }] } },
      { type: 'web_fetch_tool_result', tool_use_id: 'srvtoolu_3', content: { type: 'web_fetch_result', url: 'https://a.example', content: { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'call [REDACTED:phone]' }, title: 'IBAN [REDACTED:iban]' } } },
      { type: 'mcp_tool_result', tool_use_id: 'mcptoolu_4', is_error: false, content: [{ type: 'text', text: 'key [REDACTED:anthropic-key]' }] },
      { type: 'container_upload', file_id: 'file_AKIAIOSFODNN7EXAMPLE' },
    ])
    const { content: _c, ...rest } = out
    const { content: _i, ...restIn } = input
    expect(rest).toEqual(restIn)
    expect(result.hits).toEqual({ email: 2, 'credit-card': 1, ipv4: 2, jwt: 1, 'aws-access-key': 1, ticket: 1, phone: 1, iban: 1, 'anthropic-key': 1 })
  })

  it('thinking: keep by default, masked on request; signature and redacted_thinking never change', () => {
    const input = message([
      { type: 'thinking', thinking: 'the key is AKIAIOSFODNN7EXAMPLE', signature: 'EqQBCkYIBxgCKkB-AKIAIOSFODNN7EXAMPLE' },
      { type: 'redacted_thinking', data: 'AKIAIOSFODNN7EXAMPLE' },
    ])
    const kept = masker.maskMessageJson(buffer(input))
    expect(kept.changed).toBe(false)
    const masked = parse(defaultMasker({ thinking: 'mask' }).maskMessageJson(buffer(input)).body)
    expect(masked.content).toEqual([
      { type: 'thinking', thinking: 'the key is [REDACTED:aws-access-key]', signature: 'EqQBCkYIBxgCKkB-AKIAIOSFODNN7EXAMPLE' },
      { type: 'redacted_thinking', data: 'AKIAIOSFODNN7EXAMPLE' },
    ])
  })

  it('whole-field paths replace values of any type, counted as "field"', () => {
    const m = defaultMasker({ fields: ['content[*].input.password', 'content[*].input.config.*', 'content[0].input.list[1]'] })
    const input = message([{ type: 'tool_use', id: 't', name: 'login', input: { user: 'u', password: 'hunter2', config: { a: 1, b: { c: 'x' } }, list: ['a', 'b'] } }])
    const result = m.maskMessageJson(buffer(input))
    expect(parse(result.body).content[0]).toEqual({
      type: 'tool_use', id: 't', name: 'login',
      input: { user: 'u', password: '[REDACTED:field]', config: { a: '[REDACTED:field]', b: '[REDACTED:field]' }, list: ['a', '[REDACTED:field]'] },
    })
    expect(result.hits).toEqual({ field: 4 })
  })

  it('passes JSON that is not a message unchanged and throws on invalid JSON', () => {
    const error = Buffer.from('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded bob@example.com"}}')
    expect(masker.maskMessageJson(error).body).toBe(error)
    expect(() => masker.maskMessageJson(Buffer.from('{"content": [ "cut'))).toThrow(MaskingError)
  })
})
