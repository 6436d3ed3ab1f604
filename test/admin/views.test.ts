import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redactConfig } from '../../src/admin/redact-config.js'
import { loadConfigText } from '../../src/config/load.js'
import { TOKENS, startAdminStack, type AdminStack } from './helpers.js'

let s: AdminStack

beforeAll(async () => {
  s = await startAdminStack()
})
afterAll(async () => {
  await s.close()
})

const json = async <T>(res: Promise<Response>): Promise<T> => (await res).json() as Promise<T>

describe('admin API: config view', () => {
  it('hides the upstream key and every admin token of the running config', async () => {
    const res = await s.call('GET', '/admin/api/config', TOKENS.auditor)
    const text = await res.text()
    for (const token of Object.values(TOKENS)) expect(text).not.toContain(token)
    expect(text).not.toContain(s.stack.mock.apiKey)
    const view = JSON.parse(text) as { upstream: { apiKey: unknown }; admin: { tokens: { secret: unknown; roles: string[] }[] }; secrets: { adminTokens: unknown[] } }
    expect(view.upstream.apiKey).toEqual({ value: '[redacted]' })
    expect(view.admin.tokens[0]).toEqual({ secret: { value: '[redacted]' }, roles: ['admin'] })
    expect(view.secrets.adminTokens).toEqual(['[redacted]', '[redacted]', '[redacted]'])
  })

  it('hides inline values, URL passwords, webhook paths and any copy of a secret; keeps env and file names', () => {
    const yaml = `
storage: { url: "postgres://skillgate:pg-password-123@db.internal/skillgate" }
gatewayTokens: { keyEncryption: { value: "S2V5RW5jcnlwdGlvbktleUZvclRlc3RzMDEyMzQ1Njc=" } }
upstream: { url: "https://api.anthropic.com", apiKey: { fromEnv: UPSTREAM_KEY } }
skills: { pasted-by-mistake: { type: custom, id: "sk-ant-upstream-0123456789" } }
audit: { sinks: [ { webhook: { url: "https://siem.example/hook/T0123/abcdefsecret", secret: { value: "hmac-secret-0123456789" } } } ] }
admin: { tokens: [ { secret: { value: "admin-token-value-0123456789" }, roles: [admin] } ] }
rules: []
`
    const loaded = loadConfigText(yaml, 'redact.yaml', { UPSTREAM_KEY: 'sk-ant-upstream-0123456789' })
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
    const text = JSON.stringify(redactConfig(loaded.config))
    for (const secret of ['pg-password-123', 'admin-token-value-0123456789', 'abcdefsecret', 'hmac-secret-0123456789', 'sk-ant-upstream', 'S2V5RW5jcnlwdGlvbktleUZvclRlc3RzMDEyMzQ1Njc']) expect(text).not.toContain(secret)
    const view = JSON.parse(text) as Record<string, Record<string, unknown>>
    expect(view.storage!.url).toBe('postgres://skillgate:redacted@db.internal/skillgate')
    expect(view.upstream!.apiKey, 'an env var name is not a secret').toEqual({ fromEnv: 'UPSTREAM_KEY' })
    expect(JSON.stringify(view.audit)).toContain('https://siem.example/[redacted]')
    expect(JSON.stringify(view.skills), 'a copy of a resolved secret anywhere').toContain('[redacted]')
  })
})

describe('admin API: policy explain', () => {
  const claims = { iss: 'https://ci.skillgate.test', sub: 'repo:acme/app:ref:refs/heads/main', repository_owner_id: '1234567', repository_id: '42' }

  it('explains an allow under the running policy, choosing the issuer by claims.iss', async () => {
    const body = await json<{ issuer: string; decision: { effect: string; rule: string; principal: string }; text: string }>(
      s.call('POST', '/admin/api/policy/explain', TOKENS.auditor, { claims, request: { method: 'POST', path: '/v1/messages', body: { model: 'claude-sonnet-4-6', max_tokens: 10, messages: [] } } }),
    )
    expect(body).toMatchObject({ issuer: 'ci', decision: { effect: 'allow', rule: 'ci-app', principal: 'ci:1234567/42' } })
    expect(body.text).toContain('decision: allow (rule ci-app)')
  })

  it('explains a deny with the reason', async () => {
    const body = await json<{ decision: { effect: string; deniedBy: { code: string } }; text: string }>(
      s.call('POST', '/admin/api/policy/explain', TOKENS.auditor, { issuer: 'ci', claims, request: { method: 'POST', path: '/v1/messages', body: { model: 'gpt-4', max_tokens: 10, messages: [] } } }),
    )
    expect(body.decision).toMatchObject({ effect: 'deny', deniedBy: { code: 'model-not-granted' } })
    expect(body.text).toContain('model-not-granted')
  })

  it.each([
    [{ claims: {}, request: { method: 'GET', path: '/v1/models' } }, 'issuer'],
    [{ issuer: 'nope', claims, request: { method: 'GET', path: '/v1/models' } }, 'issuer'],
    [{ claims, request: { method: 'GET', path: 'v1/models' } }, 'request.path'],
    [{ claims }, 'request'],
  ])('refuses %j with a 400 naming %s', async (body, field) => {
    const res = await s.call('POST', '/admin/api/policy/explain', TOKENS.auditor, body)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(field)
  })
})

