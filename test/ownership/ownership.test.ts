import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createdObjects, deletedObject, skillVersionId, fileReferences, filterPage, judgeOwnership, listKind, messageObjects, namedCustomSkills, pageIds, pathChecks } from '../../src/ownership/index.js'
import { idPage } from '../../src/mock-upstream/pagination.js'

describe('objects on a path', () => {
  it.each([
    ['GET', '/v1/messages/batches/msgbatch_1', 'batch'],
    ['POST', '/v1/messages/batches/msgbatch_1/cancel', 'batch'],
    ['GET', '/v1/messages/batches/msgbatch_1/results', 'batch'],
    ['DELETE', '/v1/messages/batches/msgbatch_1', 'batch'],
    ['GET', '/v1/files/file_1', 'file'],
    ['GET', '/v1/files/file_1/content', 'file'],
    ['DELETE', '/v1/files/file_1', 'file'],
    // A method or sub-path the API does not have still names the object: checked, never let through.
    ['PATCH', '/v1/files/file_1', 'file'],
  ])('%s %s addresses a %s', (method, path, kind) => {
    expect(pathChecks(method, path)).toEqual([{ kind, id: path.split('/')[path.startsWith('/v1/files') ? 3 : 4], namedSkillSuffices: false }])
  })

  it('leaves collections and skill reads alone, and checks skill management', () => {
    expect(pathChecks('GET', '/v1/messages/batches')).toEqual([])
    expect(pathChecks('POST', '/v1/files')).toEqual([])
    expect(pathChecks('GET', '/v1/skills/skill_1/versions/skver_1')).toEqual([])
    expect(pathChecks('POST', '/v1/skills')).toEqual([])
    expect(pathChecks('POST', '/v1/skills/skill_1/versions')).toEqual([{ kind: 'skill', id: 'skill_1', namedSkillSuffices: true }])
    expect(pathChecks('DELETE', '/v1/skills/skill_1')).toEqual([{ kind: 'skill', id: 'skill_1', namedSkillSuffices: false }])
    expect(pathChecks('DELETE', '/v1/skills/skill_1/versions/skver_2')).toEqual([
      { kind: 'skill', id: 'skill_1', namedSkillSuffices: true },
      { kind: 'skill_version', id: 'skill_1/skver_2', namedSkillSuffices: false },
    ])
    expect([listKind('GET', '/v1/messages/batches'), listKind('GET', '/v1/files'), listKind('POST', '/v1/files'), listKind('GET', '/v1/skills')]).toEqual(['batch', 'file', undefined, undefined])
  })
})

describe('file references in a body', () => {
  it('finds every file_id, in every body of a batch, with where it sits', () => {
    const body = {
      requests: [
        { custom_id: 'a', params: { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'file_a' } }] }] } },
        { custom_id: 'b', params: { messages: [{ role: 'user', content: [{ type: 'container_upload', file_id: 'file_b' }, { type: 'image', source: { type: 'file', file_id: 42 } }] }] } },
      ],
    }
    expect(fileReferences(body)).toEqual([
      { kind: 'file', id: 'file_a', at: 'requests[0].params.messages[0].content[0].source' },
      { kind: 'file', id: 'file_b', at: 'requests[1].params.messages[0].content[0]' },
      { kind: 'file', id: '', at: 'requests[1].params.messages[0].content[1].source' },
    ])
    expect(fileReferences(undefined)).toEqual([])
  })

  it('refuses what it cannot walk: deeper than 256 levels', () => {
    let deep: unknown = { file_id: 'file_deep' }
    for (let i = 0; i < 300; i++) deep = [deep]
    const found = fileReferences({ messages: deep })
    expect(found.some((ref) => ref.id === '')).toBe(true)
  })
})

