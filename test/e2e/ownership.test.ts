/**
 * Ownership of upstream objects (issue #12 item 3), against a running gateway and the mock upstream:
 * every batches and files route × {the owner, another principal under the same rule, the same job
 * under another rule that maps it to another principal}. Nothing of another principal is ever listed,
 * read, cancelled, deleted or cited, and nothing of it reaches the upstream; a rule that maps the
 * same job to the same principal keeps its objects (the owner is the principal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultRules, startStack, type Stack } from './harness.js'

let stack: Stack

const rule = (id: string, subject: string, principal: string) => ({ ...structuredClone(defaultRules[0]), id, match: { subject, claims: { repository_owner_id: '1234567' } }, principal })

beforeAll(async () => {
  stack = await startStack({
    configure(config) {
      config.rules = [
        rule('main', 'repo:acme/app:ref:*', 'ci:{repository_owner_id}/{repository_id}'),
        // The same repository's pull requests are another principal.
        rule('review', 'repo:acme/app:pull_request', 'ci:{repository_owner_id}/{repository_id}:review'),
        // Deployments of the same repository run as the same principal under their own rule.
        rule('deploy', 'repo:acme/app:environment:*', 'ci:{repository_owner_id}/{repository_id}'),
      ]
    },
  })
})
afterAll(async () => stack?.close())

type Caller = 'owner' | 'otherPrincipal' | 'otherRule'
const callers: Caller[] = ['owner', 'otherPrincipal', 'otherRule']
const strangers: Caller[] = ['otherPrincipal', 'otherRule']

const claimsOf: Record<Caller | 'sameUnderOtherRule', Record<string, string>> = {
  owner: { sub: 'repo:acme/app:ref:refs/heads/main', repository_id: '42' },
  otherPrincipal: { sub: 'repo:acme/app:ref:refs/heads/main', repository_id: '43' },
  otherRule: { sub: 'repo:acme/app:pull_request', repository_id: '42' },
  sameUnderOtherRule: { sub: 'repo:acme/app:environment:prod', repository_id: '42' },
}

async function call(who: Caller | 'sameUnderOtherRule', method: string, path: string, body?: string | FormData, headers: Record<string, string> = {}): Promise<Response> {
  const token = await stack.mint(claimsOf[who])
  const json = typeof body === 'string' ? { 'content-type': 'application/json' } : {}
  return fetch(`${stack.url}${path}`, { method, ...(body === undefined ? {} : { body }), headers: { authorization: `Bearer ${token}`, 'anthropic-version': '2023-06-01', ...json, ...headers } })
}

async function createBatch(who: Caller): Promise<string> {
  const res = await call(who, 'POST', '/v1/messages/batches', JSON.stringify({ requests: [{ custom_id: 'a', params: { model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } }] }))
  expect(res.status).toBe(200)
  return ((await res.json()) as { id: string }).id
}

async function uploadFile(who: Caller, text = 'notes'): Promise<string> {
  const form = new FormData()
  form.append('file', new Blob([text], { type: 'text/plain' }), 'notes.txt')
  const res = await call(who, 'POST', '/v1/files', form)
  expect(res.status).toBe(200)
  return ((await res.json()) as { id: string }).id
}

/** 404 `not_found_error`, the same words for another's and an unknown object, and the upstream never asked. */
async function expectNotFound(res: Response, path: string): Promise<void> {
  const upstreamBefore = stack.mock.requests.filter((r) => r.path === path).length
  expect(res.status).toBe(404)
  const body = (await res.json()) as { type: string; error: { type: string; message: string } }
  expect(body.error.type).toBe('not_found_error')
  expect(body.error.message).toMatch(/^not found: (batch|file|container|skill|skill version) /)
  expect(body.error.message).not.toMatch(/principal|belongs/)
  expect(stack.mock.requests.filter((r) => r.path === path).length).toBe(upstreamBefore)
}

async function listIds(who: Caller | 'sameUnderOtherRule', path: string, query = ''): Promise<string[]> {
  const res = await call(who, 'GET', `${path}${query}`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { data: Array<{ id: string }> }).data.map((item) => item.id)
}

