import { describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'

const rule = (mcp?: unknown) => ({ id: 'ci', issuer: 'gh', allow: { endpoints: ['messages'], mcp: { github: { tools: ['search_*'] } } }, ...(mcp === undefined ? {} : { mcp }) })
const messages = (input: unknown) => {
  const parsed = configSchema.safeParse({ upstream: {}, ...(input as object) })
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
}

describe('config: mcp.publicUrl and rules[].mcp.connector', () => {
  it('connector defaults to direct; no mcp section by default', () => {
    const parsed = configSchema.parse({ upstream: {}, rules: [{ id: 'ci', issuer: 'gh', allow: { endpoints: ['messages'], mcp: { github: { tools: ['*'] } } }, mcp: {} }] })
    expect(parsed.rules[0]?.mcp?.connector).toBe('direct')
    expect(parsed.mcp).toBeUndefined()
  })

  it('connector: gateway needs mcp.publicUrl', () => {
    expect(messages({ rules: [rule({ connector: 'gateway' })] })).toEqual(['rules.0.mcp.connector: mcp.connector: gateway needs the top-level mcp.publicUrl (the https URL Anthropic reaches the gateway at)'])
    const ok = configSchema.parse({ upstream: {}, mcp: { publicUrl: 'https://gw.example.com/base' }, rules: [rule({ connector: 'gateway' })] })
    expect(ok.mcp).toEqual({ publicUrl: 'https://gw.example.com/base', insecureHttpForTests: false, capabilityTtl: 600_000 })
  })

  it('https only; http on the loopback only with insecureHttpForTests; no query, fragment or credentials', () => {
    expect(messages({ mcp: { publicUrl: 'http://127.0.0.1:8080' } })).toHaveLength(1)
    expect(messages({ mcp: { publicUrl: 'http://127.0.0.1:8080', insecureHttpForTests: true } })).toEqual([])
    expect(messages({ mcp: { publicUrl: 'http://gw.example.com', insecureHttpForTests: true } })[0]).toMatch(/must be https/)
    expect(messages({ mcp: { publicUrl: 'https://gw.example.com/?a=1' } })[0]).toMatch(/no credentials, query or fragment/)
    expect(messages({ mcp: { publicUrl: 'https://u:p@gw.example.com' } })[0]).toMatch(/no credentials/)
    expect(messages({ mcp: { publicUrl: 'not a url' } })).toHaveLength(1)
    expect(messages({ mcp: { publicUrl: 'https://gw.example.com', capabilityTtl: '0s' } })[0]).toMatch(/at least 1s/)
  })

  it('rejects unknown connector values and malformed server ids', () => {
    expect(messages({ rules: [rule({ connector: 'proxy' })] })).toHaveLength(1)
    expect(messages({ rules: [{ id: 'ci', issuer: 'gh', allow: { endpoints: ['messages'], mcp: { 'Bad/Id': {} } } }] })).toHaveLength(1)
  })
})
