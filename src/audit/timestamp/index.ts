/** RFC 3161 trusted time for signed audit heads (`audit.timestamping`, issue #16). */
export { createTimestampClient, type Timestamp, type TimestampClientOptions } from './client.js'
export { parseTsaTrust, type TsaTrust } from './trust.js'
export { verifyTimestampToken, type TimestampCheck, type TimestampFacts } from './verify-token.js'
