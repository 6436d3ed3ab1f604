/**
 * The official SDKs talk to the mock directly. The SDK assembles streams itself and throws on anything
 * unexpected, so passing here is the proof that the mock's SSE and JSON shapes are faithful.
 */
import Anthropic, { APIError, toFile } from '@anthropic-ai/sdk'
import { identityTokenFromValue } from '@anthropic-ai/sdk/lib/credentials/identity-token'
import { oidcFederationProvider } from '@anthropic-ai/sdk/lib/credentials/oidc-federation'
import Anthropic0 from 'anthropic-sdk-0x'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ANTHROPIC_SKILL_LATEST, MOCK_DEFAULT_TEXT, MOCK_PII_TEXT, startMockUpstream } from '../../src/mock-upstream/index.js'
import type { MockUpstream } from '../../src/mock-upstream/index.js'
import { fakeJwt } from './helpers.js'

let mock: MockUpstream
let client: Anthropic

beforeAll(async () => {
  mock = await startMockUpstream({ federation: {} })
  client = new Anthropic({ baseURL: mock.url, apiKey: mock.apiKey, maxRetries: 0 })
})
afterAll(async () => {
  await mock.close()
})
beforeEach(() => mock.reset())

const user = (content: string): Anthropic.MessageParam[] => [{ role: 'user', content }]
const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}

