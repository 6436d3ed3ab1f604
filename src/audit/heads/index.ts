/** Signed audit chain heads (issue #16): signing, publishing, reading and verifying. */
export { checkPayload, headType, type AuditHeadLine, type HeadEvent, type HeadPayload, type StoredHead } from './head.js'
export { openHead, publicKeyOf, signHead, signingKeyFromPem, type HeadAlg, type HeadPublicKey, type HeadSigningKey, type OpenedHead } from './jws.js'
export { parseTrustedKeys, publicJwks } from './keys.js'
export { parseHeadsFile, type HeadInput } from './heads-file.js'
export { verifyWithHeads, type HeadVerifyOptions, type HeadVerifyResult } from './verify.js'
export { HeadSigner, type HeadSignerOptions } from './signer.js'
export { markRestore } from './restore.js'
export { latestHeadStatus, type LatestHeadStatus } from './latest.js'
