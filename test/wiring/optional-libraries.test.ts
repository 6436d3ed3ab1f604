import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * Libraries only some deployments use load when their feature is configured (dynamic `import()`),
 * so a gateway without them neither pays their memory (issue #15: peak RSS) nor their start-up time,
 * and `skillgate --help` answers at once. This walks the static imports of the sources (what Node
 * loads before any code runs) and names the chain that reaches an optional library.
 */
const optional = ['@modelcontextprotocol/sdk', '@node-saml/node-saml', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/resources', 'openid-client', 'pkijs', 'asn1js', 'pg']

const src = resolve(import.meta.dirname, '../../src')
const staticImport = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm

function reachable(entry: string): Map<string, string[]> {
  const chains = new Map<string, string[]>()
  const seen = new Set<string>()
  const walk = (file: string, chain: string[]): void => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    for (const match of text.matchAll(staticImport)) {
      const spec = match[1] as string
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), [...chain, relative(src, file)])
      else if (!spec.startsWith('node:')) {
        const library = optional.find((name) => spec === name || spec.startsWith(`${name}/`))
        if (library !== undefined && !chains.has(library)) chains.set(library, [...chain, relative(src, file)])
      }
    }
  }
  walk(join(src, entry), [])
  return chains
}

describe('optional libraries load only when configured', () => {
  it.each(['wiring/gateway.ts', 'cli/main.ts'])('%s reaches none of them through static imports', (entry) => {
    const chains = [...reachable(entry)].map(([library, chain]) => `${library} ← ${chain.reverse().join(' ← ')}`)
    expect(chains).toEqual([])
  })

  it('the walker finds a library a module does import statically', () => {
    expect([...reachable('mcp/session.ts').keys()]).toContain('@modelcontextprotocol/sdk')
    expect([...reachable('exchange/saml.ts').keys()]).toContain('@node-saml/node-saml')
  })
})
