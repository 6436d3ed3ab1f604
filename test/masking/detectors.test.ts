import { describe, expect, it } from 'vitest'
import { compileMasker, detectorNames, detectors } from '../../src/masking/index.js'
import { luhnValid } from '../../src/masking/detectors/credit-card.js'
import { ibanValid } from '../../src/masking/detectors/iban.js'
import { jwtHeaderValid } from '../../src/masking/detectors/jwt.js'
import { PLANTED } from './helpers.js'

/** Masks `text` with one detector only. */
const maskWith = (name: string, text: string): string => compileMasker([{ detectors: [name] }], { thinking: 'keep' }).maskText(text).text

const jwtPlanted = PLANTED.find((p) => p.detector === 'jwt')!.value
const pemPlanted = PLANTED.find((p) => p.detector === 'private-key')!.value

/** For each detector: text → expected masked text (positives and negatives side by side). */
const cases: Record<string, Array<[string, string]>> = {
  email: [
    ['mail alice.smith@example.com now', 'mail [REDACTED:email] now'],
    ['<bob+tag@mail.example.co.uk>', '<[REDACTED:email]>'],
    ['end of sentence: x_y@sub-domain.example.org.', 'end of sentence: [REDACTED:email].'],
    ['no tld user@localhost here', 'no tld user@localhost here'],
    ['handle @alice and a@b', 'handle @alice and a@b'],
    ['numeric tld a@b.123', 'numeric tld a@b.123'],
  ],
  phone: [
    ['call +1 415 555 0132 now', 'call [REDACTED:phone] now'],
    ['call +44 20 7946 0958.', 'call [REDACTED:phone].'],
    ['(555) 123-4567 or 555.123.4567 or 555-123-4567', '[REDACTED:phone] or [REDACTED:phone] or [REDACTED:phone]'],
    ['date 2024-01-15 and id 5551234567 and v1.2.3', 'date 2024-01-15 and id 5551234567 and v1.2.3'],
    ['too short +1 234', 'too short +1 234'],
    ['word+4915112345678 glued', 'word+4915112345678 glued'],
  ],
  'credit-card': [
    ['visa 4111 1111 1111 1111 ok', 'visa [REDACTED:credit-card] ok'],
    ['mc 5500-0000-0000-0004.', 'mc [REDACTED:credit-card].'],
    ['amex 378282246310005', 'amex [REDACTED:credit-card]'],
    ['bad luhn 4111111111111112', 'bad luhn 4111111111111112'],
    ['timestamp 1700000000005', 'timestamp 1700000000005'],
    ['inside a word x4111111111111111', 'inside a word x4111111111111111'],
  ],
  iban: [
    ['DE89 3704 0044 0532 0130 00', '[REDACTED:iban]'],
    ['to GB82WEST12345698765432.', 'to [REDACTED:iban].'],
    ['FR1420041010050500013M02606 and more', '[REDACTED:iban] and more'],
    ['checksum DE89370400440532013001', 'checksum DE89370400440532013001'],
    ['trailing DE89 3704 0044 0532 0130 00 AND MORE', 'trailing [REDACTED:iban] AND MORE'],
  ],
  'aws-access-key': [
    ['AKIAIOSFODNN7EXAMPLE', '[REDACTED:aws-access-key]'],
    ['id=ASIAY34FZKBOKMUTVV7A,', 'id=[REDACTED:aws-access-key],'],
    ['short AKIAIOSFODNN7EXAMPL', 'short AKIAIOSFODNN7EXAMPL'],
    ['long AKIAIOSFODNN7EXAMPLEX', 'long AKIAIOSFODNN7EXAMPLEX'],
  ],
  'github-token': [
    [`t ghp_${'a1B2'.repeat(9)} x`, 't [REDACTED:github-token] x'],
    [`github_pat_11ABCDEFG0_${'x'.repeat(40)}`, '[REDACTED:github-token]'],
    [`ghp_${'a'.repeat(35)} short`, `ghp_${'a'.repeat(35)} short`],
    ['ghx_not_a_prefix_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'ghx_not_a_prefix_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
  ],
  'anthropic-key': [
    [`ANTHROPIC_API_KEY=sk-ant-api03-${'A1b2_C3d-'.repeat(10)}AA\n`, 'ANTHROPIC_API_KEY=[REDACTED:anthropic-key]\n'],
    ['sk-ant-short', 'sk-ant-short'],
    ['ask-ant-api03-aaaaaaaaaaaaaaaaaaaaaaaa', 'ask-ant-api03-aaaaaaaaaaaaaaaaaaaaaaaa'],
  ],
  jwt: [
    [`Bearer ${jwtPlanted}`, 'Bearer [REDACTED:jwt]'],
    [`token=${jwtPlanted}&x=1`, 'token=[REDACTED:jwt]&x=1'],
    ['eyJub3QiOiJqc29uIn0.eyJzdWIiOiIxIn0.sig', 'eyJub3QiOiJqc29uIn0.eyJzdWIiOiIxIn0.sig'],
    ['eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.', '[REDACTED:jwt]'],
    ['eyJhbGciOiJub25lIn0.bm90LWpzb24.sig', 'eyJhbGciOiJub25lIn0.bm90LWpzb24.sig'],
  ],
  'private-key': [
    [`key:\n${pemPlanted}\nuse it`, 'key:\n[REDACTED:private-key]\nuse it'],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----', '[REDACTED:private-key]'],
    ['-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B\n\nMHcC\n-----END EC PRIVATE KEY-----!', '[REDACTED:private-key]!'],
    ['cut: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'cut: [REDACTED:private-key]'],
    ['"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n"', '"[REDACTED:private-key]\\n"'],
    ['-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----', '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----'],
  ],
  ipv4: [
    ['host 192.168.1.10 up', 'host [REDACTED:ipv4] up'],
    ['10.0.0.1.', '[REDACTED:ipv4].'],
    ['bad 256.1.1.1 and 1.2.3 and 01.2.3.4', 'bad 256.1.1.1 and 1.2.3 and 01.2.3.4'],
  ],
}

describe('detector registry', () => {
  it('has exactly the names of SPEC §2, each with a bounded maxLength', () => {
    expect([...detectorNames].sort()).toEqual(Object.keys(cases).sort())
    for (const d of Object.values(detectors)) {
      expect(d.maxLength).toBeGreaterThan(0)
      expect(d.maxLength).toBeLessThanOrEqual(8192)
      expect(d.description.length).toBeGreaterThan(0)
    }
  })

  it('masks every planted secret of the shared corpus with its own detector', () => {
    for (const p of PLANTED.filter((x) => x.detector !== 'ticket')) {
      expect(maskWith(p.detector, `before ${p.value} after`), p.detector).toBe(`before [REDACTED:${p.detector}] after`)
    }
  })
})

for (const [name, rows] of Object.entries(cases)) {
  describe(`detector ${name}`, () => {
    it.each(rows)('%j', (input, expected) => {
      expect(maskWith(name, input)).toBe(expected)
    })
  })
}

describe('validators', () => {
  it('Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true)
    expect(luhnValid('79927398713')).toBe(true)
    expect(luhnValid('79927398710')).toBe(false)
  })

  it('IBAN mod-97', () => {
    expect(ibanValid('GB82 WEST 1234 5698 7654 32')).toBe(true)
    expect(ibanValid('GB82WEST12345698765433')).toBe(false)
    expect(ibanValid('GB82')).toBe(false)
  })

  it('JWT header must be JSON with alg', () => {
    expect(jwtHeaderValid(jwtPlanted)).toBe(true)
    expect(jwtHeaderValid('eyJmb28iOjF9.eyJ9.x')).toBe(false)
    expect(jwtHeaderValid('eyJ!!.eyJ.x')).toBe(false)
  })
})
