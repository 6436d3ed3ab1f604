/** One problem in the masking configuration, with where it is. */
export interface MaskingConfigIssue {
  /** e.g. `profiles.tickets.patterns[0] (ticket)` or `profiles[1].detectors[2]`. */
  readonly path: string
  readonly message: string
}

/**
 * Thrown by `compileMasker` when any pattern, detector name or field path is unusable. It lists
 * every issue at once, so a config author fixes them in one pass (style-anchors principle 9).
 */
export class MaskingConfigError extends Error {
  readonly code = 'MASKING_CONFIG_INVALID'

  constructor(readonly issues: readonly MaskingConfigIssue[]) {
    super(`invalid masking configuration:\n${issues.map((i) => `  ✖ ${i.message}\n    → at ${i.path}`).join('\n')}`)
    this.name = 'MaskingConfigError'
  }
}

/**
 * Thrown while masking a response or a stream that cannot be masked safely (malformed JSON,
 * an event of unexpected shape). The caller ends the response with an error and never falls back
 * to the unmasked text (reference §7.4). The message never contains response content.
 */
export class MaskingError extends Error {
  readonly code = 'MASKING_FAILED'

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'MaskingError'
  }
}
