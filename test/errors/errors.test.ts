import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { errorCodes, errorTable } from '../../src/errors/codes.js'
import { GatewayError } from '../../src/errors/gateway-error.js'
import { errorBody, sseErrorFrame } from '../../src/errors/to-response.js'

describe('error catalogue', () => {
  const doc = readFileSync('docs/errors.md', 'utf8')
  const documented = [...doc.matchAll(/^\| `(GW_[A-Z_]+)` \| (\d+) \| `([a-z_]+)` \|/gm)].map((m) => ({ code: m[1], status: Number(m[2]), type: m[3] }))

  it('documents every code with its status and type, and nothing else', () => {
    expect(documented.map((d) => d.code).sort()).toEqual([...errorCodes].sort())
    for (const entry of documented) {
      const spec = errorTable[entry.code as keyof typeof errorTable]
      expect({ code: entry.code, status: entry.status, type: entry.type }).toEqual({ code: entry.code, status: spec.status, type: spec.type })
    }
  })

  it('renders the Anthropic error shape, with the safe detail and never the internal one', () => {
    const error = new GatewayError('GW_AUTHZ_MODEL_DENIED', { publicDetail: 'rule ci; model claude-opus-4-8 is not in allow.models', detail: 'internal: token eyJ...' })
    expect(JSON.parse(errorBody(error, 'req1'))).toEqual({
      type: 'error',
      error: { type: 'permission_error', message: 'model not granted: rule ci; model claude-opus-4-8 is not in allow.models' },
      request_id: 'req1',
    })
    expect(sseErrorFrame(error, 'req1')).toMatch(/^event: error\ndata: \{.*\}\n\n$/)
    expect(errorBody(error, 'req1')).not.toContain('eyJ')
  })
})