describe('batches: every route × {owner, other principal, other rule}', () => {
  it('lists each principal only its own batches', async () => {
    const own = Object.fromEntries(await Promise.all(callers.map(async (who) => [who, await createBatch(who)] as const))) as Record<Caller, string>
    for (const who of callers) {
      const listed = await listIds(who, '/v1/messages/batches', '?limit=100')
      expect(listed).toContain(own[who])
      for (const other of callers) if (other !== who) expect(listed).not.toContain(own[other])
    }
    // The same principal under another rule sees the batch as its own.
    expect(await listIds('sameUnderOtherRule', '/v1/messages/batches')).toContain(own.owner)
  })

  it.each(['', '/results'])('reads a batch%s only as its owner', async (suffix) => {
    const id = await createBatch('owner')
    const path = `/v1/messages/batches/${id}${suffix}`
    const mine = await call('owner', 'GET', path)
    expect(mine.status).toBe(200)
    if (suffix === '/results') expect(await mine.text()).toContain('"custom_id":"a"')
    for (const who of strangers) await expectNotFound(await call(who, 'GET', path), path)
    expect((await call('sameUnderOtherRule', 'GET', path)).status).toBe(200)
  })

  it('cancels and deletes a batch only as its owner', async () => {
    const id = await createBatch('owner')
    for (const who of strangers) {
      await expectNotFound(await call(who, 'POST', `/v1/messages/batches/${id}/cancel`), `/v1/messages/batches/${id}/cancel`)
      await expectNotFound(await call(who, 'DELETE', `/v1/messages/batches/${id}`), `/v1/messages/batches/${id}`)
    }
    // Untouched by the strangers: it ends normally, then its owner deletes it.
    expect(((await (await call('owner', 'GET', `/v1/messages/batches/${id}`)).json()) as { request_counts: { canceled: number } }).request_counts.canceled).toBe(0)
    expect((await call('owner', 'POST', `/v1/messages/batches/${id}/cancel`)).status).toBe(200)
    expect((await call('owner', 'DELETE', `/v1/messages/batches/${id}`)).status).toBe(200)
  })

  it('refuses a batch id this gateway never saw, for everyone', async () => {
    for (const who of callers) await expectNotFound(await call(who, 'GET', '/v1/messages/batches/msgbatch_unknown'), '/v1/messages/batches/msgbatch_unknown')
  })

  it('refuses a batch whose entries cite another principal\'s file', async () => {
    const file = await uploadFile('owner')
    const body = (params: object) => JSON.stringify({ requests: [{ custom_id: 'a', params: { model: 'claude-sonnet-4-6', max_tokens: 16, ...params } }] })
    const citing = body({ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: file } }, { type: 'text', text: 'sum up' }] }] })
    for (const who of strangers) await expectNotFound(await call(who, 'POST', '/v1/messages/batches', citing), '/v1/messages/batches')
    expect((await call('owner', 'POST', '/v1/messages/batches', citing)).status).toBe(200)
  })
})