describe('SDK 1.14 against the mock', () => {
  it('messages.create (JSON) with Bearer auth and API version 2026-10-21', async () => {
    const msg = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: user('hi') })
    expect(msg.content).toEqual([{ type: 'text', text: MOCK_DEFAULT_TEXT }])
    expect(msg.model).toBe('claude-sonnet-4-6')
    const rec = mock.requests[0]
    expect(rec?.headers.authorization).toBe(`Bearer ${mock.apiKey}`)
    expect(rec?.headers['anthropic-version']).toBe('2026-10-21')
  })

  it('messages.stream().finalMessage() assembles text, thinking and a tool_use', async () => {
    const stream = client.messages.stream({
      model: 'claude-opus-5-5', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 },
      tools: [weatherTool], messages: user('MOCK:PII MOCK:TOOL'),
    })
    const texts: string[] = []
    stream.on('text', (delta) => texts.push(delta))
    const msg = await stream.finalMessage()
    expect(msg.stop_reason).toBe('tool_use')
    expect(msg.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use'])
    expect(msg.content[1]).toMatchObject({ type: 'text', text: MOCK_PII_TEXT })
    expect(texts.join('')).toBe(MOCK_PII_TEXT)
    expect(msg.content[2]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'alice.smith@example.com' } })
    expect(msg.usage.output_tokens).toBeGreaterThan(1)
    expect(mock.requests[0]?.headers['x-stainless-helper-method']).toBe('stream')
  })

  it('a skills request: server tool blocks and the container from message_delta', async () => {
    const params = {
      model: 'claude-opus-5-5', max_tokens: 1024, messages: user('Create a presentation'),
      container: { skills: [{ type: 'anthropic' as const, skill_id: 'pptx', version: 'latest' }] },
      tools: [{ type: 'code_execution_20250825' as const, name: 'code_execution' as const }],
    }
    const streamed = await client.messages.stream(params).finalMessage()
    expect(streamed.content.map((b) => b.type)).toEqual(['server_tool_use', 'bash_code_execution_tool_result', 'text'])
    expect(streamed.content[0]).toMatchObject({ name: 'bash_code_execution', input: { command: 'cat /skills/pptx/SKILL.md | head -3' } })
    expect(streamed.container?.skills).toEqual([{ type: 'anthropic', skill_id: 'pptx', version: ANTHROPIC_SKILL_LATEST }])
    const json = await client.messages.create({ ...params, container: streamed.container?.id ?? null })
    expect(json.container?.id).toBe(streamed.container?.id)
  })

  it('raw stream: true iteration yields every event with its index', async () => {
    const stream = await client.messages.create({ model: 'm', max_tokens: 64, messages: user('hi'), stream: true })
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    expect(types[0]).toBe('message_start')
    expect(types.at(-1)).toBe('message_stop')
  })

  it('error statuses and mid-stream errors surface as APIError', async () => {
    const create = client.messages.create({ model: 'mock-error-529', max_tokens: 8, messages: user('hi') })
    await expect(create).rejects.toMatchObject({ status: 529, type: 'overloaded_error' })
    const rateLimited = await client.messages.create({ model: 'mock-error-429', max_tokens: 8, messages: user('hi') }).catch((e: unknown) => e)
    expect(rateLimited).toBeInstanceOf(Anthropic.RateLimitError)
    expect((rateLimited as APIError).requestID).toMatch(/^req_mock_/)
    const stream = client.messages.stream({ model: 'm', max_tokens: 8, messages: user('hi') }, { headers: { 'mock-stream-error-after': '2' } })
    const err = await stream.finalMessage().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(APIError)
    expect((err as APIError).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })
  })

  it('count_tokens, models, files and skills through the SDK', async () => {
    const count = await client.messages.countTokens({ model: 'claude-sonnet-4-6', messages: user('hi') })
    expect(count.input_tokens).toBeGreaterThan(0)
    const models: string[] = []
    for await (const model of client.models.list({ limit: 2 })) models.push(model.id)
    expect(models).toContain('claude-haiku-4-5-20251001')
    const file = await client.files.upload({ file: await toFile(Buffer.from('data'), 'data.txt', { type: 'text/plain' }) })
    expect(file).toMatchObject({ filename: 'data.txt', size_bytes: 4 })
    expect(await (await client.files.download(file.id)).text()).toBe('data')
    const skill = await client.skills.create({
      display_name: 'Acme report',
      files: [await toFile(Buffer.from('---\nname: acme-report\ndescription: d\n---\n'), 'acme-report/SKILL.md')],
    })
    expect(skill).toMatchObject({ display_name: 'Acme report', source: { type: 'custom' } })
    const upload = mock.requests.find((r) => r.path === '/v1/skills')
    expect(upload?.multipart).toEqual([
      { name: 'display_name', size: 11 },
      { name: 'files[]', filename: 'acme-report/SKILL.md', contentType: 'application/octet-stream', size: 41 },
    ])
  })

  it('message batches through the SDK, results via results_url', async () => {
    const batch = await client.messages.batches.create({
      requests: [{ custom_id: 'a', params: { model: 'claude-sonnet-4-6', max_tokens: 16, messages: user('hi') } }],
    })
    expect(batch.processing_status).toBe('in_progress')
    const results = []
    for await (const line of await client.messages.batches.results(batch.id)) results.push(line)
    expect(results).toMatchObject([{ custom_id: 'a', result: { type: 'succeeded', message: { content: [{ text: MOCK_DEFAULT_TEXT }] } } }])
  })

  it('workload identity federation: exchanges the JWT, then calls with the minted token', async () => {
    const assertion = fakeJwt({ iss: 'https://ci.example', sub: 'repo:acme/app' })
    const federated = new Anthropic({
      baseURL: mock.url, maxRetries: 0,
      credentials: oidcFederationProvider({
        identityTokenProvider: identityTokenFromValue(assertion), federationRuleId: 'fdrl_mock',
        organizationId: '00000000-0000-0000-0000-000000000001', baseURL: mock.url, fetch: globalThis.fetch,
      }),
    })
    const msg = await federated.messages.create({ model: 'm', max_tokens: 8, messages: user('hi') })
    expect(msg.type).toBe('message')
    expect(mock.exchanges).toEqual([{ assertion, federation_rule_id: 'fdrl_mock', organization_id: '00000000-0000-0000-0000-000000000001' }])
    expect(String(mock.requests.at(-1)?.headers.authorization)).toMatch(/^Bearer sk-ant-oat01-mock-/)
  })
})

describe('SDK 0.x against the mock', () => {
  it('uses X-Api-Key, ?beta=true on beta calls, and streams', async () => {
    const old = new Anthropic0({ baseURL: mock.url, apiKey: mock.apiKey, maxRetries: 0 })
    const msg = await old.beta.messages.stream({
      model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'MOCK:TOOL' }], tools: [weatherTool],
    }).finalMessage()
    expect(msg.content.at(-1)).toMatchObject({ type: 'tool_use', input: { city: 'mock-city' } })
    const rec = mock.requests[0]
    expect(rec?.search).toBe('?beta=true')
    expect(rec?.headers['x-api-key']).toBe(mock.apiKey)
    expect(rec?.headers.authorization).toBeUndefined()
    expect(rec?.headers['anthropic-version']).toBe('2023-06-01')
  })
})
