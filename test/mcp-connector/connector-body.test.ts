import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseJsonBody } from '../../src/request/json-body.js'
import { rewriteServers, type ServerEdit } from '../../src/mcp/connector-body.js'

const edit = (index: number, n = index): ServerEdit => ({ index, url: `https://gw.example/mcp/s${n}`, authorizationToken: `sgcap.TOKEN${n}` })

/** Undoes the splices by their unique markers: what remains must be the client's bytes exactly. */
function undo(out: Buffer, edits: readonly ServerEdit[], originalUrls: readonly string[]): Buffer {
  let text = out.toString('latin1')
  edits.forEach((e, i) => {
    text = text.replace(`,"authorization_token":${JSON.stringify(e.authorizationToken)}`, '')
    text = text.replace(JSON.stringify(e.url), originalUrls[i] as string)
  })
  return Buffer.from(text, 'latin1')
}

describe('rewriteServers', () => {
  it('changes only the url and appends the token; every other byte stays', () => {
    const body = Buffer.from('{ "model" : "claude-opus-4-1",\n  "max_tokens": 1.0e3, "note": "caf\\u00e9 \\"q\\" ü",\n  "mcp_servers": [ {"type":"url","url":"https://direct.example/mcp","name":"d","authorization_token":"client-own"},\n   { "type": "url", "url" : "skillgate:\\u0067h" , "name": "gh" } ],\n "tools": [{"type":"mcp_toolset","mcp_server_name":"gh"}] }\n')
    const out = rewriteServers(body, [edit(1)])
    const parsed = parseJsonBody(out) as { mcp_servers: Record<string, unknown>[]; note: string; max_tokens: number }
    expect(parsed.mcp_servers[1]).toEqual({ type: 'url', url: 'https://gw.example/mcp/s1', name: 'gh', authorization_token: 'sgcap.TOKEN1' })
    expect(parsed.mcp_servers[0]?.authorization_token).toBe('client-own')
    expect(undo(out, [edit(1)], ['"skillgate:\\u0067h"']).equals(body)).toBe(true)
    // The number spelling and escapes survive (JSON.stringify would print 1000 and "café").
    expect(out.toString()).toContain('1.0e3')
    expect(out.toString()).toContain('caf\\u00e9')
  })

  it('keeps bytes a UTF-8 decoder would replace (invalid sequences in other strings)', () => {
    const body = Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","mcp_servers":[{"url":"skillgate:a"}]}')])
    const out = rewriteServers(body, [edit(0)])
    expect(out.subarray(0, 8).equals(body.subarray(0, 8))).toBe(true)
  })

  it('refuses an entry that already carries a token, has no url or is not an object', () => {
    expect(() => rewriteServers(Buffer.from('{"mcp_servers":[{"url":"skillgate:a","authorization_token":"x"}]}'), [edit(0)])).toThrow(/authorization_token/)
    expect(() => rewriteServers(Buffer.from('{"mcp_servers":[{"name":"a"}]}'), [edit(0)])).toThrow(/no url/)
    expect(() => rewriteServers(Buffer.from('{"mcp_servers":["skillgate:a"]}'), [edit(0)])).toThrow(/not an object/)
    expect(() => rewriteServers(Buffer.from('{"mcp_servers":[{"url":"skillgate:a"}]}'), [edit(3)])).toThrow(/not an object/)
  })

  it('no edit: the very same buffer', () => {
    const body = Buffer.from('{"mcp_servers":[]}')
    expect(rewriteServers(body, [])).toBe(body)
  })

  it('property: any formatting and neighbouring values, only the edited entries change', () => {
    const space = fc.constantFrom('', ' ', '\n', '\t', ' \r\n  ')
    const server = fc.record({ name: fc.string({ maxLength: 8 }), extra: fc.jsonValue({ maxDepth: 2 }), gateway: fc.boolean() })
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.array(server, { maxLength: 5 }), space, space, (other, servers, s1, s2) => {
        const entries = servers.map((srv, i) => `{${s1}"name"${s2}:${JSON.stringify(srv.name)},"extra":${s1}${JSON.stringify(srv.extra)}${s2},"url":${s1}${JSON.stringify(srv.gateway ? `skillgate:s${i}` : `https://x.example/${i}`)}${s2}}`)
        const text = `{${s1}"other":${s2}${JSON.stringify(other, null, s1 === '' ? undefined : 1)},${s2}"mcp_servers":${s1}[${entries.join(`,${s2}`)}]${s1}}`
        const body = Buffer.from(text)
        const original = JSON.parse(text) as { mcp_servers: Record<string, unknown>[] }
        const edits = servers.flatMap((srv, i) => (srv.gateway ? [edit(i)] : []))
        const out = rewriteServers(body, edits)
        const parsed = JSON.parse(out.toString()) as { mcp_servers: Record<string, unknown>[] }
        const expected = { ...original, mcp_servers: original.mcp_servers.map((entry, i) => (servers[i]?.gateway ? { ...entry, url: `https://gw.example/mcp/s${i}`, authorization_token: `sgcap.TOKEN${i}` } : entry)) }
        expect(parsed).toEqual(expected)
        expect(undo(out, edits, edits.map((e) => JSON.stringify(`skillgate:s${e.index}`))).equals(body)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})
