/**
 * Whole JSON bodies, parsed at most once per byte buffer (issue #15). The observer stage gathers a
 * JSON answer into one Buffer; every later stage that reads it asks `jsonOf(bytes)` and gets the
 * same parsed value; a stage that rewrites it (masking) registers its new bytes with their value,
 * so the audit reads what the client receives without parsing it again. Keyed weakly by the
 * buffer object: nothing outlives the response. Readers must not mutate the value.
 */
const parsed = new WeakMap<Uint8Array, unknown>()
const INVALID: unique symbol = Symbol('invalid JSON')

/** The body's JSON value, or undefined when it is not JSON. */
export function jsonOf(bytes: Uint8Array): unknown {
  let value = parsed.get(bytes)
  if (value === undefined) {
    try {
      value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown
    } catch {
      value = INVALID
    }
    parsed.set(bytes, value)
  }
  return value === INVALID ? undefined : value
}

/** Records the value a stage serialised into `bytes`, so no one parses them again. */
export function rememberJson(bytes: Uint8Array, value: unknown): Uint8Array {
  parsed.set(bytes, value)
  return bytes
}

/** The chunks of a body as one buffer; a single chunk is returned as is (its parse stays shared). */
export async function whole(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let bytes = 0
  for await (const chunk of chunks) {
    parts.push(chunk)
    bytes += chunk.byteLength
  }
  if (parts.length === 1) return parts[0] as Uint8Array
  return Buffer.concat(parts, bytes)
}

/** Same as `whole` over chunks already held. */
export function joined(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts)
}