describe('what an answer created', () => {
  it('names the object of each create call and a skill\'s first version', () => {
    expect(createdObjects('/v1/messages/batches', { id: 'msgbatch_1', type: 'message_batch' })).toEqual([{ kind: 'batch', id: 'msgbatch_1' }])
    expect(createdObjects('/v1/files', { id: 'file_1' })).toEqual([{ kind: 'file', id: 'file_1' }])
    expect(createdObjects('/v1/skills', { id: 'skill_1', latest_version_id: 'skver_1' })).toEqual([{ kind: 'skill', id: 'skill_1' }, { kind: 'skill_version', id: 'skill_1/skver_1' }])
    expect(createdObjects('/v1/skills', { id: 'skill_1', latest_version: '1759178010641129' })).toContainEqual({ kind: 'skill_version', id: 'skill_1/1759178010641129' })
    expect(createdObjects('/v1/skills/skill_1/versions', { id: 'skver_2', version: '1759178010641130' })).toEqual([{ kind: 'skill_version', id: 'skill_1/1759178010641130' }])
    expect(createdObjects('/v1/files', { type: 'error' })).toEqual([])
  })

  it('names the container and output files of a message, whole or as stream events', () => {
    const message = { container: { id: 'container_1' }, content: [{ type: 'bash_code_execution_tool_result', content: { content: [{ type: 'bash_code_execution_output', file_id: 'file_out' }] } }] }
    expect(messageObjects(message)).toEqual([{ kind: 'container', id: 'container_1' }, { kind: 'file', id: 'file_out' }])
    expect(messageObjects({ type: 'message_delta', delta: { container: { id: 'container_2' } } })).toEqual([{ kind: 'container', id: 'container_2' }])
    expect(messageObjects({ container: null, content: [] })).toEqual([])
    const started = { type: 'content_block_start', index: 1, content_block: { type: 'bash_code_execution_tool_result', content: { content: [{ file_id: 'file_s' }] } } }
    expect(messageObjects(started)).toEqual([{ kind: 'file', id: 'file_s' }])
  })

  it('never takes a file id the model wrote itself (a tool call could name another principal\'s ownerless file)', () => {
    const forged = { content: [{ type: 'tool_use', name: 'fetch', input: { file_id: 'file_victim' } }, { type: 'text', text: '{"file_id":"file_victim"}' }] }
    expect(messageObjects(forged)).toEqual([])
    expect(messageObjects({ type: 'content_block_start', content_block: { type: 'tool_use', input: { file_id: 'file_victim' } } })).toEqual([])
  })
})

describe('ownership verdicts', () => {
  const owners = new Map([['file:mine', 'p1'], ['file:theirs', 'p2'], ['skill:skill_mine', 'p1']])
  const ownerOf = (kind: string, id: string) => owners.get(`${kind}:${id}`)
  const named = new Set(['skill_named'])

  it('allows only the principal\'s own objects and tells other from unknown', () => {
    expect(judgeOwnership([{ kind: 'file', id: 'mine', at: 'path' }], 'p1', named, ownerOf)).toEqual({ ok: true })
    expect(judgeOwnership([{ kind: 'file', id: 'mine', at: 'path' }, { kind: 'file', id: 'theirs', at: 'x' }], 'p1', named, ownerOf)).toMatchObject({ ok: false, code: 'object-not-owned', object: { id: 'theirs' } })
    expect(judgeOwnership([{ kind: 'file', id: 'nobody', at: 'path' }], 'p1', named, ownerOf)).toMatchObject({ ok: false, code: 'object-owner-unknown' })
    expect(judgeOwnership([{ kind: 'file', id: '', at: 'path' }], 'p1', named, ownerOf)).toMatchObject({ ok: false, code: 'object-owner-unknown' })
  })

  it('counts a skill the rule names as the caller\'s only where the check allows it', () => {
    expect(judgeOwnership([{ kind: 'skill', id: 'skill_named', at: 'path', namedSkillSuffices: true }], 'p1', named, ownerOf)).toEqual({ ok: true })
    expect(judgeOwnership([{ kind: 'skill', id: 'skill_named', at: 'path', namedSkillSuffices: false }], 'p1', named, ownerOf)).toMatchObject({ ok: false })
    expect(judgeOwnership([{ kind: 'skill', id: 'skill_mine', at: 'path' }], 'p1', named, ownerOf)).toEqual({ ok: true })
  })

  it('reads the custom skills each rule names', () => {
    const config = {
      skills: { notes: { type: 'custom' as const, id: 'skill_01Notes' }, slides: { type: 'anthropic' as const, id: 'pptx' } },
      rules: [{ id: 'r', issuer: 'i', effect: 'allow' as const, match: {}, allow: { endpoints: [], skills: ['notes', 'slides', 'custom:skill_02', 'anthropic:docx'] } }],
    }
    expect([...(namedCustomSkills(config).get('r') ?? [])]).toEqual(['skill_01Notes', 'skill_02'])
  })
})

