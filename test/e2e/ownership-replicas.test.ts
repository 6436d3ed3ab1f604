import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTestSchema, describePostgres, postgresTestUrl } from '../contract/postgres-env.js'
import { startStack, type Stack } from './harness.js'

/**
 * Ownership is kept in the store (issue #12 item 3), so it holds across replicas: two gateways on one
 * PostgreSQL in front of one upstream. What a job creates through replica A is its own at replica B
 * at once (the owner is committed before the id reaches the client), and still nobody else's.
 */
let schema: Awaited<ReturnType<typeof createTestSchema>> | undefined
let a: Stack
let b: Stack

await describePostgres('ownership across two replicas on one PostgreSQL', () => {
  beforeAll(async () => {
    schema = await createTestSchema()
    const url = `${postgresTestUrl}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`
    a = await startStack({ configure: (config) => (config.storage = { url }) })
    b = await startStack({ configure: (config) => (config.storage = { url }), upstreamUrl: a.mock.url })
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await schema?.drop()
  })

  const owner = { repository_id: '42' }
  const other = { repository_id: '43' }
  const call = async (stack: Stack, claims: Record<string, string>, method: string, path: string, body?: string) =>
    fetch(`${stack.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body }),
      headers: { 'x-api-key': await stack.mint(claims), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    })
  const codeExecution = (text: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, tools: [{ type: 'code_execution_20250825', name: 'code_execution' }], messages: [{ role: 'user', content: text }], ...extra })

  it('a container and its output file created at A are reused by their owner at B and refused to another principal', async () => {
    const first = await call(a, owner, 'POST', '/v1/messages', codeExecution('MOCK:FILE', { stream: true }))
    expect(first.status).toBe(200)
    const text = await first.text()
    const container = /"(container_[A-Za-z0-9]+)"/.exec(text)?.[1] ?? ''
    const file = /"file_id":"(file_[A-Za-z0-9]+)"/.exec(text)?.[1] ?? ''
    expect(container).not.toBe('')
    // No wait: the owners were committed before the stream carried the ids.
    expect((await call(b, owner, 'POST', '/v1/messages', codeExecution('again', { container }))).status).toBe(200)
    expect((await call(b, owner, 'GET', `/v1/files/${file}/content`)).status).toBe(200)
    for (const stack of [a, b]) {
      expect((await call(stack, other, 'POST', '/v1/messages', codeExecution('mine now', { container }))).status).toBe(404)
      expect((await call(stack, other, 'GET', `/v1/files/${file}/content`)).status).toBe(404)
    }
  })

  it('a batch created at A is listed, read and deleted by its owner at B, and by nobody else', async () => {
    const created = await call(a, owner, 'POST', '/v1/messages/batches', JSON.stringify({ requests: [{ custom_id: 'x', params: { model: 'claude-sonnet-4-6', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } }] }))
    const id = ((await created.json()) as { id: string }).id
    const listed = async (stack: Stack, claims: Record<string, string>) =>
      ((await (await call(stack, claims, 'GET', '/v1/messages/batches?limit=100')).json()) as { data: Array<{ id: string }> }).data.map((batch) => batch.id)
    expect(await listed(b, owner)).toContain(id)
    expect(await listed(b, other)).not.toContain(id)
    expect((await call(b, other, 'DELETE', `/v1/messages/batches/${id}`)).status).toBe(404)
    expect((await call(b, owner, 'DELETE', `/v1/messages/batches/${id}`)).status).toBe(200)
  })
})
