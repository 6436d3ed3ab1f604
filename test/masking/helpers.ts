import { compileMasker, type Masker, type MaskingProfileSpec, type SseEventIn } from '../../src/masking/index.js'

export const ALL_DETECTORS = [
  'email', 'phone', 'credit-card', 'iban', 'aws-access-key', 'github-token', 'anthropic-key', 'jwt', 'private-key', 'ipv4',
]

export const TICKET = { name: 'ticket', regex: '\\b(OPS|SEC|INC)-[0-9]{1,7}\\b', maxLength: 16 }

export const DEFAULT_PROFILES: MaskingProfileSpec[] = [
  { name: 'default', detectors: ALL_DETECTORS },
  { name: 'tickets', patterns: [TICKET] },
]

export function defaultMasker(options: { thinking?: 'keep' | 'mask'; fields?: string[] } = {}): Masker {
  const profiles = options.fields ? [...DEFAULT_PROFILES, { name: 'fields', fields: options.fields }] : DEFAULT_PROFILES
  return compileMasker(profiles, { thinking: options.thinking ?? 'keep' })
}

/** A planted secret: its value and fragments that must never reach the client either. */
export interface Planted {
  readonly detector: string
  readonly value: string
  readonly fragments: readonly string[]
}

const jwtValue = [
  Buffer.from('{"alg":"RS256","typ":"JWT","kid":"k1"}').toString('base64url'),
  Buffer.from('{"sub":"repo:acme/app:ref:refs/heads/main","aud":"skillgate"}').toString('base64url'),
  'c2lnbmF0dXJlLWJ5dGVzLW5vdC1yZWFsbHktYS1zaWduYXR1cmU',
].join('.')

const pem = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu',
  'KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm',
  'o3qGy0t6z09AIJtH+5OeRV1be+N4cDYJKffGzDa88vQENZiRm0GRq6a+HPGQMd2k',
  '-----END RSA PRIVATE KEY-----',
].join('\n')

export const PLANTED: readonly Planted[] = [
  { detector: 'email', value: 'alice.smith@example.com', fragments: ['smith@ex', 'alice.smith'] },
  { detector: 'phone', value: '+1 415 555 0132', fragments: ['415 555 0132'] },
  { detector: 'phone', value: '(555) 123-4567', fragments: ['123-4567'] },
  { detector: 'credit-card', value: '4111 1111 1111 1111', fragments: ['1111 1111 1111'] },
  { detector: 'credit-card', value: '5500000000000004', fragments: ['550000000000'] },
  { detector: 'iban', value: 'DE89 3704 0044 0532 0130 00', fragments: ['3704 0044 0532'] },
  { detector: 'iban', value: 'GB82WEST12345698765432', fragments: ['WEST123456987'] },
  { detector: 'aws-access-key', value: 'AKIAIOSFODNN7EXAMPLE', fragments: ['IOSFODNN7EX'] },
  { detector: 'github-token', value: 'ghp_R2d2C3poBB8Luke5kyw4lkerHanS0l0Leia9', fragments: ['C3poBB8Luke5'] },
  { detector: 'anthropic-key', value: `sk-ant-api03-${'Zx9_Qw-3'.repeat(11)}AA`, fragments: ['Zx9_Qw-3Zx9_Qw-3'] },
  { detector: 'jwt', value: jwtValue, fragments: [jwtValue.slice(20, 50), jwtValue.slice(-30)] },
  { detector: 'private-key', value: pem, fragments: ['KUpRKfFLfRYC9AIK', 'MIIBOgIBAAJBAKj3'] },
  { detector: 'ipv4', value: '192.168.10.254', fragments: ['168.10.254'] },
  { detector: 'ticket', value: 'OPS-1234567', fragments: ['1234567'] },
]

/** Filler words that never form a match by themselves, nor with a neighbouring secret. */
export const WORDS = [
  'release', 'notes', 'are', 'ready', 'the', 'gateway', 'masks', 'secrets', 'in', 'streams', 'and',
  'JSON', 'version', 'build', 'passed', 'see', 'ticket', 'mail', 'call', 'card', 'key', 'host', 'done.',
  'ok,', '(draft)', 'line\n', '—', 'été', '😀', 'x', 'y', '42', '7', 'a-b', 'no.', 'me@', '@home',
]

export function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value)
  else if (Array.isArray(value)) for (const item of value) allStrings(item, out)
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) allStrings(item, out)
  return out
}

/** Throws when any emitted event carries a planted secret or one of its fragments. */
export function assertNoLeak(events: readonly SseEventIn[], planted: readonly Planted[]): void {
  for (const ev of events) {
    for (const text of allStrings(ev.data)) {
      for (const p of planted) {
        for (const needle of [p.value, ...p.fragments]) {
          if (text.includes(needle)) throw new Error(`leak of ${p.detector} fragment ${JSON.stringify(needle)} in ${JSON.stringify(ev)}`)
        }
      }
    }
  }
}

export const ev = (data: Record<string, unknown> & { type: string }): SseEventIn => ({ event: data.type, data })

export const textDelta = (index: number, text: string): SseEventIn =>
  ev({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } })

