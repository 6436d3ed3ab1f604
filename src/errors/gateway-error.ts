import { errorTable, type AnthropicErrorType, type GatewayErrorCode } from './codes.js'

export interface GatewayErrorOptions {
  /** Safe, code-built text appended to the public message (rule id, model, review id). Never a token. */
  readonly publicDetail?: string
  /** Internal detail for logs only. */
  readonly detail?: string
  readonly cause?: unknown
  /** Extra response headers (retry-after, skillgate-review-id). */
  readonly headers?: Readonly<Record<string, string>>
}

const brand = Symbol.for('skillgate.GatewayError')

/** The one error type of the gateway; `code` is stable, status and type come from `errorTable`. */
export class GatewayError extends Error {
  readonly [brand] = true
  readonly code: GatewayErrorCode
  readonly publicDetail: string | undefined
  readonly detail: string | undefined
  readonly headers: Readonly<Record<string, string>>

  constructor(code: GatewayErrorCode, options: GatewayErrorOptions = {}) {
    super(options.detail ?? errorTable[code].message, { cause: options.cause })
    this.name = 'GatewayError'
    this.code = code
    this.publicDetail = options.publicDetail
    this.detail = options.detail
    this.headers = options.headers ?? {}
  }

  get status(): number {
    return errorTable[this.code].status
  }

  get type(): AnthropicErrorType {
    return errorTable[this.code].type
  }

  /** What the client reads: the fixed message plus the safe detail. */
  get publicMessage(): string {
    const base = errorTable[this.code].message
    return this.publicDetail ? `${base}: ${this.publicDetail}` : base
  }
}

export const isGatewayError = (value: unknown): value is GatewayError =>
  typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