describe('admin API: principals and health', () => {
  it('derives principals from the audit: last seen, counts, revocation in force', async () => {
    await s.v1(await s.stack.mint({ repository_id: '60' }))
    await s.v1(await s.stack.mint({ repository_id: '60' }))
    await s.v1(await s.stack.mint({ repository_id: '61' }))
    await s.call('POST', '/admin/api/revocations', TOKENS.admin, { kind: 'principal', principal: 'ci:1234567/61' })
    const body = await json<{ principals: { principal: string; requests: number; lastSeen: string; revokedBefore: string | null }[]; complete: boolean; scanned: number }>(
      s.call('GET', '/admin/api/principals', TOKENS.auditor),
    )
    expect(body.complete).toBe(true)
    expect(body.principals.map((p) => p.principal)).toEqual(['ci:1234567/61', 'ci:1234567/60'])
    expect(body.principals[1]).toMatchObject({ requests: 2, revokedBefore: null })
    expect(body.principals[0]!.revokedBefore).toEqual(expect.any(String))
    const partial = await json<{ complete: boolean; scanned: number }>(s.call('GET', '/admin/api/principals?scan=1', TOKENS.auditor))
    expect(partial).toMatchObject({ complete: false, scanned: 1 })
  })

  it('reports issuers and the store', async () => {
    const body = await json<Record<string, unknown>>(s.call('GET', '/admin/api/health', TOKENS.auditor))
    expect(body).toMatchObject({ ok: true, storage: { kind: 'sqlite', ok: true }, issuers: [{ id: 'ci', state: 'ready' }], adminIssuers: [{ id: 'people' }] })
  })
})

describe('admin API: routing', () => {
  it('404s unknown routes and 405s wrong methods with an allow header', async () => {
    expect((await s.call('GET', '/admin/api/nope', TOKENS.admin)).status).toBe(404)
    expect((await s.call('GET', '/admin/api/audit/a/b/c', TOKENS.admin)).status).toBe(404)
    expect((await s.call('GET', '/admin/api/', TOKENS.admin)).status).toBe(404)
    const wrong = await s.call('PUT', '/admin/api/revocations', TOKENS.admin, {})
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('GET, POST')
    expect(await wrong.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
  })

  it('refuses query parameters a route does not take', async () => {
    expect((await s.call('GET', '/admin/api/config?all=1', TOKENS.admin)).status).toBe(400)
  })

  it('refuses a streamed (chunked) body over 1 MiB', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const res = await fetch(`${s.url}/admin/api/revocations`, { method: 'POST', body, headers: { authorization: `Bearer ${TOKENS.admin}` }, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(413)
  })
})

describe('admin API: OpenAPI', () => {
  it('describes exactly the routes the router dispatches, each with its roles', async () => {
    const doc = await json<{ openapi: string; paths: Record<string, Record<string, { 'x-skillgate-roles': string[]; security: unknown[]; responses: Record<string, unknown> }>> }>(
      s.call('GET', '/admin/api/openapi.json'),
    )
    expect(doc.openapi).toBe('3.1.0')
    const described = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    expect(described.sort()).toEqual(s.admin.routes.map((r) => `${r.method} ${r.path}`).sort())
    for (const route of s.admin.routes) {
      const op = doc.paths[route.path]![route.method.toLowerCase()]!
      expect(op['x-skillgate-roles']).toEqual(route.roles === 'public' ? [] : route.roles)
      if (route.roles !== 'public') expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']))
    }
  })

  it('documents query parameters and request bodies from the validation schemas', () => {
    const paths = s.admin.openapi.paths as Record<string, Record<string, { parameters: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: unknown }> } }>>
    const list = paths['/admin/api/audit']!.get!
    expect(list.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['principal', 'rule', 'skill', 'decision', 'outcome', 'since', 'until', 'limit', 'cursor']))
    const revoke = paths['/admin/api/revocations']!.post!
    expect(JSON.stringify(revoke.requestBody!.content['application/json']!.schema)).toContain('"principal"')
    expect(paths['/admin/api/revocations/principal/{principal}']!.delete!.parameters).toEqual([expect.objectContaining({ name: 'principal', in: 'path' })])
  })
})
