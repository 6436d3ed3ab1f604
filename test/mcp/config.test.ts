/**
 * `mcpServers`, `allow.mcp` and `approval.mcpTools` at load (issue #19 item 1): what a typo would
 * otherwise turn into a rule that silently grants nothing, or a credential sent in clear text.
 */
import { describe, expect, it } from 'vitest'
import { loadConfigText } from '../../src/config/load.js'

const config = (servers: string, mcp: string, approval = '') => `
upstream: { url: "http://127.0.0.1:9", apiKey: { value: k } }
issuers:
  - { id: ci, issuer: "https://ci.example", audience: gw, jwks: { keys: [{ kty: EC }] } }
mcpServers:
${servers}
rules:
  - id: job
    issuer: ci
    match: { subject: "repo:acme/*" }
    allow: { endpoints: [models], mcp: ${mcp} }
${approval}
`
const github = '  - { id: github, url: "https://mcp.example/mcp", auth: { bearer: { value: secret } } }'

function problemsOf(text: string): string[] {
  const result = loadConfigText(text, 'test.yaml', {})
  return result.ok ? [] : result.problems.map((p) => `${p.path.join('.')}: ${p.message}`)
}

describe('MCP configuration', () => {
  it('loads a server with a bearer, a rule granting tools with a condition, and approvals for some', () => {
    const text = config(github, '{ github: { tools: ["list_*", "create_issue"], condition: \'tool != "create_issue" || arguments.repo.startsWith("acme/")\' } }', '    approval: { mcpTools: ["github/create_*"], hold: 2m }')
    const result = loadConfigText(text, 'test.yaml', {})
    expect(result.ok).toBe(true)
    if (result.ok) {
      expect(result.config.mcpServers[0]?.limits).toEqual({ maxMessage: 1024 * 1024, maxResponse: 8 * 1024 * 1024, timeout: 60_000 })
      expect(result.config.secrets.mcpServers?.github?.reveal()).toBe('secret')
    }
  })

  it('refuses a rule naming an unknown server, and an approval pattern without a known server', () => {
    expect(problemsOf(config(github, '{ gitlab: { tools: ["*"] } }', '    approval: { mcpTools: ["create_issue", "jira/*"] }'))).toEqual([
      'rules.0.allow.mcp.gitlab: unknown MCP server "gitlab"',
      'rules.0.approval.mcpTools.0: expected "<server id>/<tool glob>" naming a configured MCP server, got "create_issue"',
      'rules.0.approval.mcpTools.1: expected "<server id>/<tool glob>" naming a configured MCP server, got "jira/*"',
    ])
  })

  it('refuses bad ids, duplicate ids and plain http off loopback', () => {
    const servers = `${github}\n  - { id: github, url: "http://mcp.example/mcp" }\n  - { id: Bad_Id, url: "https://x.example" }`
    const problems = problemsOf(config(servers, '{ github: { tools: ["*"] } }'))
    expect(problems).toContain('mcpServers.2.id: expected an MCP server id of lowercase letters, digits or "-"')
    const valid = `${github}\n  - { id: github, url: "http://mcp.example/mcp" }\n  - { id: local, url: "http://127.0.0.1:8080/mcp" }`
    expect(problemsOf(config(valid, '{ github: { tools: ["*"] } }'))).toEqual([
      'mcpServers.1.id: duplicate MCP server id "github"',
      'mcpServers.1.url: an MCP server must use https (plain http only on a loopback address)',
    ])
  })

  it('refuses a condition that does not compile or reads an unknown variable', () => {
    expect(problemsOf(config(github, '{ github: { tools: ["*"], condition: "args.repo == 1" } }'))).toEqual([
      'rules.0.allow.mcp.github.condition: unknown variable "args": the bindings are claims, token, tool and arguments',
    ])
  })

  it('a missing client secret is reported at load, with its path', () => {
    const servers = '  - { id: jira, url: "https://jira.example/mcp", auth: { clientCredentials: { tokenUrl: "https://idp.example/token", clientId: gw, clientSecret: { fromEnv: NO_SUCH_ENV_FOR_MCP } } } }'
    expect(problemsOf(config(servers, '{ jira: { tools: ["*"] } }'))).toEqual(['mcpServers.0.auth.clientCredentials.clientSecret: environment variable NO_SUCH_ENV_FOR_MCP is not set'])
  })

  it('an MCP-only rule (allow.mcp, no endpoints) loads and grants no /v1 endpoint; a rule granting neither is refused', () => {
    const only = config(github, '{ github: { tools: ["*"] } }').replace('allow: { endpoints: [models], mcp:', 'allow: { mcp:')
    const result = loadConfigText(only, 'test.yaml', {})
    expect(result.ok).toBe(true)
    if (result.ok) expect(result.config.rules[0]?.allow?.endpoints).toEqual([])
    const neither = config(github, '{}').replace('allow: { endpoints: [models], mcp: {} }', 'allow: { models: ["*"] }')
    expect(problemsOf(neither)).toEqual(['rules.0.allow.endpoints: the rule grants no endpoint and no MCP server'])
    expect(problemsOf(config(github, '{}').replace('endpoints: [models], ', ''))).toEqual(['rules.0.allow.endpoints: the rule grants no endpoint and no MCP server'])
  })
})
