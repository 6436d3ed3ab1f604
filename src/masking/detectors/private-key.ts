import type { Detector } from './detector.js'

const LABEL = '(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?'
/** Base64 lines, also indented or with literal `\n` escapes (a key pasted into a JSON string). */
const BODY = '[A-Za-z0-9+/=\\\\\\r\\n\\t ]'

/**
 * PEM (RFC 7468) private keys of any kind: PKCS#1/#8, EC, OpenSSH, encrypted, PGP. A complete
 * block (with its encryption headers) is one match; a block cut off before its END line (the
 * stream stopped, max_tokens) is masked from the BEGIN line to the end of its base64 body.
 * 8 KiB holds an RSA-8192 key.
 */
export const privateKey: Detector = {
  name: 'private-key',
  description: 'PEM private key blocks (BEGIN … PRIVATE KEY … END), also when cut off',
  regex: `-----BEGIN ${LABEL}-----(?:[A-Za-z0-9+/=\\\\\\r\\n\\t :,-]*-----END ${LABEL}-----|${BODY}*)`,
  maxLength: 8192,
}
