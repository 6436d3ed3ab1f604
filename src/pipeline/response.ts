/**
 * What the forward stage hands to the stages after it, and what the server writes. SSE arrives as
 * whole events so a transform (masking) or an error frame never lands inside a half-written event,
 * and in the groups they arrived in (the events of one upstream read, never an empty group): each
 * stage takes a group per step of async iteration, so its promises are paid per read, not per
 * event, and what arrived together stays together up to the client's socket write.
 */
export type ResponseBody =
  | { readonly kind: 'bytes'; readonly chunks: AsyncIterable<Uint8Array> }
  | { readonly kind: 'sse'; readonly frames: AsyncIterable<readonly SseFrame[]> }

/** One SSE event as bytes, including its terminating blank line, exactly as the upstream framed it. */
export interface SseFrame {
  readonly raw: Uint8Array
}
