/** The audit domain: the record, its builders, the hash chain, the writer, stream recording, replay, sinks. */
export * from './record.js'
export {
  buildCompletion,
  buildOpening,
  defaultAuditClaims,
  interruptedCompletion,
  selectClaims,
  usageFromAnthropic,
  validateCompletion,
  validateOpening,
  type CompletionInput,
  type OpeningInput,
} from './record-builder.js'
export { canonicalJson } from './canonical-json.js'
export { appendLinks, genesisHash, linkBody, linkHash, type ChainHead, type ChainLink, type ChainLinkKind, type RecordIndexRow } from './chain.js'
export { ChainVerifier, type VerifyProblem, type VerifyProblemKind, type VerifyReport } from './chain-verifier.js'
export { AuditWriter, type AuditDurability, type AuditWriterOptions, type AuditWriterStats } from './writer.js'
export { MessageAssembler, StreamRecorder, type StreamRecorderOptions } from './stream-log.js'
export { replayRecord, sseText, type ReplayFrame, type ReplayOptions } from './replay.js'
export * from './sinks/index.js'
export * from './heads/index.js'
