import { describe, expect, it } from 'vitest'
import { extractRequestFacts } from '../../src/policy/request-facts.js'

describe('extractRequestFacts', () => {
  it('reads every policy-relevant place of a Messages body (anthropic-api.md §4)', () => {
    const facts = extractRequestFacts('messages', {
      model: 'claude-opus-5-5',
      max_tokens: 4096,
      container: { id: 'container_01', skills: [{ type: 'anthropic', skill_id: 'pptx', version: '20251013' }, { type: 'custom', skill_id: 'skill_01' }] },
      tools: [{ type: 'code_execution_20250825', name: 'code_execution' }, { name: 'get_weather' }, { type: 'custom', name: 'x' }, { type: 'mcp_toolset', mcp_server_name: 'm' }],
      mcp_servers: [{ type: 'url', url: 'https://mcp.example/sse', name: 'm', authorization_token: 't' }],
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'tool_use', name: 'Skill', input: { skill: 'acme-report' } }, { type: 'tool_use', name: 'Bash', input: { skill: 'no' } }] },
      ],
    })
    expect(facts).toEqual({
      models: ['claude-opus-5-5'],
      containerIds: ['container_01'],
      bodies: [
        {
          at: '',
          executes: true,
          model: 'claude-opus-5-5',
          otherModels: [],
          maxTokens: 4096,
          container: 'container_01',
          skills: [
            { type: 'anthropic', id: 'pptx', version: '20251013' },
            { type: 'custom', id: 'skill_01', version: 'latest' },
          ],
          tools: ['code_execution_20250825', 'client:get_weather', 'client:x', 'mcp_toolset'],
          mcpServers: [{ url: 'https://mcp.example/sse', name: 'm', enabled: { all: true, except: [] } }],
          clientSkills: ['acme-report'],
        },
      ],
    })
  })

  it('keeps malformed entries as empty strings so criteria deny them', () => {
    const [body] = extractRequestFacts('messages', { model: 7, container: { id: 5, skills: 'pptx' }, tools: { name: 'x' }, mcp_servers: [{}] }).bodies
    expect(body).toMatchObject({ model: '', container: '', skills: [{ type: '', id: '', version: '' }], tools: ['client:x'], mcpServers: [{ url: '', name: '', enabled: { all: true, except: [] } }] })
  })

  it('marks count_tokens as not running the model, and reads batch entries with their place', () => {
    expect(extractRequestFacts('count_tokens', { model: 'm' }).bodies[0]?.executes).toBe(false)
    const batch = extractRequestFacts('batches', { requests: [{ custom_id: 'a', params: { model: 'm1', container: 'c1' } }, { custom_id: 'b', params: { model: 'm2', container: 'c1' } }, 'junk'] })
    expect(batch.bodies.map((b) => [b.at, b.model, b.executes])).toEqual([
      ['requests[0]', 'm1', true],
      ['requests[1]', 'm2', true],
      ['requests[2]', '', true],
    ])
    expect(batch.containerIds).toEqual(['c1'])
  })

  it('reads no body where the gateway does not parse one', () => {
    expect(extractRequestFacts('batches', undefined)).toEqual({ models: [], bodies: [], containerIds: [] })
    expect(extractRequestFacts('models', { model: 'x' }).bodies).toEqual([])
    expect(extractRequestFacts('batches', { nope: 1 }).bodies.map((b) => b.at)).toEqual(['requests'])
  })
})
