import type { Detector } from './detector.js'

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?'

/**
 * Addresses with a dotted domain and an alphabetic TLD. The local part is the widest RFC 5322
 * dot-atom subset seen in practice; 254 is the longest address SMTP allows (RFC 5321 §4.5.3.1.3).
 */
export const email: Detector = {
  name: 'email',
  description: 'e-mail addresses (local@domain.tld)',
  regex: `[A-Za-z0-9._%+-]+@${LABEL}(?:\\.${LABEL})*\\.[A-Za-z]{2,24}\\b`,
  maxLength: 254,
}
