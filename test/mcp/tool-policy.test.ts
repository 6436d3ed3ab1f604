/** Per-tool policy of `/mcp/{id}` (issue #19 item 2): pure decisions over caller, tool and arguments. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { McpCaller } from '../../src/mcp/caller.js'
import { argumentsDigest, toolCallFingerprint } from '../../src/mcp/arguments-digest.js'
import { compileToolPolicy } from '../../src/mcp/tool-policy.js'

const policy = compileToolPolicy([
  {
    id: 'triage',
    allow: { mcp: { github: { tools: ['list_*', 'create_issue'], condition: 'tool != "create_issue" || arguments.repo.startsWith(claims.org + "/")' } } },
    approval: { mcpTools: ['github/create_*'] },
  },
  { id: 'reader', allow: { mcp: { github: { tools: ['list_issues'] } } } },
])

const caller = (extra: Partial<McpCaller> = {}): McpCaller => ({ principal: 'gha:1/2', claims: { org: 'acme' }, ruleName: 'triage', ...extra })

describe('tool policy', () => {
  it('lists granted tools only, within a capability token\'s tool limit', () => {
    expect(['list_issues', 'list_prs', 'create_issue', 'delete_repo'].filter((t) => policy.lists(caller(), 'github', t))).toEqual(['list_issues', 'list_prs', 'create_issue'])
    expect(['list_issues', 'list_prs', 'create_issue'].filter((t) => policy.lists(caller({ toolLimit: ['list_prs'] }), 'github', t))).toEqual(['list_prs'])
    expect(policy.lists(caller(), 'jira', 'list_issues')).toBe(false)
  })

  it('refuses an ungranted tool naming the rule, and a tool outside the token\'s limit', () => {
    expect(policy.call(caller(), 'github', 'delete_repo', {})).toEqual({ ok: false, message: 'tool delete_repo on MCP server github is not granted by rule triage (allow.mcp.github.tools)' })
    expect(policy.call(caller({ toolLimit: ['list_prs'] }), 'github', 'list_issues', {})).toEqual({ ok: false, message: "tool list_issues on MCP server github is outside this token's tools" })
    expect(policy.call(caller(), 'jira', 'list_issues', {})).toEqual({ ok: false, message: 'rule triage grants no tools on MCP server jira' })
  })

  it('runs the condition over claims, tool and arguments; false and errors refuse', () => {
    expect(policy.call(caller(), 'github', 'create_issue', { repo: 'acme/app' })).toEqual({ ok: true })
    expect(policy.call(caller(), 'github', 'create_issue', { repo: 'evil/app' })).toMatchObject({ ok: false, message: expect.stringContaining('its condition is false') })
    expect(policy.call(caller(), 'github', 'create_issue', {})).toMatchObject({ ok: false, message: expect.stringContaining('its condition failed') })
    expect(policy.call(caller(), 'github', 'list_prs', {})).toEqual({ ok: true })
  })

  it('needs approval for the named tools of the rule only', () => {
    expect(policy.needsApproval('triage', 'github', 'create_issue')).toBe(true)
    expect(policy.needsApproval('triage', 'github', 'list_issues')).toBe(false)
    expect(policy.needsApproval('reader', 'github', 'create_issue')).toBe(false)
    expect(policy.grantsServer('reader', 'github')).toBe(true)
    expect(policy.grantsServer('reader', 'jira')).toBe(false)
  })
})

describe('arguments digest and approval fingerprint', () => {
  it('ignores key order and whitespace; any changed value changes it', () => {
    expect(argumentsDigest({ a: 1, b: { c: 'x', d: [1, 2] } })).toBe(argumentsDigest(JSON.parse('{ "b": {"d":[1,2], "c":"x"}, "a":1 }')))
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), (args, key) => {
        const changed = { ...args, [key]: { changed: args[key] ?? null } }
        return argumentsDigest(args) !== argumentsDigest(changed)
      }),
    )
  })

  it('binds server, tool, arguments, principal and rule', () => {
    const base = { principal: 'p', rule: 'r', serverId: 'github', tool: 'create_issue', args: { repo: 'acme/app' } }
    const fp = toolCallFingerprint(base)
    for (const other of [{ principal: 'q' }, { rule: 's' }, { serverId: 'jira' }, { tool: 'create_pr' }, { args: { repo: 'acme/other' } }]) {
      expect(toolCallFingerprint({ ...base, ...other })).not.toBe(fp)
    }
    expect(toolCallFingerprint({ ...base, args: { repo: 'acme/app' } })).toBe(fp)
  })
})
