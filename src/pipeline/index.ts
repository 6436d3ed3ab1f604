import type { Config } from '../config/load.js'
import type { TokenVerifier } from '../identity/index.js'
import type { Policy } from '../policy/compile.js'
import { authenticate } from '../stages/authenticate.js'
import { authorize } from '../stages/authorize.js'
import { classify } from '../stages/classify.js'
import { forward } from '../stages/forward.js'
import { injectCredential, type CredentialProvider } from '../stages/inject-credential.js'
import { readBody } from '../stages/read-body.js'
import { respond } from '../stages/respond.js'
import type { UpstreamClient } from '../upstream/client.js'
import type { Stage } from './stage.js'

export interface PipelineDeps {
  readonly verifier: TokenVerifier
  readonly policy: Policy
  readonly credential: CredentialProvider
  readonly upstream: UpstreamClient
}

/**
 * THE request lifecycle of `/v1/*`, in order. Read top to bottom; docs/pipeline.md draws it with
 * each stage's error statuses. Authentication comes before the body is read, so an anonymous client
 * cannot make the gateway buffer 32 MB.
 */
export const buildPipeline = (deps: PipelineDeps, config: Config): Stage[] => [
  classify(), //                                    endpoint from method + pathname
  authenticate(deps.verifier, config.issuers), //    401
  readBody(config.listen.maxBody), //                413, 400 malformed JSON
  authorize(deps.policy), //                         403
  injectCredential(deps.credential), //              503 without an upstream credential
  forward(deps.upstream), //                         502 / 504; upstream statuses pass through
  respond(), //                                      SSE event by event; `event: error` mid-stream
]
