import { isToolUseBlock, maskCitation, maskContentBlock } from './content-blocks.js'
import { MaskingError } from './errors.js'
import { advance, blockCursors, type FieldCursor, type FieldPath } from './field-path.js'
import { FIELD_DETECTOR, isObject, type WalkContext } from './json-walk.js'
import type { PatternSet } from './pattern-set.js'
import { TextScanner } from './scanner.js'
import type { MaskHits, SseEventIn, StreamMasker } from './types.js'

export interface StreamEnv {
  readonly set: PatternSet
  readonly paths: readonly FieldPath[]
  readonly thinking: 'keep' | 'mask'
  readonly maskText: (text: string, hits: MaskHits) => string
}

type TextField = 'text' | 'thinking'
type JsonObject = Record<string, unknown>

/** Per content block `index` (reference §7.4: state per index, never renumbered). */
interface BlockState {
  readonly type: unknown
  readonly cursors: readonly FieldCursor[]
  readonly scanners: Map<TextField, TextScanner>
  /** Tool input is buffered until `content_block_stop` and sent as one delta (see README). */
  readonly json: string[]
  /** Channels replaced as a whole by a field path: their deltas are dropped. */
  readonly redacted: ReadonlySet<TextField | 'input'>
  citations: number
}

const DELTA_FIELD: Readonly<Record<TextField, string>> = { text: 'text_delta', thinking: 'thinking_delta' }

/**
 * Masks an SSE Messages stream event by event. Events leave in input order; only text held back
 * inside a block (at most the longest maxLength) and a tool call's input JSON are delayed, and both
 * are released before that block's `content_block_stop`. Malformed content events throw
 * `MaskingError`: the caller ends the stream with `event: error`, never with raw text.
 */
export class SseStreamMasker implements StreamMasker {
  readonly hits: MaskHits = {}
  private readonly blocks = new Map<number, BlockState>()
  private readonly ctx: WalkContext
  private ended = false

  constructor(private readonly env: StreamEnv) {
    this.ctx = { hits: this.hits, maskText: (text) => env.maskText(text, this.hits) }
  }

  push(ev: SseEventIn): SseEventIn[] {
    if (this.ended) throw new MaskingError('stream masker used after end()')
    switch (eventType(ev)) {
      case 'content_block_start': return this.onStart(ev, ev.data as JsonObject)
      case 'content_block_delta': return this.onDelta(ev, ev.data as JsonObject)
      case 'content_block_stop': {
        const out = this.flushBlock(blockIndex(ev.data))
        out.push(ev)
        return out
      }
      case 'message_start': {
        const message = isObject(ev.data) ? ev.data.message : undefined
        const content = isObject(message) ? message.content : undefined
        if (Array.isArray(content) && content.length > 0) throw new MaskingError('message_start carries content')
        return [ev]
      }
      case 'message_delta':
      case 'message_stop':
      case 'error':
        // Content is over: release what blocks still hold (a well-formed stream has none).
        return [...this.flushAll(), ev]
      default:
        return [ev]
    }
  }

  end(): SseEventIn[] {
    if (this.ended) return []
    const out = this.flushAll()
    this.ended = true
    return out
  }

  private onStart(ev: SseEventIn, data: JsonObject): SseEventIn[] {
    const index = blockIndex(data)
    const block = data.content_block
    if (!isObject(block)) throw new MaskingError('content_block_start without a content_block object')
    const out = this.flushBlock(index)
    const cursors = this.env.paths.length > 0 ? blockCursors(this.env.paths, index) : []
    const redacted = new Set<TextField | 'input'>()
    for (const field of ['text', 'thinking', 'input'] as const) if (advance(cursors, field).whole) redacted.add(field)
    const state: BlockState = { type: block.type, cursors, scanners: new Map(), json: [], redacted, citations: 0 }
    this.blocks.set(index, state)
    // A start that already carries text goes through the block's scanner, like a first delta.
    const field = this.initialTextField(block, state)
    const toMask = field ? { ...block, [field]: '' } : block
    const masked = maskContentBlock(toMask, cursors, this.env.thinking, this.ctx)
    out.push(masked === block ? ev : { event: ev.event, data: { ...data, content_block: masked } })
    if (field) out.push(...this.onText(index, state, field, block[field] as string, undefined))
    return out
  }

  private initialTextField(block: JsonObject, state: BlockState): TextField | undefined {
    for (const field of ['text', 'thinking'] as const) {
      const value = block[field]
      if (typeof value === 'string' && value !== '' && this.scansField(state, field)) return field
    }
    return undefined
  }

  private scansField(state: BlockState, field: TextField): boolean {
    if (state.redacted.has(field)) return false
    return field === 'text' ? state.type === 'text' || state.type === undefined : this.env.thinking === 'mask'
  }

  private onDelta(ev: SseEventIn, data: JsonObject): SseEventIn[] {
    const index = blockIndex(data)
    const delta = data.delta
    if (!isObject(delta) || typeof delta.type !== 'string') throw new MaskingError('content_block_delta without a typed delta')
    const state = this.blocks.get(index) ?? this.openImplicit(index)
    switch (delta.type) {
      case 'text_delta':
        return this.onTextDelta(ev, index, state, 'text', delta)
      case 'thinking_delta':
        return this.env.thinking === 'keep' && !state.redacted.has('thinking') ? [ev] : this.onTextDelta(ev, index, state, 'thinking', delta)
      case 'input_json_delta':
        if (typeof delta.partial_json !== 'string') throw new MaskingError('input_json_delta without partial_json')
        if (!state.redacted.has('input')) state.json.push(delta.partial_json)
        return []
      case 'citations_delta':
        return this.onCitation(ev, data, state, delta)
      case 'compaction_delta':
        return this.replaceDelta(ev, data, delta, 'content')
      default:
        return [ev] // signature_delta and unknown deltas pass unchanged
    }
  }

