/** Public types of the masking module (pure: no HTTP, no pipeline). */

export interface MaskingPatternSpec {
  readonly name: string
  readonly regex: string
  readonly maxLength: number
}

export interface MaskingProfileSpec {
  /** Used only to name the profile in error messages (`profiles.tickets.patterns[0]`). */
  readonly name?: string
  readonly detectors?: readonly string[]
  readonly patterns?: ReadonlyArray<MaskingPatternSpec>
  /** Whole-field masking by JSON path relative to the response message, e.g. `content[*].input.password`. */
  readonly fields?: readonly string[]
}

export interface MaskerOptions {
  /** `mask` breaks the thinking signature: the client cannot send the block back unchanged. */
  readonly thinking: 'keep' | 'mask'
  /**
   * Detector sets used with `scanRequest`/`maskRequest` (e.g. `masking.requests.block`). Listing
   * them here compiles them with the masker and reports unknown names at load time; so are the
   * masker's own built-in detectors and, with several sets, their union. Other sets are compiled
   * on first use and memoised.
   */
  readonly requestDetectors?: ReadonlyArray<readonly string[]>
}

export interface MaskHits {
  [detector: string]: number
}

export interface SseEventIn {
  readonly event: string
  /** The parsed JSON of the `data:` line. */
  readonly data: unknown
}

export interface StreamMasker {
  /** Events to emit now, in input order; may be empty while text is held back. */
  push(ev: SseEventIn): SseEventIn[]
  /** Flushes what is held (a stream that ended without `content_block_stop`). */
  end(): SseEventIn[]
  readonly hits: MaskHits
}

export interface TextMasker {
  /** Masked text that can be emitted now. */
  push(text: string): string
  /** The held-back rest, masked. */
  end(): string
  readonly hits: MaskHits
}

export interface RequestFinding {
  readonly detector: string
  /** Where in the body, e.g. `messages[2].content[0].text`; never the value. */
  readonly path: string
}

export interface Masker {
  /** The longest maxLength: no stream holds back more code units of one block's text. */
  readonly maxHoldBack: number
  maskText(text: string): { text: string; hits: MaskHits }
  /** A non-streaming Messages response; returns the same Buffer object when nothing changed. */
  maskMessageJson(body: Buffer): { body: Buffer; changed: boolean; hits: MaskHits }
  /** The same for a response already parsed (the response observer parses each body once). */
  maskMessage(message: unknown): { value: unknown; changed: boolean; hits: MaskHits }
  /**
   * One Managed Agents session event (session-events.ts), hits added to `hits`; the same object
   * back when nothing changed. Previews (`event_delta`) give undefined: they are withheld.
   */
  maskSessionEvent(event: unknown, hits: MaskHits): unknown
  createStreamMasker(): StreamMasker
  /** Plain text arriving in pieces (file downloads): holds back only what could still become a match. */
  createTextMasker(): TextMasker
  /**
   * For `masking.requests.block`: hits in every non-opaque string of a request (request.ts).
   * `detectors` is never changed after the call: its compiled set is remembered by the list's
   * identity (config lists are passed as they are, on every request).
   */
  scanRequest(body: unknown, detectors: readonly string[]): { hits: MaskHits; findings: RequestFinding[] }
  /**
   * Masks every non-opaque string of a request. `forwarded` (default true) leaves thinking text
   * alone, since its signature must still verify upstream; the audit copy passes false. Like
   * `scanRequest`, `detectors` is never changed after the call.
   */
  maskRequest(body: unknown, detectors: readonly string[], options?: { readonly forwarded?: boolean }): { body: unknown; changed: boolean; hits: MaskHits }
}
