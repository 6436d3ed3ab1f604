// Regenerates docs/errors.md from src/errors/codes.ts: node scripts/gen-errors-doc.mjs > docs/errors.md
import { readFileSync } from 'node:fs'
const src = readFileSync('src/errors/codes.ts','utf8')
const rows = [...src.matchAll(/^ {2}(GW_[A-Z_]+): \{ status: (\d+), type: '([a-z_]+)', message: '(.*)' \},$/gm)]
const when = {
GW_AUTHN_MISSING:'neither `Authorization: Bearer` nor `x-api-key` carries a token',
GW_AUTHN_CONFLICT:'both headers are present with different values',
GW_AUTHN_INVALID:'malformed token, bad signature, unknown key, wrong audience, failed claim checks',
GW_AUTHN_EXPIRED:'`exp` has passed (beyond the issuer\'s clock skew)',
GW_AUTHN_UNTRUSTED_ISSUER:'`iss` is not exactly one of the configured issuers',
GW_AUTHN_NOT_DIRECT:'the issuer has `direct: false`: its tokens are only accepted at the token exchange',
GW_AUTHN_REVOKED:'the token, its principal or its issuer is revoked',
GW_AUTHN_ISSUER_UNAVAILABLE:'the issuer\'s keys could not be loaded and none are cached',
GW_AUTHZ_NO_RULE:'no allow rule of the token\'s issuer matches its claims',
GW_AUTHZ_AMBIGUOUS:'more than one allow rule matches and the client named none',
GW_AUTHZ_DENIED:'a deny rule matches',
GW_AUTHZ_ENDPOINT_DENIED:'the endpoint is not in the rule\'s `allow.endpoints`, or the path is not a known Claude API endpoint',
GW_AUTHZ_MODEL_DENIED:'the model (or a batch entry\'s model) matches none of `allow.models`, or none is named',
GW_AUTHZ_APPROVAL_REQUIRED:'the rule requires a human approval; the body names the review',
GW_LIMIT_RATE:'the principal exceeded its request rate',
GW_LIMIT_BUDGET:'the principal exhausted its token budget',
GW_REQUEST_TOO_LARGE:'the body exceeds `listen.maxBody` (default 32 MB)',
GW_REQUEST_MALFORMED_JSON:'a Messages, count_tokens or batch body does not parse as JSON',
GW_REQUEST_BLOCKED_SECRET:'a detector under `masking.requests.block` found a secret in the request',
GW_REQUEST_BAD_PATH:'the path has `.`/`..` or empty segments, or encoded `/`, `.` or `\\\\`',
GW_NOT_FOUND:'a path outside `/v1/*` and the operational endpoints',
GW_METHOD_NOT_ALLOWED:'a method the endpoint does not accept',
GW_AUDIT_UNAVAILABLE:'strict audit durability and the store cannot commit',
GW_SHUTTING_DOWN:'the gateway is draining',
GW_UPSTREAM_UNREACHABLE:'connection refused or reset, DNS or TLS failure before a response',
GW_UPSTREAM_TIMEOUT:'connect or first-byte timeout (`upstream.timeouts`)',
GW_UPSTREAM_STREAM_FAILED:'the upstream failed after the response started: sent as an SSE `event: error` frame',
GW_UPSTREAM_CREDENTIAL_UNAVAILABLE:'the gateway has no upstream key or federated token right now',
GW_INTERNAL:'a bug; the log has the detail under the request id',
GW_REQUEST_HEADERS_TOO_LARGE:"the request's headers exceed the HTTP parser's limit (16 KiB), e.g. an oversized token",
GW_REQUEST_UNPARSABLE:'the HTTP parser refused the request (bad framing, illegal characters)',
GW_AUTHZ_SKILL_DENIED:'a `container.skills` entry (or its version) is not in `allow.skills`, `requireSkill` without a granted skill, or a Claude Code `Skill` call outside `allow.clientSkills`',
GW_AUTHZ_TOOL_DENIED:'a tool type or `client:NAME` outside `allow.tools`, or an MCP server URL outside `allow.mcpServers`',
GW_AUTHZ_MAX_TOKENS:'`max_tokens` over `allow.maxTokens`, or missing where a cap is set',
GW_AUTHZ_CONTAINER_DENIED:'a container id created by another principal, or one whose owner this gateway does not know',
GW_REVOCATIONS_UNAVAILABLE:'the store holding revocations could not be read for 10 s: fail closed',
GW_MASKING_FAILED:'an upstream event or body the masker cannot read; mid-stream it arrives as `event: error`',
GW_STARTING:'the listener is open but the pipeline is not ready yet (a few milliseconds at start-up)',
GW_AUTHZ_APPROVAL_DENIED:'an approver denied the review this request opened; a new request opens a new review',
GW_LIMITS_UNAVAILABLE:'the limit counters could not be read or written: fail closed',
GW_ADMIN_INVALID_REQUEST:'an admin API body or query that fails validation; the message names the field',
GW_ADMIN_CONFLICT:'e.g. deciding a review that is no longer pending',
GW_ADMIN_SELF_APPROVAL:'the caller is the workload that asked for the review',
GW_ADMIN_STORE_UNAVAILABLE:'the admin API could not read or write the store',
GW_APPROVALS_UNAVAILABLE:'the review or grant store could not be read or written: fail closed',
}
let out = `# Errors

Every error the gateway itself produces has Anthropic's shape, so SDKs and Claude Code classify and
retry it correctly:

\`\`\`json
{"type":"error","error":{"type":"permission_error","message":"model not granted: rule release-notes; model claude-opus-4-8 is not in allow.models"},"request_id":"01K..."}
\`\`\`

Once an SSE stream has started, the same JSON arrives as an \`event: error\` frame and the stream ends.
Messages are fixed per code, followed by a safe detail (rule id, endpoint, model); they never contain a
token, key or prompt text. The detail for operators is in the log line with the same request id
(\`skillgate-request-id\` response header). Errors from the upstream (429, 529 \`overloaded_error\`, …) pass
through unchanged and are not listed here. 401 responses carry \`WWW-Authenticate: Bearer error="invalid_token"\`.

The table is \`src/errors/codes.ts\`; a test fails when a code is missing here or listed here but gone.

| code | status | error.type | message | when |
|---|---|---|---|---|
`
for (const [, code, status, type, message] of rows) out += `| \`${code}\` | ${status} | \`${type}\` | ${message.replace(/\|/g,'\\|')} | ${when[code] ?? ''} |\n`
process.stdout.write(out)
