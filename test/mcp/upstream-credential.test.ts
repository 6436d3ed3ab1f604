/** The gateway's credential for an MCP server (issue #19 item 1): clients never hold it. */
import { describe, expect, it } from 'vitest'
import { Secret } from '../../src/config/secret-source.js'
import { mcpCredential } from '../../src/mcp/upstream-credential.js'

const clientCredentials = { clientCredentials: { tokenUrl: 'https://idp.example/token', clientId: 'gw client', clientSecret: { value: 'unused' }, scope: 'mcp:tools' } }

function tokenEndpoint(responses: Array<{ status: number; body: unknown }>) {
  const seen: { authorization: string | null; body: string }[] = []
  const fetchLike = (async (_url: string | URL | Request, init?: RequestInit) => {
    seen.push({ authorization: new Headers(init?.headers).get('authorization'), body: String(init?.body) })
    const next = responses.shift() ?? { status: 500, body: {} }
    return new Response(JSON.stringify(next.body), { status: next.status, headers: { 'content-type': 'application/json' } })
  }) as typeof fetch
  return { seen, fetchLike }
}

describe('MCP upstream credential', () => {
  it('a bearer secret is sent as it is; an open server gets none', async () => {
    expect(await mcpCredential({ id: 'a', auth: { bearer: { value: 'x' } } }, Secret.resolve({ value: 's3cret' }))()).toBe('Bearer s3cret')
    expect(await mcpCredential({ id: 'a', auth: undefined }, undefined)()).toBeUndefined()
  })

  it('client credentials: one exchange (basic auth, scope), cached until shortly before expiry, concurrent callers share it', async () => {
    let now = 1_000_000
    const { seen, fetchLike } = tokenEndpoint([
      { status: 200, body: { access_token: 'at-1', expires_in: 120, token_type: 'Bearer' } },
      { status: 200, body: { access_token: 'at-2', expires_in: 120, token_type: 'Bearer' } },
    ])
    const credential = mcpCredential({ id: 'jira', auth: clientCredentials }, Secret.resolve({ value: 'cs:1' }), { fetch: fetchLike, now: () => now })
    expect(await Promise.all([credential(), credential()])).toEqual(['Bearer at-1', 'Bearer at-1'])
    expect(seen).toHaveLength(1)
    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from('gw%20client:cs%3A1').toString('base64')}`)
    expect(seen[0]?.body).toBe('grant_type=client_credentials&scope=mcp%3Atools')
    now += 89_000
    expect(await credential()).toBe('Bearer at-1')
    now += 2_000 // past expires_in minus the 30 s margin
    expect(await credential()).toBe('Bearer at-2')
    expect(seen).toHaveLength(2)
  })

  it('a refused exchange is a clear error that does not echo the token endpoint\'s body', async () => {
    const { fetchLike } = tokenEndpoint([{ status: 401, body: { error: 'invalid_client', error_description: 'secret cs:1 is wrong' } }])
    const credential = mcpCredential({ id: 'jira', auth: clientCredentials }, Secret.resolve({ value: 'cs:1' }), { fetch: fetchLike })
    const error = (await credential().catch((e: unknown) => e)) as Error & { publicMessage: string }
    expect(error.publicMessage).toContain("MCP server jira: the token endpoint refused the gateway's client credentials (401)")
    expect(error.publicMessage).not.toContain('cs:1')
  })
})
