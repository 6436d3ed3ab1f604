import type { PatternSet } from './pattern-set.js'
import { TextScanner } from './scanner.js'

/**
 * Text shaped like what model answers carry: prose, punctuation, digits, and a look-alike of every
 * built-in detector's target (none of them a real secret). Scanning it once at start-up builds the
 * DFA states ordinary text reaches, so the first request does not pay for them: with every
 * detector, the first `maskText` of a short answer took ~12 ms cold and ~1 ms after this (2 busy
 * cores). It costs ~10–30 ms of CPU per compiled set, once, at start-up.
 */
const SAMPLE = [
  'The release notes for version 1.2.3 are ready; the gateway passed all 42 checks (see #7) on main.',
  'Mail alice.smith@example.com or bob@mail.example.org, call +1 415 555 0132 or (555) 123-4567, 555-123-4567.',
  'Card 4111 1111 1111 1111 and 5500-0000-0000-0004, IBAN DE89 3704 0044 0532 0130 00 or GB82WEST12345698765432.',
  'Keys: AKIAIOSFODNN7EXAMPLE, ghp_R2d2C3poBB8Luke5kyw4lkerHanS0l0Leia9, github_pat_11ABCDEFG0123456789_abcdefghij,',
  `sk-ant-api03-${'Zx9_Qw-3'.repeat(4)}, eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl and hosts 10.0.0.1, 192.168.10.254.`,
  'Tickets OPS-1234, SEC-42, INC-7. -----BEGIN PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeK\n-----END PRIVATE KEY-----',
  ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\t\r\n é 😀 — 日本',
].join('\n')

/** Builds the common DFA states of `set` now (at start-up) instead of inside the first request. */
export function warmUp(set: PatternSet): void {
  const scanner = new TextScanner(set, {})
  scanner.push(SAMPLE)
  scanner.end()
  // Whole short strings too (a request's values, a JSON reply's fields): the end-of-text answer of
  // the states they end in is cached per state (`SearchDfa.cannotMatch`).
  for (const word of SAMPLE.split(/[\s,;]+/)) set.search.cannotMatch(word)
}
