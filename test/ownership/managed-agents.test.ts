import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bodyReferences, createdObjects, isCreateCall, listKind, managedReferences, pathChecks } from '../../src/ownership/index.js'

/** Managed Agents objects owned per principal (issue #18): shapes from `@anthropic-ai/sdk` 1.14 `beta.*`. */
describe('Managed Agents paths', () => {
  it.each([
    ['GET', '/v1/agents/agent_1', 'agent', 'agent_1'],
    ['POST', '/v1/agents/agent_1', 'agent', 'agent_1'],
    ['POST', '/v1/agents/agent_1/archive', 'agent', 'agent_1'],
    ['GET', '/v1/agents/agent_1/versions', 'agent', 'agent_1'],
    ['GET', '/v1/agents/agent_1/versions/3', 'agent', 'agent_1'],
    ['DELETE', '/v1/environments/env_1', 'environment', 'env_1'],
    ['POST', '/v1/environments/env_1/work/items', 'environment', 'env_1'],
    ['GET', '/v1/sessions/sesn_1', 'session', 'sesn_1'],
    ['POST', '/v1/sessions/sesn_1/events', 'session', 'sesn_1'],
    ['GET', '/v1/sessions/sesn_1/events/stream', 'session', 'sesn_1'],
    ['GET', '/v1/sessions/sesn_1/resources', 'session', 'sesn_1'],
    ['GET', '/v1/sessions/sesn_1/threads/sthr_1', 'session', 'sesn_1'],
    ['POST', '/v1/deployments/depl_1/pause', 'deployment', 'depl_1'],
    ['POST', '/v1/deployments/depl_1/run', 'deployment', 'depl_1'],
    ['GET', '/v1/deployment_runs/drun_1', 'deployment_run', 'drun_1'],
    ['POST', '/v1/vaults/vlt_1/credentials', 'vault', 'vlt_1'],
    ['DELETE', '/v1/vaults/vlt_1/credentials/vcrd_1', 'vault', 'vlt_1'],
    ['GET', '/v1/memory_stores/memstore_1/memories/mem_1', 'memory_store', 'memstore_1'],
    ['GET', '/v1/memory_stores/memstore_1/memory_versions', 'memory_store', 'memstore_1'],
    ['POST', '/v1/tunnels/tunnel_1/reveal_token', 'tunnel', 'tunnel_1'],
  ])('%s %s addresses %s %s, reads included', (method, path, kind, id) => {
    expect(pathChecks(method, path)).toEqual([{ kind, id, namedSkillSuffices: false }])
  })

  it('leaves collections unchecked, filters their lists, and learns what their creates return', () => {
    for (const family of ['agents', 'environments', 'sessions', 'deployments', 'deployment_runs', 'vaults', 'memory_stores', 'tunnels']) {
      expect(pathChecks('GET', `/v1/${family}`)).toEqual([])
      expect(listKind('GET', `/v1/${family}`)).toBeDefined()
      expect(listKind('POST', `/v1/${family}`)).toBeUndefined()
    }
    expect(pathChecks('GET', '/v1/organizations/org_1')).toEqual([])
    expect(listKind('GET', '/v1/memory_stores')).toBe('memory_store')
    expect(listKind('GET', '/v1/deployment_runs')).toBe('deployment_run')
    expect(listKind('GET', '/v1/agents/agent_1/versions')).toBeUndefined()

    expect(isCreateCall('POST', '/v1/agents')).toBe(true)
    expect(isCreateCall('POST', '/v1/agents/agent_1')).toBe(false)
    expect(isCreateCall('POST', '/v1/deployment_runs')).toBe(false)
    expect(isCreateCall('GET', '/v1/sessions')).toBe(false)
    expect(createdObjects('/v1/agents', { id: 'agent_1', type: 'agent', version: 1 })).toEqual([{ kind: 'agent', id: 'agent_1' }])
    expect(createdObjects('/v1/memory_stores', { id: 'memstore_1' })).toEqual([{ kind: 'memory_store', id: 'memstore_1' }])
    expect(createdObjects('/v1/tunnels', { id: 'tunnel_1' })).toEqual([{ kind: 'tunnel', id: 'tunnel_1' }])
    // A run starts a session at Anthropic: both are the runner's.
    expect(createdObjects('/v1/deployments/depl_1/run', { id: 'drun_1', type: 'deployment_run', deployment_id: 'depl_1', session_id: 'sesn_9' })).toEqual([
      { kind: 'deployment_run', id: 'drun_1' },
      { kind: 'session', id: 'sesn_9' },
    ])
    expect(createdObjects('/v1/deployments/depl_1/run', { id: 'drun_2', session_id: null })).toEqual([{ kind: 'deployment_run', id: 'drun_2' }])
    expect(createdObjects('/v1/sessions', { type: 'error', error: {} })).toEqual([])
  })
})

/** References in the order of where they sit (the walk's own order is not part of the contract). */
const byPlace = <T extends { at: string }>(refs: T[]): T[] => [...refs].sort((a, b) => a.at.localeCompare(b.at))