describe('files: every route × {owner, other principal, other rule}', () => {
  it('lists each principal only its own files, in both list shapes', async () => {
    const own = Object.fromEntries(await Promise.all(callers.map(async (who) => [who, await uploadFile(who)] as const))) as Record<Caller, string>
    for (const who of callers) {
      for (const beta of [{}, { 'anthropic-beta': 'files-api-2025-04-14' }]) {
        const res = await call(who, 'GET', '/v1/files?limit=100', undefined, beta)
        const page = (await res.json()) as { data: Array<{ id: string }>; first_id?: string; last_id?: string }
        const ids = page.data.map((f) => f.id)
        expect(ids).toContain(own[who])
        for (const other of callers) if (other !== who) expect(ids).not.toContain(own[other])
        if ('anthropic-beta' in beta) expect([page.first_id, page.last_id]).toEqual([ids[0], ids.at(-1)])
      }
    }
  })

  it.each(['', '/content'])('reads a file%s only as its owner', async (suffix) => {
    const id = await uploadFile('owner', 'private notes')
    const path = `/v1/files/${id}${suffix}`
    const mine = await call('owner', 'GET', path)
    expect(mine.status).toBe(200)
    if (suffix === '/content') expect(await mine.text()).toBe('private notes')
    for (const who of strangers) await expectNotFound(await call(who, 'GET', path), path)
  })

  it('deletes a file only as its owner', async () => {
    const id = await uploadFile('owner')
    for (const who of strangers) await expectNotFound(await call(who, 'DELETE', `/v1/files/${id}`), `/v1/files/${id}`)
    expect((await call('owner', 'GET', `/v1/files/${id}`)).status).toBe(200)
    expect((await call('owner', 'DELETE', `/v1/files/${id}`)).status).toBe(200)
    // Deleted upstream: its owner row goes (ids are never reused), so the table does not grow forever.
    expect((await stack.gateway.audit.storage.owners.owners('file', [id])).size).toBe(0)
  })

  it.each([
    ['a document source', (id: string) => ({ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: id } }] }] })],
    ['an image source', (id: string) => ({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: id } }] }] })],
    ['a container_upload', (id: string) => ({ messages: [{ role: 'user', content: [{ type: 'container_upload', file_id: id }] }], tools: [{ type: 'code_execution_20250825', name: 'code_execution' }] })],
  ])('lets only the owner cite a file in %s (messages and count_tokens)', async (_name, cite) => {
    const id = await uploadFile('owner')
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const body = JSON.stringify({ model: 'claude-sonnet-4-6', ...(path === '/v1/messages' ? { max_tokens: 16 } : {}), ...cite(id) })
      for (const who of strangers) await expectNotFound(await call(who, 'POST', path, body), path)
      expect((await call('owner', 'POST', path, body)).status).toBe(200)
    }
  })

  it('refuses a malformed file_id rather than skipping it', async () => {
    const body = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 7 } }] }] })
    await expectNotFound(await call('owner', 'POST', '/v1/messages', body), '/v1/messages')
  })

  it('keeps the reason in the audit: another principal\'s object or an unknown one', async () => {
    const id = await uploadFile('owner')
    const theirs = await call('otherPrincipal', 'GET', `/v1/files/${id}`)
    const unknown = await call('otherPrincipal', 'GET', '/v1/files/file_never_seen')
    const recordOf = async (res: Response) => stack.gateway.audit.storage.audit.get(res.headers.get('skillgate-request-id') ?? '')
    expect(await recordOf(theirs)).toMatchObject({ decision: 'deny', error: 'GW_OBJECT_NOT_FOUND', status: 404, principal: 'ci:1234567/43' })
    expect((await recordOf(theirs))?.reasons.at(-1)).toEqual({ code: 'object-not-owned', detail: `file ${id}` })
    expect((await recordOf(unknown))?.reasons.at(-1)).toEqual({ code: 'object-owner-unknown', detail: 'file file_never_seen' })
    // Same words for the client either way.
    expect(((await theirs.json()) as { error: { message: string } }).error.message).toBe(`not found: file ${id}`)
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toBe('not found: file file_never_seen')
  })
})

describe('containers and code-execution output files', () => {
  const codeExecution = (text: string, container?: string) =>
    JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, ...(container ? { container } : {}), tools: [{ type: 'code_execution_20250825', name: 'code_execution' }], messages: [{ role: 'user', content: text }] })

  it.each([false, true])('owns the container and output files of a response (stream: %s)', async (stream) => {
    const body = JSON.parse(codeExecution('make a file MOCK:FILE')) as Record<string, unknown>
    const res = await call('owner', 'POST', '/v1/messages', JSON.stringify({ ...body, stream }))
    expect(res.status).toBe(200)
    const text = await res.text()
    const container = /"(container_[A-Za-z0-9]+)"/.exec(text)?.[1]
    const file = /"file_id":"(file_[A-Za-z0-9]+)"/.exec(text)?.[1]
    expect(container && file).toBeTruthy()
    expect((await call('owner', 'GET', `/v1/files/${file}/content`)).status).toBe(200)
    expect((await call('owner', 'POST', '/v1/messages', codeExecution('again', container))).status).toBe(200)
    for (const who of strangers) {
      await expectNotFound(await call(who, 'GET', `/v1/files/${file}/content`), `/v1/files/${file}/content`)
      await expectNotFound(await call(who, 'POST', '/v1/messages', codeExecution('again', container)), '/v1/messages')
    }
  })
})

