import { isObject } from './json-walk.js'

/**
 * Every string a request carries, for `masking.requests.block` (refuse with 400),
 * `masking.requests.mask` (rewrite what goes upstream) and the audit copy (SPEC §8 "whole
 * surface"): the walk covers the whole body — system, messages of every role, tool definitions
 * and client-written tool inputs, stop sequences, metadata, every entry of a batch, fields the API
 * adds tomorrow — except the documented opaque fields below, which carry no user text or must
 * stay byte-identical:
 *
 * - ids: `id` and every `*_id` member but `custom_id` (tool_use_id, file_id, skill_id, …);
 * - `signature` and `encrypted_*` (thinking and advisor signatures, encrypted content);
 * - `data` of a `redacted_thinking` block;
 * - `data` of a base64 source whose `media_type` is not text (images, PDFs, spreadsheets);
 *   a base64 *text* document is decoded, scanned, and re-encoded when masked;
 * - `authorization_token` (the MCP connector credential the request legitimately carries; the
 *   audit copy redacts it whole).
 *
 * Thinking text is scanned when the walk only reads (`scan`, the audit copy) and left alone when it
 * rewrites what is forwarded, because masking it would break its signature. Member names are
 * scanned too (a secret used as a key would still leave), but never rewritten (docs/policy.md).
 */
/**
 * Called for every string visited; returns its replacement (the same string: unchanged). `path`
 * names where the string sits (`messages[2].content[0].text`); it is built only when called, so a
 * walk over a clean body formats no paths.
 */
export type RequestTextVisitor = (text: string, path: () => string) => string

export interface VisitOptions {
  /** True when the result is forwarded upstream: thinking text is then left unchanged. */
  readonly forwarded?: boolean
  /** Also visit member names (read-only: a returned change is ignored). */
  readonly keys?: boolean
}

type JsonObject = Record<string, unknown>

const OPAQUE_MEMBERS: ReadonlySet<string> = new Set(['id', 'signature', 'authorization_token'])

/** Whether the string member `key` of `parent` is opaque (see the module comment). */
export function isOpaqueMember(parent: JsonObject, key: string): boolean {
  if (OPAQUE_MEMBERS.has(key) || key.startsWith('encrypted_')) return true
  if (key.endsWith('_id') && key !== 'custom_id') return true
  if (key !== 'data') return false
  if (parent.type === 'redacted_thinking') return true
  return parent.type === 'base64' && !isTextMedia(parent.media_type)
}

const isTextMedia = (mediaType: unknown): boolean =>
  typeof mediaType === 'string' && (mediaType.startsWith('text/') || mediaType === 'application/json' || mediaType.endsWith('+json') || mediaType.endsWith('+xml'))

/**
 * Visits every non-opaque string of `body`; rebuilds only the containers whose strings changed, so
 * `result === body` means nothing changed and the original bytes can be forwarded.
 */
export function visitRequestText(body: unknown, visit: RequestTextVisitor, options: VisitOptions = {}): unknown {
  return new RequestWalk(visit, options).value(body, false)
}

/**
 * One walk over a body. The position is a stack of member names and indices, turned into a path
 * string only when the visitor asks (a finding, an error): formatting one per member and item
 * cost more than scanning the strings.
 */
class RequestWalk {
  private readonly steps: Array<string | number> = []
  /** Appended to the path of the string being visited: ` (member name)`, ` (decoded)`. */
  private suffix = ''
  private readonly forwarded: boolean
  private readonly keys: boolean

  constructor(
    private readonly visit: RequestTextVisitor,
    options: VisitOptions,
  ) {
    this.forwarded = options.forwarded === true
    this.keys = options.keys === true
  }

  /** The current position as `a.b[0].c`, in the format findings and errors have always used. */
  private readonly path = (): string => {
    let path = ''
    for (const step of this.steps) path = typeof step === 'number' ? `${path}[${step}]` : path === '' ? step : `${path}.${step}`
    return this.steps.length === 0 ? '(body)' : `${path}${this.suffix}`
  }

  value(value: unknown, inThinking: boolean): unknown {
    if (typeof value === 'string') return value === '' ? value : this.visit(value, this.path)
    if (Array.isArray(value)) return this.array(value, inThinking)
    if (isObject(value)) return this.object(value, inThinking)
    return value
  }

  private array(items: readonly unknown[], inThinking: boolean): readonly unknown[] {
    let copy: unknown[] | undefined
    const steps = this.steps
    for (let i = 0; i < items.length; i++) {
      const item = items[i]
      // Numbers, booleans and null hold no text: no step to record.
      if (typeof item !== 'string' && (typeof item !== 'object' || item === null)) continue
      steps.push(i)
      const mapped = this.value(item, inThinking)
      steps.pop()
      if (mapped !== item) (copy ??= items.slice())[i] = mapped
    }
    return copy ?? items
  }

  private object(obj: JsonObject, inThinking: boolean): JsonObject {
    let copy: JsonObject | undefined
    const thinkingBlock = inThinking || obj.type === 'thinking'
    const steps = this.steps
    for (const key of Object.keys(obj)) {
      const value = obj[key]
      const text = typeof value === 'string'
      if (!this.keys && !text && (typeof value !== 'object' || value === null)) continue
      steps.push(key)
      if (this.keys && key !== '') this.visitKey(key)
      const mapped = text ? this.string(obj, key, value, thinkingBlock) : this.value(value, thinkingBlock)
      steps.pop()
      if (mapped !== value) (copy ??= { ...obj })[key] = mapped
    }
    return copy ?? obj
  }

  private visitKey(key: string): void {
    this.suffix = ' (member name)'
    this.visit(key, this.path)
    this.suffix = ''
  }

  private string(parent: JsonObject, key: string, value: string, inThinking: boolean): string {
    if (value === '' || isOpaqueMember(parent, key)) return value
    if (this.forwarded && inThinking && key === 'thinking') return value
    if (key === 'data' && parent.type === 'base64') return this.base64Text(value)
    return this.visit(value, this.path)
  }

  /** A base64 text document: scanned as the text it encodes; re-encoded only when that changed. */
  private base64Text(data: string): string {
    const text = Buffer.from(data, 'base64').toString('utf8')
    this.suffix = ' (decoded)'
    const visited = this.visit(text, this.path)
    this.suffix = ''
    return visited === text ? data : Buffer.from(visited, 'utf8').toString('base64')
  }
}
