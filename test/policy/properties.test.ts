import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compilePolicy } from '../../src/policy/compile.js'
import { compileUrlPrefix } from '../../src/policy/criteria/mcp-server.js'
import { evaluatePolicy } from '../../src/policy/evaluate.js'
import { reasonInfo } from '../../src/policy/reasons.js'
import { extractRequestFacts } from '../../src/policy/request-facts.js'

const policy = compilePolicy(
  [
    { id: 'deny-forks', issuer: 'ci', effect: 'deny', match: { condition: 'claims.fork == true' } },
    {
      id: 'all',
      issuer: 'ci',
      effect: 'allow',
      match: { subject: 'repo:*' },
      allow: { endpoints: ['messages', 'count_tokens', 'batches'], models: ['claude-*'], skills: ['anthropic:pptx'], tools: ['client:*', 'code_execution_*'], mcpServers: ['https://mcp.example/a'], maxTokens: 1000, clientSkills: ['ok-*'] },
    },
  ],
  {},
)

/** Bodies built from the fields policy reads, with well-formed and junk values mixed. */
const junk = fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.constant([]), fc.constant({}))
const body = fc.record(
  {
    model: fc.oneof(fc.constantFrom('claude-x', 'gpt-4', ''), junk),
    max_tokens: fc.oneof(fc.integer({ min: 0, max: 5000 }), junk),
    container: fc.oneof(fc.constantFrom('c-own', 'c-other', 'c-unknown'), fc.record({ id: fc.oneof(fc.constant('c-own'), junk), skills: fc.array(fc.record({ type: fc.constantFrom('anthropic', 'custom'), skill_id: fc.constantFrom('pptx', 'xlsx'), version: fc.oneof(fc.constant('latest'), junk) })) }), junk),
    tools: fc.oneof(fc.array(fc.oneof(fc.record({ name: fc.string() }), fc.record({ type: fc.constantFrom('code_execution_20250825', 'web_fetch_20250910', 'custom'), name: fc.string() }), junk)), junk),
    mcp_servers: fc.oneof(fc.array(fc.record({ url: fc.oneof(fc.webUrl(), fc.constant('https://mcp.example/a/x'), junk) })), junk),
    messages: fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: fc.array(fc.record({ type: fc.constant('tool_use'), name: fc.constantFrom('Skill', 'Bash'), input: fc.record({ skill: fc.oneof(fc.constantFrom('ok-a', 'bad'), junk) }) })) })),
  },
  { requiredKeys: [] },
)
const endpoint = fc.constantFrom('messages', 'count_tokens', 'batches', 'models', 'unknown' as const)
const claims = fc.record({ sub: fc.oneof(fc.constantFrom('repo:a', 'other'), junk), fork: fc.oneof(fc.boolean(), junk) }, { requiredKeys: [] })

describe('evaluatePolicy properties', () => {
  it('is total, and every decision explains itself', () => {
    fc.assert(
      fc.property(endpoint, body, fc.array(body, { maxLength: 3 }), claims, (name, messagesBody, entries, tokenClaims) => {
        const json = name === 'batches' ? { requests: entries.map((params, i) => ({ custom_id: String(i), params })) } : messagesBody
        const decision = evaluatePolicy(policy, {
          issuerId: 'ci',
          claims: tokenClaims,
          endpoint: name,
          facts: extractRequestFacts(name, json),
          containerOwner: (id) => ({ 'c-own': 'repo:a', 'c-other': 'repo:b' })[id],
        })
        const polarities = decision.reasons.map((r) => reasonInfo[r.code].polarity)
        if (decision.effect === 'allow') {
          expect(polarities).not.toContain('denied')
          expect(decision.rule).toBe('all')
          expect(decision.principal).toBe('repo:a')
        } else {
          expect(decision.deniedBy).toBeDefined()
          expect(polarities.at(-1)).toBe('denied')
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('MCP URL prefixes', () => {
  it('grant only the prefix origin, and only whole path segments under it', () => {
    expect(compileUrlPrefix('https://mcp.example/a')).toMatchObject({ ok: true })
    const facts = (url: string) => extractRequestFacts('messages', { model: 'claude-x', max_tokens: 1, mcp_servers: [{ url }] })
    const suffix = fc.string({ unit: fc.constantFrom('a', '/', '.', '@', ':', '%', '2', 'e', '\\', '?', '#', 'x') })
    fc.assert(
      fc.property(fc.oneof(fc.webUrl({ withQueryParameters: true }), suffix.map((s) => `https://mcp.example${s}`), suffix.map((s) => `https://mcp.example/a${s}`)), (url) => {
        const decision = evaluatePolicy(policy, { issuerId: 'ci', claims: { sub: 'repo:a' }, endpoint: 'messages', facts: facts(url) })
        if (!decision.reasons.some((r) => r.code === 'mcp-server-granted')) return
        const parsed = new URL(url)
        expect(parsed.origin).toBe('https://mcp.example')
        expect(parsed.username + parsed.password).toBe('')
        expect(parsed.pathname === '/a' || parsed.pathname.startsWith('/a/')).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })
})