export const jsonDelta = (index: number, partial: string): SseEventIn =>
  ev({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: partial } })

export const blockStart = (index: number, block: Record<string, unknown>): SseEventIn =>
  ev({ type: 'content_block_start', index, content_block: block })

export const blockStop = (index: number): SseEventIn => ev({ type: 'content_block_stop', index })

export const PING = ev({ type: 'ping' })

/** Cuts `text` at the given offsets (any order, duplicates and out-of-range ignored). */
export function splitAt(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < text.length))].sort((a, b) => a - b)
  const parts: string[] = []
  let from = 0
  for (const point of points) {
    parts.push(text.slice(from, point))
    from = point
  }
  parts.push(text.slice(from))
  return parts
}

/** Runs events through a fresh stream masker (with end()) and returns everything emitted. */
export function runStream(masker: Masker, events: readonly SseEventIn[]): SseEventIn[] {
  const stream = masker.createStreamMasker()
  const out: SseEventIn[] = []
  for (const event of events) out.push(...stream.push(event))
  out.push(...stream.end())
  return out
}

interface DeltaData {
  index: number
  delta: { type: string; text?: string; partial_json?: string; thinking?: string }
}

/** Concatenation of the emitted deltas of one kind for one block. */
export function emitted(events: readonly SseEventIn[], index: number, deltaType = 'text_delta'): string {
  const field = deltaType === 'input_json_delta' ? 'partial_json' : deltaType === 'thinking_delta' ? 'thinking' : 'text'
  return events
    .filter((e) => e.event === 'content_block_delta' && (e.data as DeltaData).index === index && (e.data as DeltaData).delta.type === deltaType)
    .map((e) => (e.data as DeltaData).delta[field as 'text'] ?? '')
    .join('')
}

/** Every emitted text/thinking/input delta carries something. */
export function assertNoEmptyDelta(events: readonly SseEventIn[]): void {
  for (const e of events) {
    if (e.event !== 'content_block_delta') continue
    const delta = (e.data as DeltaData).delta
    const value = delta.text ?? delta.partial_json ?? delta.thinking
    if (value === '') throw new Error(`empty delta emitted: ${JSON.stringify(e)}`)
  }
}

/** Minimal SSE reader for the vector files (the gateway's own parser lives in src/sse). */
export function parseSse(source: string): SseEventIn[] {
  const events: SseEventIn[] = []
  for (const frame of source.replace(/\r\n?/g, '\n').split(/\n\n+/)) {
    let name = 'message'
    const data: string[] = []
    for (const line of frame.split('\n')) {
      if (line.startsWith('event:')) name = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
    }
    if (data.length > 0) events.push({ event: name, data: JSON.parse(data.join('\n')) as unknown })
  }
  return events
}

type Block = Record<string, unknown> & { _json?: string }

/** Rebuilds the content blocks a client would hold, the way the SDK's MessageStream accumulates. */
export function assemble(events: readonly SseEventIn[]): Array<Record<string, unknown>> {
  const blocks: Block[] = []
  for (const { data } of events) {
    const d = data as { type: string; index: number; content_block?: Block; delta?: Record<string, unknown> }
    if (d.type === 'content_block_start') blocks[d.index] = structuredClone(d.content_block!)
    if (d.type === 'content_block_delta') applyDelta(blocks[d.index]!, d.delta!)
    if (d.type === 'content_block_stop') {
      const block = blocks[d.index]!
      if (block._json !== undefined) block.input = block._json === '' ? {} : (JSON.parse(block._json) as unknown)
      delete block._json
    }
  }
  return blocks
}

function applyDelta(block: Block, delta: Record<string, unknown>): void {
  switch (delta.type) {
    case 'text_delta': block.text = `${block.text as string}${delta.text as string}`; break
    case 'thinking_delta': block.thinking = `${block.thinking as string}${delta.thinking as string}`; break
    case 'signature_delta': block.signature = delta.signature; break
    case 'input_json_delta': block._json = (block._json ?? '') + (delta.partial_json as string); break
    case 'citations_delta': block.citations = [...((block.citations as unknown[] | null) ?? []), delta.citation]; break
  }
}

/** Re-chunks the deltas of one block: its concatenated field split at `cuts`, other events untouched. */
export function rechunk(events: readonly SseEventIn[], index: number, deltaType: string, cuts: readonly number[]): SseEventIn[] {
  const field = deltaType === 'input_json_delta' ? 'partial_json' : deltaType === 'thinking_delta' ? 'thinking' : 'text'
  const isTarget = (e: SseEventIn): boolean => {
    const d = e.data as { type: string; index?: number; delta?: { type: string } }
    return d.type === 'content_block_delta' && d.index === index && d.delta?.type === deltaType
  }
  const targets = events.filter(isTarget)
  if (targets.length === 0) return [...events]
  const full = targets.map((e) => (e.data as { delta: Record<string, string> }).delta[field]).join('')
  const parts = splitAt(full, cuts).map((part) =>
    ev({ type: 'content_block_delta', index, delta: { type: deltaType, [field]: part } }))
  const first = events.findIndex(isTarget)
  const rest = events.filter((e) => !isTarget(e))
  rest.splice(first, 0, ...parts)
  return rest
}
