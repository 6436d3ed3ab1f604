import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { countMemberColons, JsonBodyError, MAX_BODY_DEPTH, parseJsonBody } from '../../src/request/json-body.js'

const parse = (text: string) => parseJsonBody(Buffer.from(text, 'utf8'))
const problemOf = (text: string) => {
  try {
    parse(text)
    return undefined
  } catch (error) {
    return error instanceof JsonBodyError ? { problem: error.problem, detail: error.publicDetail } : { problem: 'other' }
  }
}

describe('parseJsonBody', () => {
  it.each([
    ['{"model":"a","model":"b"}', 'model'],
    ['{"messages":[{"role":"user","content":"x","content":"y"}]}', 'messages[0].content'],
    ['{"a":{"b":1},"c":[1,{"d":2,"d":3}]}', 'c[1].d'],
    ['{"tools":[{"name":"a"},{"name":"b","input_schema":{"type":"object","type":"x"}}]}', 'tools[1].input_schema.type'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"__proto__":1,"__proto__":2}', '__proto__'],
    ['[{"x":":","x":"\\":"}]', '[0].x'],
  ])('refuses %s naming %s', (text, path) => {
    expect(problemOf(text)).toEqual({ problem: 'duplicate-member', detail: path })
  })

  it.each([
    '{"a":"::::","b":"\\"::\\\\","c":{"d":"\\\\\\":"}}',
    '{"model":"m","model_2":"m"}',
    '{"a":{"x":1},"b":{"x":1}}',
    '[{"x":1},{"x":1}]',
    '"just: a string"',
    '{"k\\"ey:":1,"key":2}',
    '{"emoji":"😀:é","😀":1}',
    '{"__proto__":{"a":1},"a":2}',
  ])('accepts %s', (text) => {
    expect(parse(text)).toEqual(JSON.parse(text))
  })

  it('refuses malformed JSON, nesting too deep and numbers out of range, each by its own problem', () => {
    expect(problemOf('{"a":')?.problem).toBe('malformed')
    expect(problemOf(`${'['.repeat(MAX_BODY_DEPTH + 1)}${']'.repeat(MAX_BODY_DEPTH + 1)}`)?.problem).toBe('too-deep')
    expect(problemOf(`${'['.repeat(MAX_BODY_DEPTH)}${']'.repeat(MAX_BODY_DEPTH)}`)).toBeUndefined()
    expect(problemOf('{"n":1e400}')?.problem).toBe('non-finite-number')
  })

  it('counts colons only outside strings (escapes and multi-byte text included)', () => {
    expect(countMemberColons(Buffer.from('{"a:":"b:\\":","c":{"d":"\\\\"}}'))).toBe(3)
  })

  // Random JSON: what JSON.stringify writes never repeats a name, so it always parses; planting a
  // repeated name anywhere in an object is always refused.
  it('never refuses a value JSON.stringify wrote, always refuses one with a planted duplicate', () => {
    const objectWithKeys = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1, maxKeys: 5 })
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), objectWithKeys, fc.nat(), (outer, inner, pick) => {
        expect(parse(JSON.stringify(outer))).toEqual(JSON.parse(JSON.stringify(outer)))
        const text = JSON.stringify(inner)
        const keys = Object.keys(inner)
        const name = keys[pick % keys.length] as string
        const planted = `${text.slice(0, -1)},${JSON.stringify(name)}:null}`
        const wrapped = `{"messages":[${JSON.stringify(outer)},${planted}]}`
        expect(problemOf(wrapped)?.problem).toBe('duplicate-member')
      }),
      { numRuns: 300 },
    )
  })
})
