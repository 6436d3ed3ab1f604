import { describe, expect, it } from 'vitest'
import { mcpServerCriterion } from '../../src/policy/criteria/mcp-server.js'
import { effectiveTools, planConnector } from '../../src/mcp/connector.js'
import { extractRequestFacts } from '../../src/policy/request-facts.js'

const check = (allow: Parameters<typeof mcpServerCriterion.compile>[0], servers: unknown[], tools: unknown[] = []) =>
  mcpServerCriterion.compile(allow, {})({ endpoint: 'messages', facts: extractRequestFacts('messages', { model: 'm', mcp_servers: servers, tools }), principal: 'p', containerOwner: () => undefined })

describe('mcp-server criterion and skillgate:{id}', () => {
  it('a skillgate: server is granted by allow.mcp[id], whatever tools the request enables (the capability cuts them)', () => {
    const result = check({ endpoints: ['messages'], mcp: { github: { tools: ['search_*'] } } }, [{ type: 'url', url: 'skillgate:github', name: 'gh' }])
    expect(result).toEqual({ ok: true, reasons: [{ code: 'mcp-server-granted', detail: 'skillgate:github' }] })
  })

  it('not in allow.mcp, or a malformed id: denied, and allow.mcpServers prefixes never grant it', () => {
    const allow = { endpoints: ['messages' as const], mcpServers: ['https://mcp.example.com/'], mcp: { github: { tools: ['*'] } } }
    expect(check(allow, [{ url: 'skillgate:jira', name: 'j' }]).reasons).toEqual([{ code: 'mcp-gateway-server-not-granted', detail: 'skillgate:jira' }])
    expect(check(allow, [{ url: 'skillgate:Bad/Id', name: 'x' }]).reasons).toEqual([{ code: 'mcp-gateway-server-not-granted', detail: '(missing or malformed)' }])
    expect(check({ endpoints: ['messages'], mcpServers: ['skillgate:'] }, [{ url: 'skillgate:github', name: 'g' }]).ok).toBe(false)
  })

  it('URL servers are still judged by allow.mcpServers alone', () => {
    const allow = { endpoints: ['messages' as const], mcp: { github: { tools: ['*'] } } }
    expect(check(allow, [{ url: 'https://mcp.example.com/x', name: 'x' }]).reasons[0]?.code).toBe('mcp-server-not-granted')
  })
})

describe('effectiveTools', () => {
  it('named set ∩ globs', () => {
    expect(effectiveTools({ all: false, names: ['search_code', 'delete_repo', ''] }, ['search_*'])).toEqual(['search_code'])
  })
  it('open set: exact under plain names (minus the ones turned off), open under a wildcard', () => {
    expect(effectiveTools({ all: true, except: ['b'] }, ['a', 'b', 'c'])).toEqual(['a', 'c'])
    expect(effectiveTools({ all: true, except: [] }, ['search_*'])).toBeUndefined()
  })
})

describe('planConnector: tools the request turned off', () => {
  const plan = (globs: string[], toolset: Record<string, unknown>) => {
    const json = { model: 'm', mcp_servers: [{ type: 'url', url: 'skillgate:jira', name: 'j' }], tools: [{ type: 'mcp_toolset', mcp_server_name: 'j', ...toolset }] }
    return planConnector({ endpoint: 'messages', json, facts: extractRequestFacts('messages', json), ruleId: 'r', rule: { gateway: true, grants: new Map([['jira', globs]]) }, isConfigured: () => true })
  }

  it('an open set under a wildcard grant: no tool list, the disabled tools as the exclusion list', () => {
    expect(plan(['*'], { configs: { delete_repo: { enabled: false }, drop: { enabled: false }, search: { enabled: true } } })).toEqual({ kind: 'rewrite', servers: [{ index: 0, serverId: 'jira', tools: undefined, toolExclude: ['delete_repo', 'drop'] }] })
  })

  it('an open set with nothing turned off, a named set, or plain-name globs: no exclusion list (the tool list is exact)', () => {
    expect(plan(['*'], {})).toEqual({ kind: 'rewrite', servers: [{ index: 0, serverId: 'jira', tools: undefined }] })
    expect(plan(['*'], { default_config: { enabled: false }, configs: { search: { enabled: true } } })).toEqual({ kind: 'rewrite', servers: [{ index: 0, serverId: 'jira', tools: ['search'] }] })
    expect(plan(['search', 'delete_repo'], { configs: { delete_repo: { enabled: false } } })).toEqual({ kind: 'rewrite', servers: [{ index: 0, serverId: 'jira', tools: ['search'] }] })
  })
})