describe('Managed Agents references in bodies', () => {
  it('finds a session\'s agent, environment, vaults, memory stores and files', () => {
    const session = {
      agent: 'agent_1',
      environment_id: 'env_1',
      vault_ids: ['vlt_1', 'vlt_2'],
      resources: [
        { type: 'memory_store', memory_store_id: 'memstore_1', access: 'read_write' },
        { type: 'file', file_id: 'file_1' },
        { type: 'github_repository', url: 'https://github.com/acme/app', authorization_token: 'ghp_x' },
      ],
      initial_events: [{ type: 'user.message', content: [{ type: 'document', source: { type: 'file', file_id: 'file_2' } }] }],
    }
    expect(bodyReferences('sessions', session)).toEqual(
      expect.arrayContaining([
        { kind: 'file', id: 'file_1', at: 'resources[1]' },
        { kind: 'file', id: 'file_2', at: 'initial_events[0].content[0].source' },
        { kind: 'agent', id: 'agent_1', at: 'agent' },
        { kind: 'environment', id: 'env_1', at: 'environment_id' },
        { kind: 'vault', id: 'vlt_1', at: 'vault_ids[0]' },
        { kind: 'vault', id: 'vlt_2', at: 'vault_ids[1]' },
        { kind: 'memory_store', id: 'memstore_1', at: 'resources[0].memory_store_id' },
      ]),
    )
    expect(bodyReferences('sessions', session)).toHaveLength(7)
  })

  it('reads every shape an agent is cited in: id string, {type:"agent"}, overrides, a roster', () => {
    expect(byPlace(managedReferences({ agent: { type: 'agent', id: 'agent_1', version: 2 }, environment_id: 'env_1' }))).toEqual([
      { kind: 'agent', id: 'agent_1', at: 'agent' },
      { kind: 'environment', id: 'env_1', at: 'environment_id' },
    ])
    expect(managedReferences({ agent: { type: 'agent_with_overrides', id: 'agent_2', model: 'claude-sonnet-4-6' } })).toEqual([{ kind: 'agent', id: 'agent_2', at: 'agent' }])
    const lead = { name: 'lead', model: 'claude-sonnet-4-6', multiagent: { type: 'coordinator', agents: ['agent_3', { type: 'agent', id: 'agent_4' }, { type: 'self' }, { type: 'advisor', model: 'claude-opus-5-5' }] } }
    expect(managedReferences(lead)).toEqual([
      { kind: 'agent', id: 'agent_3', at: 'multiagent.agents[0]' },
      { kind: 'agent', id: 'agent_4', at: 'multiagent.agents[1]' },
    ])
    // A session update's `agent` carries tools only: it cites nothing.
    expect(managedReferences({ agent: { tools: [{ type: 'agent_toolset_20260401' }] }, title: 't' })).toEqual([])
  })

  it('refuses what it cannot read: a malformed id is an id no one owns', () => {
    expect(byPlace(managedReferences({ agent: 42, environment_id: { id: 'env_1' }, vault_ids: ['vlt_1', 7] }))).toEqual([
      { kind: 'agent', id: '', at: 'agent' },
      { kind: 'environment', id: '', at: 'environment_id' },
      { kind: 'vault', id: 'vlt_1', at: 'vault_ids[0]' },
      { kind: 'vault', id: '', at: 'vault_ids[1]' },
    ])
    expect(managedReferences({ vault_ids: 'vlt_1' })).toEqual([{ kind: 'vault', id: 'vlt_1', at: 'vault_ids' }])
    let deep: unknown = { agent: 'agent_deep' }
    for (let i = 0; i < 300; i++) deep = [deep]
    expect(managedReferences({ x: deep }).some((ref) => ref.id === '')).toBe(true)
  })

  it('reads Managed Agents references only on Managed Agents endpoints; files everywhere', () => {
    const body = { agent_id: 'agent_1', messages: [{ role: 'user', content: [{ type: 'container_upload', file_id: 'file_1' }] }] }
    expect(bodyReferences('messages', body)).toEqual([{ kind: 'file', id: 'file_1', at: 'messages[0].content[0]' }])
    expect(bodyReferences('deployments', body).map((ref) => ref.kind).sort()).toEqual(['agent', 'file'])
    expect(bodyReferences('sessions', undefined)).toEqual([])
  })

  it('never misses an id member, wherever it is nested (property)', () => {
    const member = fc.constantFrom(['agent_id', 'agent'], ['environment_id', 'environment'], ['vault_id', 'vault'], ['memory_store_id', 'memory_store'], ['tunnel_id', 'tunnel'], ['session_id', 'session'], ['deployment_id', 'deployment'])
    const path = fc.array(fc.oneof(fc.constantFrom('a', 'b', 'resources', 'config'), fc.nat({ max: 3 })), { maxLength: 12 })
    fc.assert(
      fc.property(member, path, fc.string({ minLength: 1, maxLength: 12 }), ([name, kind], steps, id) => {
        let body: unknown = { [name]: id }
        for (const step of steps.reverse()) body = typeof step === 'number' ? [...Array<unknown>(step).fill(null), body] : { [step]: body }
        expect(managedReferences(body)).toContainEqual(expect.objectContaining({ kind, id }))
      }),
    )
  })
})
