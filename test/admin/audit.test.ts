import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKENS, startAdminStack, type AdminStack } from './helpers.js'

let s: AdminStack
let plainId = ''
let stream = { id: '', text: '' }

beforeAll(async () => {
  s = await startAdminStack()
  const token = await s.stack.mint()
  plainId = (await s.v1(token)).id
  await s.v1(await s.stack.mint({ repository_id: '43' }))
  stream = await s.v1(token, true)
})
afterAll(async () => {
  await s.close()
})

const get = (path: string) => s.call('GET', path, TOKENS.auditor)

describe('admin API: audit', () => {
  it('lists records newest first, filtered, with cursor paging', async () => {
    const all = (await (await get('/admin/api/audit')).json()) as { records: { id: string; principal: string }[]; nextCursor: string | null }
    expect(all.records.map((r) => r.id)).toEqual([stream.id, expect.any(String), plainId])
    const one = (await (await get('/admin/api/audit?principal=ci%3A1234567%2F43')).json()) as typeof all
    expect(one.records.map((r) => r.principal)).toEqual(['ci:1234567/43'])
    const page = (await (await get('/admin/api/audit?limit=2')).json()) as typeof all
    expect(page.records).toHaveLength(2)
    const next = (await (await get(`/admin/api/audit?limit=2&cursor=${page.nextCursor}`)).json()) as typeof all
    expect(next.records.map((r) => r.id)).toEqual([plainId])
    const none = (await (await get(`/admin/api/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).json()) as typeof all
    expect(none.records).toEqual([])
  })

  it.each([
    ['/admin/api/audit?limit=0', 'limit'],
    ['/admin/api/audit?limit=abc', 'limit'],
    ['/admin/api/audit?decision=maybe', 'decision'],
    ['/admin/api/audit?since=yesterday', 'since'],
    ['/admin/api/audit?colour=red', 'colour'],
    ['/admin/api/audit?rule=a&rule=b', 'rule'],
    ['/admin/api/audit/x/replay?speed=-1', 'speed'],
  ])('refuses %s with a 400 naming %s', async (path, field) => {
    const res = await get(path)
    const body = (await res.json()) as { error: { type: string; message: string } }
    expect(res.status).toBe(400)
    expect(body.error.type).toBe('invalid_request_error')
    expect(body.error.message).toContain(field)
  })

  it('shows one record and 404s an unknown id', async () => {
    const record = (await (await get(`/admin/api/audit/${plainId}`)).json()) as { id: string; decision: string; hash: string }
    expect(record).toMatchObject({ id: plainId, decision: 'allow', hash: expect.any(String) })
    expect((await get('/admin/api/audit/01JUNKJUNKJUNKJUNKJUNKJUNK')).status).toBe(404)
  })

  it('replays a recorded stream as SSE, byte for byte what the client received', async () => {
    const res = await get(`/admin/api/audit/${stream.id}/replay?speed=1000`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(await res.text()).toBe(stream.text)
  })

  it('replays with the recorded timing (speed 1 takes as long as the stream did)', async () => {
    const record = (await (await get(`/admin/api/audit/${stream.id}`)).json()) as { response: { events: { t: number }[] } }
    const span = record.response.events.at(-1)!.t - record.response.events[0]!.t
    const started = performance.now()
    await (await get(`/admin/api/audit/${stream.id}/replay?speed=1`)).text()
    expect(performance.now() - started).toBeGreaterThanOrEqual(span * 0.9 - 5)
  })

  it('stops a replay when the viewer goes away, without logging a failure', async () => {
    const abort = new AbortController()
    const res = await fetch(`${s.url}/admin/api/audit/${stream.id}/replay?speed=0.001`, { headers: { authorization: `Bearer ${TOKENS.auditor}` }, signal: abort.signal })
    const reader = res.body!.getReader()
    await reader.read()
    abort.abort()
    await expect.poll(() => s.adminLogs.some((line) => line.includes(`/admin/api/audit/${stream.id}/replay`) && line.includes('"msg":"admin request"'))).toBe(true)
    expect(s.adminLogs.join('')).not.toContain('admin request failed')
  })

  it('refuses to replay a record without a stream with 409', async () => {
    const res = await get(`/admin/api/audit/${plainId}/replay`)
    expect(res.status).toBe(409)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('no recorded stream')
  })

  it('exports JSON Lines, oldest first, with the same filters', async () => {
    const res = await get('/admin/api/audit/export')
    expect(res.headers.get('content-type')).toBe('application/x-ndjson')
    const text = await res.text()
    expect(text.endsWith('\n')).toBe(true)
    const ids = text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id)
    expect(ids).toEqual([plainId, expect.any(String), stream.id])
    const filtered = await (await get('/admin/api/audit/export?principal=ci%3A1234567%2F43')).text()
    expect(filtered.trimEnd().split('\n')).toHaveLength(1)
    expect(await (await get('/admin/api/audit/export?principal=nobody')).text()).toBe('')
  })

  it('verifies the hash chain', async () => {
    const res = await s.call('POST', '/admin/api/audit/verify', TOKENS.auditor)
    expect(await res.json()).toMatchObject({ ok: true, records: 3, problemCount: 0 })
  })
})