describe('code-execution output of a batch', () => {
  it('belongs to the batch owner once the results are read, and to nobody else', async () => {
    const params = { model: 'claude-sonnet-4-6', max_tokens: 64, tools: [{ type: 'code_execution_20250825', name: 'code_execution' }], messages: [{ role: 'user', content: 'MOCK:FILE' }] }
    const created = await call('owner', 'POST', '/v1/messages/batches', JSON.stringify({ requests: [{ custom_id: 'f', params }] }))
    const { id } = (await created.json()) as { id: string }
    const results = await (await call('owner', 'GET', `/v1/messages/batches/${id}/results`)).text()
    const file = /"file_id":"(file_[A-Za-z0-9]+)"/.exec(results)?.[1] ?? ''
    const container = /"(container_[A-Za-z0-9]+)"/.exec(results)?.[1] ?? ''
    expect(file).not.toBe('')
    expect((await call('owner', 'GET', `/v1/files/${file}/content`)).status).toBe(200)
    for (const who of strangers) {
      await expectNotFound(await call(who, 'GET', `/v1/files/${file}/content`), `/v1/files/${file}/content`)
      await expectNotFound(await call(who, 'POST', '/v1/messages', JSON.stringify({ ...params, container })), '/v1/messages')
    }
  })
})

describe('skills and their versions (skills.manage)', () => {
  const skillForm = (name: string) => {
    const form = new FormData()
    form.append('files[]', new Blob([`---\nname: ${name}\ndescription: test skill\n---\nbody\n`]), `${name}/SKILL.md`)
    return form
  }
  const ids = async (res: Response) => {
    expect(res.status).toBe(200)
    return (await res.json()) as { id: string; latest_version_id?: string }
  }

  it('lets only the creating principal add and delete versions, and delete the skill', async () => {
    const skill = await ids(await call('owner', 'POST', '/v1/skills', skillForm('acme-notes')))
    for (const who of strangers) await expectNotFound(await call(who, 'POST', `/v1/skills/${skill.id}/versions`, skillForm('acme-notes')), `/v1/skills/${skill.id}/versions`)
    const version = await ids(await call('owner', 'POST', `/v1/skills/${skill.id}/versions`, skillForm('acme-notes')))
    for (const who of strangers) {
      const path = `/v1/skills/${skill.id}/versions/${version.id}`
      const res = await call(who, 'DELETE', path)
      expect([res.status, ((await res.json()) as { error: { type: string } }).error.type]).toEqual([404, 'not_found_error'])
    }
    // The same principal under another rule is the owner too.
    expect((await call('sameUnderOtherRule', 'DELETE', `/v1/skills/${skill.id}/versions/${version.id}`)).status).toBe(200)
    for (const who of strangers) expect((await call(who, 'DELETE', `/v1/skills/${skill.id}`)).status).toBe(404)
    // Reading is skills.read: not restricted.
    expect((await call('otherPrincipal', 'GET', `/v1/skills/${skill.id}`)).status).toBe(200)
    expect((await call('owner', 'DELETE', `/v1/skills/${skill.id}/versions/${skill.latest_version_id}`)).status).toBe(400) // the mock keeps the last version
    expect((await call('owner', 'DELETE', `/v1/skills/${skill.id}`)).status).toBe(200)
  })

  it('refuses to manage a skill created outside the gateway that the rule does not name', async () => {
    const res = await fetch(`${stack.mock.url}/v1/skills`, { method: 'POST', body: skillForm('legacy'), headers: { 'x-api-key': stack.mock.apiKey, 'anthropic-version': '2023-06-01' } })
    const legacy = (await res.json()) as { id: string }
    for (const who of callers) expect((await call(who, 'POST', `/v1/skills/${legacy.id}/versions`, skillForm('legacy'))).status).toBe(404)
  })
})
