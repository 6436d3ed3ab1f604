/**
 * The only place that maps a gateway error code to an HTTP status, an Anthropic `error.type` and the
 * fixed public message (style-anchors §3.5). Messages never carry a token, key or prompt text; stages
 * may append a safe, code-built detail (a rule id, a model name) through `GatewayError.publicDetail`.
 * `docs/errors.md` lists every code; `errors.test.ts` keeps the two in sync.
 */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error'
  | 'timeout_error'

export interface ErrorSpec {
  readonly status: number
  readonly type: AnthropicErrorType
  readonly message: string
}

export const errorTable = {
  GW_AUTHN_MISSING: { status: 401, type: 'authentication_error', message: 'no credential: send a workload or gateway token as "Authorization: Bearer <token>" or "x-api-key"' },
  GW_AUTHN_CONFLICT: { status: 401, type: 'authentication_error', message: 'the Authorization and x-api-key headers carry different credentials' },
  GW_AUTHN_INVALID: { status: 401, type: 'authentication_error', message: 'invalid token' },
  GW_AUTHN_EXPIRED: { status: 401, type: 'authentication_error', message: 'token expired' },
  GW_AUTHN_UNTRUSTED_ISSUER: { status: 401, type: 'authentication_error', message: 'token issuer is not trusted by this gateway' },
  GW_AUTHN_NOT_DIRECT: { status: 401, type: 'authentication_error', message: 'tokens of this issuer must be exchanged at /v1/oauth/token first' },
  GW_AUTHN_REVOKED: { status: 401, type: 'authentication_error', message: 'token revoked' },
  GW_AUTHN_ISSUER_UNAVAILABLE: { status: 401, type: 'authentication_error', message: 'the signing keys of the token issuer are unavailable' },
  GW_AUTHZ_NO_RULE: { status: 403, type: 'permission_error', message: 'no rule allows this identity' },
  GW_AUTHZ_AMBIGUOUS: { status: 403, type: 'permission_error', message: 'several rules allow this identity; name one with the skillgate-rule header' },
  GW_AUTHZ_DENIED: { status: 403, type: 'permission_error', message: 'denied by rule' },
  GW_AUTHZ_ENDPOINT_DENIED: { status: 403, type: 'permission_error', message: 'endpoint not granted' },
  GW_AUTHZ_MODEL_DENIED: { status: 403, type: 'permission_error', message: 'model not granted' },
  GW_AUTHZ_SKILL_DENIED: { status: 403, type: 'permission_error', message: 'skill not granted' },
  GW_AUTHZ_TOOL_DENIED: { status: 403, type: 'permission_error', message: 'tool not granted' },
  GW_AUTHZ_MAX_TOKENS: { status: 403, type: 'permission_error', message: 'max_tokens above the granted limit' },
  GW_OBJECT_NOT_FOUND: { status: 404, type: 'not_found_error', message: 'not found' },
  GW_AUTHZ_APPROVAL_REQUIRED: { status: 403, type: 'permission_error', message: 'approval required' },
  GW_AUTHZ_APPROVAL_DENIED: { status: 403, type: 'permission_error', message: 'approval denied' },
  GW_LIMIT_RATE: { status: 429, type: 'rate_limit_error', message: 'request rate limit reached' },
  GW_LIMIT_BUDGET: { status: 429, type: 'rate_limit_error', message: 'token budget exhausted' },
  GW_LIMIT_UNAUTHENTICATED: { status: 429, type: 'rate_limit_error', message: 'too many unauthenticated requests from this address' },
  GW_REQUEST_TOO_LARGE: { status: 413, type: 'request_too_large', message: 'request body exceeds the gateway limit' },
  GW_REQUEST_MALFORMED_JSON: { status: 400, type: 'invalid_request_error', message: 'request body is not valid JSON' },
  GW_REQUEST_BLOCKED_SECRET: { status: 400, type: 'invalid_request_error', message: 'request contains a secret that must not leave the gateway' },
  GW_MCP_CONNECTOR_NOT_ENABLED: { status: 400, type: 'invalid_request_error', message: 'a "skillgate:" MCP server is only served to rules that route the MCP connector through the gateway (rules[].mcp.connector: gateway)' },
  GW_MCP_CONNECTOR_TOKEN_SUPPLIED: { status: 400, type: 'invalid_request_error', message: 'a "skillgate:" MCP server takes no authorization_token: the gateway supplies its own' },
  GW_MCP_CONNECTOR_UNSUPPORTED: { status: 400, type: 'invalid_request_error', message: '"skillgate:" MCP servers are only rewritten in POST /v1/messages; a batch runs after its request ends, when no capability can be bound to it' },
  GW_MCP_CONNECTOR_SERVER_DENIED: { status: 403, type: 'permission_error', message: 'MCP server not granted' },
  GW_MCP_CAPABILITY_WRONG_SERVER: { status: 403, type: 'permission_error', message: 'this capability token was issued for another MCP server' },
  GW_REQUEST_HEADERS_TOO_LARGE: { status: 431, type: 'invalid_request_error', message: 'request headers are too large' },
  GW_REQUEST_UNPARSABLE: { status: 400, type: 'invalid_request_error', message: 'malformed HTTP request' },
  GW_REQUEST_TIMEOUT: { status: 408, type: 'invalid_request_error', message: 'the request was not received in time' },
  GW_REQUEST_BAD_PATH: { status: 400, type: 'invalid_request_error', message: 'request path must be canonical: no dot segments, empty segments, trailing slash or percent-encoding' },
  GW_NOT_FOUND: { status: 404, type: 'not_found_error', message: 'not found' },
  GW_METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error', message: 'method not allowed' },
  GW_AUDIT_UNAVAILABLE: { status: 503, type: 'api_error', message: 'audit store unavailable; request not forwarded' },
  GW_REVOCATIONS_UNAVAILABLE: { status: 503, type: 'api_error', message: 'revocation list unavailable; request refused' },
  GW_TOKEN_SOURCES_UNAVAILABLE: { status: 503, type: 'api_error', message: 'gateway token sources unavailable; request refused' },
  GW_STARTING: { status: 503, type: 'api_error', message: 'gateway is starting' },
  GW_APPROVALS_UNAVAILABLE: { status: 503, type: 'api_error', message: 'approval store unavailable; request refused' },
  GW_OWNERSHIP_UNAVAILABLE: { status: 503, type: 'api_error', message: 'ownership store unavailable; request refused' },
  GW_LIMITS_UNAVAILABLE: { status: 503, type: 'api_error', message: 'limit counters unavailable; request refused' },
  GW_SHUTTING_DOWN: { status: 503, type: 'api_error', message: 'gateway is shutting down' },
  GW_UPSTREAM_UNREACHABLE: { status: 502, type: 'api_error', message: 'upstream unreachable' },
  GW_UPSTREAM_TIMEOUT: { status: 504, type: 'api_error', message: 'upstream timed out' },
  GW_UPSTREAM_STREAM_FAILED: { status: 502, type: 'api_error', message: 'upstream stream failed' },
  GW_UPSTREAM_CREDENTIAL_UNAVAILABLE: { status: 503, type: 'api_error', message: 'the gateway has no upstream credential' },
  GW_MASKING_FAILED: { status: 502, type: 'api_error', message: 'the response could not be masked safely and was withheld' },
  GW_ADMIN_AUTHN_MISSING: { status: 401, type: 'authentication_error', message: 'no admin credential' },
  GW_ADMIN_ROLE_DENIED: { status: 403, type: 'permission_error', message: 'the credential lacks a role this needs' },
  GW_ADMIN_INVALID_REQUEST: { status: 400, type: 'invalid_request_error', message: 'invalid admin API request' },
  GW_ADMIN_CONFLICT: { status: 409, type: 'invalid_request_error', message: 'the request conflicts with the current state' },
  GW_ADMIN_SELF_APPROVAL: { status: 403, type: 'permission_error', message: 'a requester cannot decide its own review' },
  GW_ADMIN_CSRF: { status: 403, type: 'permission_error', message: 'a state-changing console call needs this session\'s CSRF token and the same origin' },
  GW_ADMIN_STORE_UNAVAILABLE: { status: 503, type: 'api_error', message: 'the store is unavailable' },
  GW_ADMIN_AUDIT_UNAVAILABLE: { status: 503, type: 'api_error', message: 'audit store unavailable; the admin action was not applied' },
  GW_INTERNAL: { status: 500, type: 'api_error', message: 'internal gateway error' },
} as const satisfies Record<string, ErrorSpec>

export type GatewayErrorCode = keyof typeof errorTable

export const errorCodes = Object.keys(errorTable) as GatewayErrorCode[]
