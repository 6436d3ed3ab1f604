/**
 * The fixed content the mock answers with, and how it is cut into deltas. Everything is deterministic
 * so tests can assert exact text; split points deliberately fall inside words, numbers and JSON strings
 * because that is what real streams do and what a masking relay must survive.
 */
import { isRecord } from './http-io.js'

export const MOCK_DEFAULT_TEXT = 'Hello from the mock upstream.'

/** Fake secrets of the `MOCK:PII` reply. None is real; the card number is the classic Luhn-valid test card. */
export const MOCK_PII = {
  email: 'alice.smith@example.com',
  card: '4111 1111 1111 1111',
  anthropicKey: 'sk-ant-api03-MockKeyDoNotUse0123456789abcdefghijklmnopQRSTUVWX_-yzAA',
  awsKey: 'AKIAIOSFODNN7EXAMPLE',
  ticket: 'SEC-12345',
} as const

export const MOCK_PII_TEXT =
  `Customer record: email ${MOCK_PII.email}, card ${MOCK_PII.card}, ` +
  `API key ${MOCK_PII.anthropicKey}, AWS key ${MOCK_PII.awsKey}, see ticket ${MOCK_PII.ticket}.`

export const MOCK_THINKING_TEXT = 'The user wants a short answer. A friendly one-line reply is enough.'

/** Looks like a real signature (base64) but only has to be opaque and stable. */
export const MOCK_SIGNATURE =
  'EqQBCkYIBxgCKkBNb2NrIHNpZ25hdHVyZSBvZiB0aGUgbW9jayB1cHN0cmVhbTsgbm90IHZlcmlmaWFibGUuEgxtb2NrLXRoaW5raW5nGgw='

/** Small, uneven sizes (3-7 characters) so secrets always straddle several deltas. */
export const SMALL_DELTA_SIZES: readonly number[] = [3, 5, 7, 4, 6]
/** JSON fragments: uneven sizes, so fragments end inside keys and string values. */
const JSON_FRAGMENT_SIZES: readonly number[] = [7, 5, 9]

/** Splits by code point (never inside a surrogate pair), cycling through `sizes`. */
export function splitBySizes(text: string, sizes: readonly number[]): string[] {
  const chars = Array.from(text)
  const out: string[] = []
  let pos = 0
  for (let i = 0; pos < chars.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length] ?? 5)
    out.push(chars.slice(pos, pos + size).join(''))
    pos += size
  }
  return out
}

/** input_json_delta fragments: the first is `""`, as in real streams, then uneven slices of the JSON. */
export function splitJson(json: string): string[] {
  return ['', ...splitBySizes(json, JSON_FRAGMENT_SIZES)]
}

function sampleValue(key: string, schema: unknown, pii: boolean): unknown {
  const type = isRecord(schema) ? schema.type : undefined
  if (isRecord(schema) && Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0]
  switch (type) {
    case 'number':
    case 'integer':
      return 42
    case 'boolean':
      return true
    case 'array':
      return []
    case 'object':
      return {}
    default:
      return pii ? MOCK_PII.email : `mock-${key}`
  }
}

/**
 * Tool input built from the tool's `input_schema` (one value per property). Anthropic-defined client
 * tools have no schema, so the common ones get a plausible input of their own.
 */
export function sampleToolInput(tool: Record<string, unknown>, pii: boolean): Record<string, unknown> {
  const type = typeof tool.type === 'string' ? tool.type : ''
  if (type.startsWith('bash_')) return { command: pii ? `echo ${MOCK_PII.email}` : 'echo mock' }
  if (type.startsWith('text_editor_')) return { command: 'view', path: '/tmp/mock.txt' }
  const schema = tool.input_schema
  const properties = isRecord(schema) && isRecord(schema.properties) ? schema.properties : {}
  const input: Record<string, unknown> = {}
  for (const [key, propertySchema] of Object.entries(properties)) {
    input[key] = sampleValue(key, propertySchema, pii)
  }
  return input
}

/** A rough but stable token estimate: about four characters per token, as for English text. */
export function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4))
}
