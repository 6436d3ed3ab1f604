import { describe, expect, it } from 'vitest'
import { extractRequestFacts } from '../../src/policy/request-facts.js'
import { namedFacts } from '../../src/stages/audit-facts.js'

/**
 * Issue #12 item 1: the audit record and the approval review name the request from the facts policy
 * decided on, so they agree with it on batches, skill types and numeric versions (they were derived
 * a second time, differently, and a batch showed `model: null, skills: []`).
 */
describe('namedFacts', () => {
  it('a batch: every distinct model in order, the skills and tools of all its entries', () => {
    const facts = extractRequestFacts('batches', {
      requests: [
        { custom_id: 'a', params: { model: 'claude-sonnet-4-6', container: { skills: [{ type: 'anthropic', skill_id: 'pptx' }] }, tools: [{ type: 'code_execution_20250825' }] } },
        { custom_id: 'b', params: { model: 'claude-haiku-4-5', tools: [{ name: 'lookup', input_schema: {} }] } },
        { custom_id: 'c', params: { model: 'claude-sonnet-4-6', container: { id: 'container_1', skills: [{ type: 'anthropic', skill_id: 'pptx' }] } } },
      ],
    })
    expect(namedFacts(facts)).toEqual({
      model: 'claude-sonnet-4-6, claude-haiku-4-5',
      skills: ['anthropic:pptx'],
      tools: ['code_execution_20250825', 'client:lookup'],
      containerId: 'container_1',
    })
  })

  it('skills as policy reads them: the type as sent (none is not "custom"), numeric versions kept, latest implied', () => {
    const facts = extractRequestFacts('messages', {
      model: 'claude-opus-4-8',
      container: { skills: [{ skill_id: 'skill_01NoType' }, { type: 'custom', skill_id: 'skill_01Pinned', version: 1759178010641129 }, { type: 'anthropic', skill_id: 'xlsx', version: 'latest' }] },
    })
    expect(namedFacts(facts).skills).toEqual([':skill_01NoType', 'custom:skill_01Pinned@1759178010641129', 'anthropic:xlsx'])
  })

  it('a body that is not inspected names nothing', () => {
    expect(namedFacts(extractRequestFacts('models', undefined))).toEqual({ skills: [], tools: [] })
    expect(namedFacts(undefined)).toEqual({ skills: [], tools: [] })
  })
})