describe('filtered list pages', () => {
  it('keeps the caller\'s items and names them as first and last', () => {
    const page = { data: [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }], has_more: true, first_id: 'a', last_id: 'd' }
    expect(pageIds(page)).toEqual(['a', 'b', 'c', 'd'])
    expect(filterPage(page, (id) => id === 'b' || id === 'c')).toEqual({ body: { data: [{ id: 'b' }, { id: 'c' }], has_more: true, first_id: 'b', last_id: 'c' }, removed: 2 })
    expect(filterPage({ data: [{ id: 'a' }], next_page: 'page_x' }, () => false)).toEqual({ body: { data: [], next_page: 'page_x' }, removed: 1 })
    expect(pageIds({ type: 'error' })).toBeUndefined()
  })

  it('pages through exactly the caller\'s items, in order, forwards with after_id and backwards with before_id', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), fc.integer({ min: 1, max: 7 }), (mine, limit) => {
        const items = mine.map((_, i) => ({ id: `b${String(i).padStart(3, '0')}` }))
        const owned = new Set(items.filter((_, i) => mine[i]).map((item) => item.id))
        const keep = (id: string) => owned.has(id)
        const expected = items.filter((item) => owned.has(item.id)).map((item) => item.id)
        const fetchPage = (query: string) => filterPage({ ...idPage(items, new URLSearchParams(query)) }, keep).body as { data: Array<{ id: string }>; has_more: boolean; first_id: string | null; last_id: string | null }

        const seen: string[] = []
        let page = fetchPage(`limit=${limit}`)
        for (let guard = 0; guard < 200; guard++) {
          seen.push(...page.data.map((item) => item.id))
          for (const item of page.data) expect(owned.has(item.id)).toBe(true)
          if (!page.has_more || page.last_id === null) break
          page = fetchPage(`limit=${limit}&after_id=${page.last_id}`)
        }
        expect(seen).toEqual(expected)

        const back: string[] = []
        page = fetchPage(`limit=${limit}&before_id=${items.at(-1)?.id ?? ''}`)
        for (let guard = 0; guard < 200; guard++) {
          back.unshift(...page.data.map((item) => item.id))
          if (!page.has_more || page.first_id === null) break
          page = fetchPage(`limit=${limit}&before_id=${page.first_id}`)
        }
        expect(back).toEqual(expected.filter((id) => id !== items.at(-1)?.id))
      }),
      { numRuns: 300 },
    )
  })
})

describe('deletedObject: what a successful DELETE removes', () => {
  it.each([
    ['/v1/messages/batches/msgbatch_1', { kind: 'batch', id: 'msgbatch_1' }],
    ['/v1/files/file_1', { kind: 'file', id: 'file_1' }],
    ['/v1/skills/skill_1', { kind: 'skill', id: 'skill_1' }],
    ['/v1/skills/skill_1/versions/2', { kind: 'skill_version', id: skillVersionId('skill_1', '2') }],
    ['/v1/agents/agent_1', { kind: 'agent', id: 'agent_1' }],
    ['/v1/vaults/vlt_1', { kind: 'vault', id: 'vlt_1' }],
  ])('DELETE %s → its object', (path, object) => {
    expect(deletedObject('DELETE', path)).toEqual(object)
  })

  it.each(['/v1/files/file_1/content', '/v1/messages/batches/msgbatch_1/results', '/v1/messages/batches/msgbatch_1/cancel', '/v1/skills/skill_1/versions', '/v1/agents/agent_1/versions', '/v1/files', '/v1/models/claude-x'])(
    'DELETE %s removes no owned object',
    (path) => {
      expect(deletedObject('DELETE', path)).toBeUndefined()
    },
  )

  it('only DELETE deletes', () => {
    expect(deletedObject('POST', '/v1/files/file_1')).toBeUndefined()
    expect(deletedObject('GET', '/v1/messages/batches/msgbatch_1')).toBeUndefined()
  })
})