  private onTextDelta(ev: SseEventIn, index: number, state: BlockState, field: TextField, delta: JsonObject): SseEventIn[] {
    const value = delta[field]
    if (typeof value !== 'string') throw new MaskingError(`${DELTA_FIELD[field]} without ${field}`)
    if (state.redacted.has(field)) return []
    return this.onText(index, state, field, value, ev)
  }

  private onText(index: number, state: BlockState, field: TextField, value: string, ev: SseEventIn | undefined): SseEventIn[] {
    let scanner = state.scanners.get(field)
    if (!scanner) state.scanners.set(field, (scanner = new TextScanner(this.env.set, this.hits)))
    const released = scanner.push(value)
    if (released === '') return []
    if (ev && released === value) return [ev]
    return [textDeltaEvent(index, field, released, ev)]
  }

  private onCitation(ev: SseEventIn, data: JsonObject, state: BlockState, delta: JsonObject): SseEventIn[] {
    const k = state.citations++
    const cursors = state.cursors.length > 0 ? advance(advance(state.cursors, 'citations').cursors, k).cursors : []
    const masked = maskCitation(delta.citation, cursors, this.ctx)
    return masked === delta.citation ? [ev] : [{ event: ev.event, data: { ...data, delta: { ...delta, citation: masked } } }]
  }

  /** Deltas carrying whole strings (no hold-back needed): masked on their own. */
  private replaceDelta(ev: SseEventIn, data: JsonObject, delta: JsonObject, field: string): SseEventIn[] {
    const value = delta[field]
    if (typeof value !== 'string' || value === '') return [ev]
    const masked = this.ctx.maskText(value)
    return masked === value ? [ev] : [{ event: ev.event, data: { ...data, delta: { ...delta, [field]: masked } } }]
  }

  private openImplicit(index: number): BlockState {
    const cursors = this.env.paths.length > 0 ? blockCursors(this.env.paths, index) : []
    const state: BlockState = { type: undefined, cursors, scanners: new Map(), json: [], redacted: new Set(), citations: 0 }
    this.blocks.set(index, state)
    return state
  }

  private flushAll(): SseEventIn[] {
    const indices = [...this.blocks.keys()].sort((a, b) => a - b)
    return indices.flatMap((index) => this.flushBlock(index))
  }

  private flushBlock(index: number): SseEventIn[] {
    const state = this.blocks.get(index)
    if (!state) return []
    this.blocks.delete(index)
    const out: SseEventIn[] = []
    for (const [field, scanner] of state.scanners) {
      const rest = scanner.end()
      if (rest !== '') out.push(textDeltaEvent(index, field, rest, undefined))
    }
    const input = this.maskedInput(state)
    if (input !== undefined) out.push(inputDeltaEvent(index, input))
    return out
  }

  /** The block's tool input as one JSON text, masked; undefined when there is nothing to send. */
  private maskedInput(state: BlockState): string | undefined {
    const raw = state.json.join('')
    if (raw === '') return undefined
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch {
      // Cut-off input (max_tokens): structure is unknown, so field paths cannot be applied and the
      // input is withheld; without field paths its text is masked like any text.
      if (advance(state.cursors, 'input').cursors.length > 0) {
        this.hits[FIELD_DETECTOR] = (this.hits[FIELD_DETECTOR] ?? 0) + 1
        return undefined
      }
      return this.ctx.maskText(raw)
    }
    const type = isToolUseBlock(state.type) ? state.type : 'tool_use'
    const block = maskContentBlock({ type, input: value }, state.cursors, this.env.thinking, this.ctx) as JsonObject
    return block.input === value ? raw : JSON.stringify(block.input)
  }
}

function eventType(ev: SseEventIn): string {
  const type = isObject(ev.data) ? ev.data.type : undefined
  if (type === ev.event) return ev.event // the common case: nothing to cross-check
  const content = ev.event.startsWith('content_block_') || (typeof type === 'string' && type.startsWith('content_block_'))
  if (content && type !== ev.event) throw new MaskingError(`event "${ev.event}" carries data of type "${String(type)}"`)
  return ev.event
}

function blockIndex(data: unknown): number {
  const index = isObject(data) ? data.index : undefined
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
    throw new MaskingError('content block event without a valid index')
  }
  return index
}

function textDeltaEvent(index: number, field: TextField, value: string, template: SseEventIn | undefined): SseEventIn {
  if (template && isObject(template.data) && isObject(template.data.delta)) {
    return { event: template.event, data: { ...template.data, delta: { ...template.data.delta, [field]: value } } }
  }
  return {
    event: 'content_block_delta',
    data: { type: 'content_block_delta', index, delta: { type: DELTA_FIELD[field], [field]: value } },
  }
}

function inputDeltaEvent(index: number, partialJson: string): SseEventIn {
  return {
    event: 'content_block_delta',
    data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: partialJson } },
  }
}
