import { decodeTime, isValid } from 'ulid'
import { describe, expect, it } from 'vitest'
import { newRequestId } from './request-id.js'

describe('newRequestId', () => {
  it('makes valid, unique ULIDs carrying the time', () => {
    const now = Date.now()
    const ids = Array.from({ length: 5_000 }, () => newRequestId(now))
    for (const id of ids.slice(0, 50)) {
      expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
      expect(isValid(id)).toBe(true)
      expect(decodeTime(id)).toBe(now)
    }
    expect(new Set(ids).size).toBe(ids.length)
  })
})
