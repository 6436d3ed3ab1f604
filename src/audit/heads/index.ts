/** Signed audit chain heads (issue #16): signing, publishing, reading and verifying. */
export { checkPayload, headType, type AuditHeadLine, type HeadEvent, type HeadPayload, type StoredHead } from './head.js'
export { openHead, publicKeyOf, signHead, signingKeyFromPem, type HeadAlg, type HeadPublicKey, type HeadSigningKey, type OpenedHead } from './jws.js'
export { parseTrustedKeys, publicJwks } from './keys.js'
export { parseHeadsFile, type HeadInput } from './heads-file.js'
export { judgeHeads, openHeads, type ChainFacts, type DeclaredGap, type HeadProblem, type HeadProblemKind, type HeadReport, type SignedHead } from './head-verifier.js'
export { verifyWithHeads, type HeadVerifyResult } from './verify.js'
export { HeadSigner, type HeadSignerOptions } from './signer.js'
export { markRestore } from './restore.js'
