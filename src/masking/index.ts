/**
 * Masking: pure functions and state machines over text, JSON and SSE events (no HTTP). The
 * response stage compiles one Masker per rule at boot and calls it per response.
 */
export { compileMasker } from './compile.js'
export { MaskingConfigError, MaskingError, type MaskingConfigIssue } from './errors.js'
export { detectorNames, detectors, isDetectorName, type Detector, type DetectorName } from './detectors/index.js'
export type {
  Masker, MaskerOptions, MaskHits, MaskingPatternSpec, MaskingProfileSpec, RequestFinding, SseEventIn, StreamMasker, TextMasker,
} from './types.js'
