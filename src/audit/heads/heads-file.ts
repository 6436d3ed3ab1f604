import { tryJson } from './head.js'

/**
 * Reads the heads an operator kept outside the store: the body of `GET /admin/api/audit/heads`
 * (`{"heads":[{"jws":…}]}`) or a sink's JSONL, where head lines (`{"type":"audit_head","jws":…}`)
 * are mixed with records (skipped). A line that is not JSON is an error: a verifier must not
 * silently read less than it was given.
 */

export interface HeadInput {
  /** Where the head came from, for messages ("heads.jsonl line 12", "store"). */
  readonly source: string
  readonly jws: string
  /** Its RFC 3161 TimeStampToken (DER, base64), when it came with one. */
  readonly timestamp?: string
}

export function parseHeadsFile(text: string, name: string): HeadInput[] {
  const whole = tryJson(text.trim())
  if (whole !== undefined && !Array.isArray(whole) && typeof whole === 'object' && whole !== null && 'heads' in whole) {
    const heads = (whole as { heads: unknown }).heads
    if (!Array.isArray(heads)) throw new Error(`${name}: "heads" is not a list`)
    if (heads.length === 0) throw new Error(`${name} holds no signed head ("heads" is empty): a store cannot be checked against none`)
    return heads.map((h: unknown, i) => {
      const jws = (h as { jws?: unknown } | null)?.jws
      if (typeof jws !== 'string') throw new Error(`${name}: heads[${i}] has no jws`)
      return withTimestamp({ source: `${name} heads[${i}]`, jws }, h, `${name}: heads[${i}]`)
    })
  }
  const heads: HeadInput[] = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    const value = tryJson(line)
    if (value === undefined) throw new Error(`${name} line ${i + 1} is not JSON`)
    const v = value as { type?: unknown; jws?: unknown } | null
    if (v?.type !== 'audit_head') return
    if (typeof v.jws !== 'string') throw new Error(`${name} line ${i + 1}: audit_head without a jws`)
    heads.push(withTimestamp({ source: `${name} line ${i + 1}`, jws: v.jws }, v, `${name} line ${i + 1}`))
  })
  // Checking against nothing would pass a truncated store: a file that holds no head is a mistake, said so.
  if (heads.length === 0) throw new Error(`${name} holds no signed head: give the body of GET /admin/api/audit/heads or a sink's JSONL with "audit_head" lines`)
  return heads
}

function withTimestamp(head: HeadInput, item: unknown, where: string): HeadInput {
  const timestamp = (item as { timestamp?: unknown }).timestamp
  if (timestamp === undefined || timestamp === null) return head
  if (typeof timestamp !== 'string' || timestamp === '') throw new Error(`${where}: timestamp is not a base64 string`)
  return { ...head, timestamp }
}
