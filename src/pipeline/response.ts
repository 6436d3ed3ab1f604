/**
 * What the forward stage hands to the stages after it, and what the server writes. SSE arrives as
 * whole events so a transform (masking) or an error frame never lands inside a half-written event.
 */
export type ResponseBody =
  | { readonly kind: 'bytes'; readonly chunks: AsyncIterable<Uint8Array> }
  | { readonly kind: 'sse'; readonly events: AsyncIterable<SseFrame> }

/** One SSE event as bytes, including its terminating blank line, exactly as the upstream framed it. */
export interface SseFrame {
  readonly raw: Uint8Array
}
