import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startMockUpstream } from '../../src/mock-upstream/index.js'
import type { MockUpstream } from '../../src/mock-upstream/index.js'
import { VERSION, messagesBody, post } from './helpers.js'

let mock: MockUpstream

beforeAll(async () => {
  mock = await startMockUpstream()
})
afterAll(async () => {
  await mock.close()
})
beforeEach(() => mock.reset())

type Json = Record<string, unknown>

function call(method: string, path: string, init: { body?: FormData | string; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${mock.url}${path}`, {
    method, headers: { 'x-api-key': mock.apiKey, 'anthropic-version': VERSION, ...init.headers }, body: init.body ?? null,
  })
}

async function json(res: Response, status = 200): Promise<Json> {
  expect(res.status).toBe(status)
  return (await res.json()) as Json
}

describe('models', () => {
  it('lists a page of ModelInfo and honours limit / after_id', async () => {
    const page = await json(await call('GET', '/v1/models'))
    const data = page.data as Json[]
    expect(data.length).toBeGreaterThanOrEqual(4)
    expect(data[0]).toMatchObject({ type: 'model', id: 'claude-opus-5-5', lifecycle: 'active' })
    expect(Object.keys(data[0] ?? {}).sort()).toEqual([
      'capabilities', 'created_at', 'deprecated_at', 'display_name', 'id', 'lifecycle', 'line', 'max_input_tokens', 'max_tokens', 'retires_at', 'type',
    ])
    expect(page).toMatchObject({ has_more: false, first_id: 'claude-opus-5-5', last_id: data.at(-1)?.id })
    const limited = await json(await call('GET', '/v1/models?limit=2'))
    expect(limited).toMatchObject({ has_more: true, first_id: 'claude-opus-5-5', last_id: 'claude-sonnet-4-6' })
    const next = await json(await call('GET', '/v1/models?limit=2&after_id=claude-sonnet-4-6'))
    expect(next.first_id).toBe('claude-opus-4-8')
  })

  it('gets one model and 404s an unknown one', async () => {
    expect(await json(await call('GET', '/v1/models/claude-haiku-4-5-20251001'))).toMatchObject({ id: 'claude-haiku-4-5-20251001' })
    const missing = await json(await call('GET', '/v1/models/claude-nope'), 404)
    expect(missing).toMatchObject({ type: 'error', error: { type: 'not_found_error' } })
  })
})

describe('files', () => {
  it('uploads multipart, records the part summary, lists, serves content and deletes', async () => {
    const form = new FormData()
    form.append('purpose', 'test')
    form.append('file', new Blob(['hello, file'], { type: 'text/plain' }), 'notes.txt')
    const meta = await json(await call('POST', '/v1/files', { body: form }))
    expect(meta).toMatchObject({ type: 'file', filename: 'notes.txt', mime_type: 'text/plain', size_bytes: 11, downloadable: false })
    expect(String(meta.id)).toMatch(/^file_01/)
    const rec = mock.requests[0]
    expect(rec?.multipart).toEqual([
      { name: 'purpose', size: 4 },
      { name: 'file', filename: 'notes.txt', contentType: 'text/plain', size: 11 },
    ])
    expect(rec?.json).toBeUndefined()
    const list = await json(await call('GET', '/v1/files'))
    expect(list).toMatchObject({ data: [{ id: meta.id }], next_page: null })
    expect(await json(await call('GET', `/v1/files/${String(meta.id)}`))).toEqual(meta)
    const content = await call('GET', `/v1/files/${String(meta.id)}/content`)
    expect(await content.text()).toBe('hello, file')
    expect(await json(await call('DELETE', `/v1/files/${String(meta.id)}`))).toEqual({ id: meta.id, type: 'file_deleted' })
    await json(await call('GET', `/v1/files/${String(meta.id)}`), 404)
  })

  it('answers 400 without a file part and pages with next_page', async () => {
    const form = new FormData()
    form.append('other', 'x')
    await json(await call('POST', '/v1/files', { body: form }), 400)
    for (let i = 0; i < 3; i++) {
      const f = new FormData()
      f.append('file', new Blob([`n${i}`]), `f${i}.bin`)
      await call('POST', '/v1/files', { body: f })
    }
    const first = await json(await call('GET', '/v1/files?limit=2'))
    expect(typeof first.next_page).toBe('string')
    const second = await json(await call('GET', `/v1/files?limit=2&page=${String(first.next_page)}`))
    expect((second.data as Json[]).length).toBeGreaterThanOrEqual(1)
    const beta = await json(await call('GET', '/v1/files?limit=1', { headers: { 'anthropic-beta': 'files-api-2025-04-14' } }))
    expect(beta).toHaveProperty('has_more', true)
  })

  it('a MOCK:FILE code-execution reply references a downloadable output file', async () => {
    const res = await post(mock, '/v1/messages', messagesBody({ tools: [{ type: 'code_execution_20250825', name: 'code_execution' }] }, 'MOCK:FILE MOCK:PII'))
    const msg = (await res.json()) as { content: Json[] }
    const result = msg.content[1]?.content as { content: Array<{ type: string; file_id: string }> }
    const fileId = result.content[0]?.file_id ?? ''
    expect(await json(await call('GET', `/v1/files/${fileId}`))).toMatchObject({ downloadable: true, filename: 'output.txt' })
    expect(await (await call('GET', `/v1/files/${fileId}/content`)).text()).toContain('alice.smith@example.com')
  })
})

function skillForm(dir: string, name: string, displayName?: string): FormData {
  const form = new FormData()
  form.append('files[]', new Blob([`---\nname: ${name}\ndescription: Writes ${name} reports\n---\n# ${name}\n`]), `${dir}/SKILL.md`)
  form.append('files[]', new Blob(['print(1)\n']), `${dir}/scripts/run.py`)
  if (displayName !== undefined) form.append('display_name', displayName)
  return form
}

describe('skills', () => {
  it('creates, lists, gets, versions and deletes a custom skill (GA shapes)', async () => {
    const skill = await json(await call('POST', '/v1/skills', { body: skillForm('acme-report', 'acme-report', 'Acme report') }))
    expect(skill).toMatchObject({ type: 'skill', display_name: 'Acme report', source: { type: 'custom' } })
    expect(String(skill.id)).toMatch(/^skill_01/)
    expect(String(skill.latest_version_id)).toMatch(/^skver_01/)
    expect(mock.requests[0]?.multipart?.map((p) => p.filename ?? p.name)).toEqual(['acme-report/SKILL.md', 'acme-report/scripts/run.py', 'display_name'])
    const id = String(skill.id)
    const custom = await json(await call('GET', '/v1/skills?source=custom'))
    expect((custom.data as Json[]).map((s) => s.id)).toEqual([id])
    const all = await json(await call('GET', '/v1/skills'))
    expect((all.data as Json[]).map((s) => s.id)).toEqual(expect.arrayContaining([id, 'pptx', 'xlsx']))
    const v2 = await json(await call('POST', `/v1/skills/${id}/versions`, { body: skillForm('acme-report', 'acme-report') }))
    expect(v2).toMatchObject({ type: 'skill_version', skill_id: id, name: 'acme-report', description: 'Writes acme-report reports' })
    expect(await json(await call('GET', `/v1/skills/${id}`))).toMatchObject({ latest_version_id: v2.id })
    const versions = await json(await call('GET', `/v1/skills/${id}/versions`))
    expect((versions.data as Json[]).map((v) => v.id)).toEqual([v2.id, skill.latest_version_id])
    expect(await json(await call('GET', `/v1/skills/${id}/versions/${String(v2.id)}`))).toMatchObject({ id: v2.id })
    expect(await json(await call('DELETE', `/v1/skills/${id}/versions/${String(v2.id)}`))).toEqual({ id: v2.id, type: 'skill_version_deleted' })
    expect(await json(await call('DELETE', `/v1/skills/${id}`))).toEqual({ id, type: 'skill_deleted' })
    await json(await call('GET', `/v1/skills/${id}`), 404)
  })

  it('rejects uploads without SKILL.md, name changes and writes to Anthropic skills', async () => {
    const noSkillMd = new FormData()
    noSkillMd.append('files[]', new Blob(['x']), 'dir/readme.md')
    await json(await call('POST', '/v1/skills', { body: noSkillMd }), 400)
    const skill = await json(await call('POST', '/v1/skills', { body: skillForm('a', 'a') }))
    await json(await call('POST', `/v1/skills/${String(skill.id)}/versions`, { body: skillForm('b', 'b') }), 400)
    await json(await call('DELETE', '/v1/skills/pptx'), 403)
  })

  it('resolves a custom skill latest version in a container', async () => {
    const skill = await json(await call('POST', '/v1/skills', { body: skillForm('acme', 'acme') }))
    const body = messagesBody({
      container: { skills: [{ type: 'custom', skill_id: skill.id, version: 'latest' }] },
      tools: [{ type: 'code_execution_20250825', name: 'code_execution' }],
    })
    const msg = (await (await post(mock, '/v1/messages', body)).json()) as Json & { content: Json[] }
    expect(msg.container).toMatchObject({ skills: [{ type: 'custom', skill_id: skill.id, version: skill.latest_version_id }] })
    expect(msg.content[0]).toMatchObject({ input: { command: 'cat /skills/acme/SKILL.md | head -3' } })
  })

  it('adds beta field names when the skills beta header is sent', async () => {
    const beta = { 'anthropic-beta': 'skills-2025-10-02' }
    const skill = await json(await call('GET', '/v1/skills/pptx?beta=true', { headers: beta }))
    expect(skill).toMatchObject({ display_title: 'PowerPoint', latest_version: '20251013', source: 'anthropic' })
  })
})

describe('message batches', () => {
  it('creates in_progress, then ends; results are JSONL; cancel and delete', async () => {
    const requests = [
      { custom_id: 'ok', params: messagesBody() },
      { custom_id: 'bad', params: messagesBody({ model: 'mock-error-500' }) },
    ]
    const created = await json(await post(mock, '/v1/messages/batches', { requests }))
    expect(created).toMatchObject({ type: 'message_batch', processing_status: 'in_progress', results_url: null, request_counts: { processing: 2 } })
    const id = String(created.id)
    expect(id).toMatch(/^msgbatch_01/)
    const ended = await json(await call('GET', `/v1/messages/batches/${id}`))
    expect(ended).toMatchObject({ processing_status: 'ended', request_counts: { processing: 0, succeeded: 1, errored: 1 } })
    expect(ended.results_url).toBe(`${mock.url}/v1/messages/batches/${id}/results`)
    const lines = (await (await call('GET', `/v1/messages/batches/${id}/results`)).text()).trim().split('\n').map((l) => JSON.parse(l) as Json)
    expect(lines[0]).toMatchObject({ custom_id: 'ok', result: { type: 'succeeded', message: { type: 'message' } } })
    expect(lines[1]).toMatchObject({ custom_id: 'bad', result: { type: 'errored', error: { type: 'error', error: { type: 'api_error' } } } })
    const list = await json(await call('GET', '/v1/messages/batches'))
    expect(list).toMatchObject({ first_id: id, has_more: false })
    expect(await json(await call('DELETE', `/v1/messages/batches/${id}`))).toEqual({ id, type: 'message_batch_deleted' })

    const second = await json(await post(mock, '/v1/messages/batches', { requests: [requests[0]] }))
    const canceling = await json(await post(mock, `/v1/messages/batches/${String(second.id)}/cancel`, {}))
    expect(canceling).toMatchObject({ processing_status: 'canceling' })
    expect(await json(await call('GET', `/v1/messages/batches/${String(second.id)}`))).toMatchObject({ request_counts: { canceled: 1 } })
  })

  it('validates the batch body', async () => {
    await json(await post(mock, '/v1/messages/batches', { requests: [] }), 400)
    await json(await post(mock, '/v1/messages/batches', { requests: [{ custom_id: 'a', params: {} }, { custom_id: 'a', params: {} }] }), 400)
  })
})
