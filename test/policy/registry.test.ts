import { describe, expect, it } from 'vitest'
import { criteria, criterionOrder } from '../../src/policy/criteria/index.js'
import { describeReason } from '../../src/policy/describe.js'
import { reasonInfo, type ReasonCode } from '../../src/policy/reasons.js'

describe('criteria registry and reasons', () => {
  it('registers each criterion under its own name, in evaluation order', () => {
    expect(criterionOrder).toEqual(['endpoint', 'model', 'skill', 'tool', 'mcp-server', 'max-tokens', 'container', 'client-skill'])
    for (const name of criterionOrder) expect(criteria[name].name).toBe(name)
  })

  it('gives every criterion a granted and a denied reason, and every reason a sentence', () => {
    const codes = Object.keys(reasonInfo) as ReasonCode[]
    for (const name of criterionOrder) {
      const own = codes.filter((code) => reasonInfo[code].criterion === name).map((code) => reasonInfo[code].polarity)
      expect(own, name).toContain('granted')
      expect(own, name).toContain('denied')
    }
    for (const code of codes) expect(describeReason({ code, detail: 'x' })).not.toBe('')
  })
})
