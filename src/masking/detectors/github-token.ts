import type { Detector } from './detector.js'

/** Classic tokens (ghp_, gho_, ghu_, ghs_, ghr_ + 36 or more) and fine-grained `github_pat_` tokens. */
export const githubToken: Detector = {
  name: 'github-token',
  description: 'GitHub tokens (ghp_…, gho_…, ghu_…, ghs_…, ghr_…, github_pat_…)',
  regex: '\\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\\b',
  maxLength: 255,
}
