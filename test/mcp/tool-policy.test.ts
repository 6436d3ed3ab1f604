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

  describe('exclusion list (tools a connector request turned off): it wins over every grant', () => {
    const wide = compileToolPolicy([{ id: 'wide', allow: { mcp: { jira: { tools: ['*'], condition: 'tool != "never"' } } } }])
    const by = (extra: Partial<McpCaller>): McpCaller => caller({ ruleName: 'wide', ...extra })
    const off = "tool delete_repo on MCP server jira is turned off for this token (the request disabled it)"

    it('globs grant, no tool limit, excluded: refused and not listed', () => {
      expect(wide.call(by({ toolExclude: ['delete_repo'] }), 'jira', 'delete_repo', {})).toEqual({ ok: false, message: off })
      expect(['search', 'delete_repo'].filter((t) => wide.lists(by({ toolExclude: ['delete_repo'] }), 'jira', t))).toEqual(['search'])
    })

    it('inside the token\'s tool limit and excluded: refused (the exclusion wins over the limit)', () => {
      expect(wide.call(by({ toolLimit: ['delete_repo', 'search'], toolExclude: ['delete_repo'] }), 'jira', 'delete_repo', {})).toEqual({ ok: false, message: off })
      expect(wide.lists(by({ toolLimit: ['delete_repo'], toolExclude: ['delete_repo'] }), 'jira', 'delete_repo')).toBe(false)
    })

    it('outside the limit and not excluded: the limit refuses; not granted at all: the rule refuses, whatever the lists say', () => {
      expect(wide.call(by({ toolLimit: ['search'], toolExclude: ['other'] }), 'jira', 'delete_repo', {})).toEqual({ ok: false, message: "tool delete_repo on MCP server jira is outside this token's tools" })
      expect(policy.call(caller({ toolExclude: ['delete_repo'] }), 'github', 'delete_repo', {})).toEqual({ ok: false, message: 'tool delete_repo on MCP server github is not granted by rule triage (allow.mcp.github.tools)' })
    })

    it('not excluded: the rest of the policy applies as before (condition included); an empty list excludes nothing', () => {
      expect(wide.call(by({ toolExclude: ['delete_repo'] }), 'jira', 'search', {})).toEqual({ ok: true })
      expect(wide.call(by({ toolExclude: ['delete_repo'] }), 'jira', 'never', {})).toMatchObject({ ok: false, message: expect.stringContaining('its condition is false') })
      expect(wide.call(by({ toolExclude: [] }), 'jira', 'delete_repo', {})).toEqual({ ok: true })
    })

    it('property: listed ⇔ granted by the globs ∧ inside the limit (if any) ∧ not excluded, and call agrees', () => {
      const names = fc.constantFrom('list_a', 'list_b', 'create_issue', 'drop', 'x')
      fc.assert(
        fc.property(names, fc.option(fc.uniqueArray(names), { nil: undefined }), fc.option(fc.uniqueArray(names), { nil: undefined }), (tool, toolLimit, toolExclude) => {
          const who = caller({ ruleName: 'reader2', toolLimit, toolExclude })
          const p = compileToolPolicy([{ id: 'reader2', allow: { mcp: { github: { tools: ['list_*', 'drop'] } } } }])
          const expected = (tool.startsWith('list_') || tool === 'drop') && (toolLimit === undefined || toolLimit.includes(tool)) && !(toolExclude ?? []).includes(tool)
          return p.lists(who, 'github', tool) === expected && p.call(who, 'github', tool, {}).ok === expected
        }),
      )
    })
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
        const changed = { ...args, [key]: { changed: Object.hasOwn(args, key) ? args[key] : null } }
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
