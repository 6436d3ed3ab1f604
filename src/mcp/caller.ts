/**
 * The identity seam shared by the MCP endpoint (`/mcp/{id}`) and the connector: whichever way a caller
 * authenticated (workload token, capability token), the endpoint only sees an `McpCaller`. Kept free of
 * HTTP types so both sides can depend on it without pulling in the server.
 */

/** Who is calling an MCP tool through the gateway, however they authenticated. */
export interface McpCaller {
  readonly principal: string            // the principal id as the /v1 pipeline records it
  readonly claims: Readonly<Record<string, unknown>>  // verified claims (CEL conditions read them)
  readonly ruleName: string             // the rule that grants; its allow.mcp[serverId] applies
  readonly toolLimit?: readonly string[] | undefined   // when set: only these tool names (capability tokens)
  readonly toolExclude?: readonly string[] | undefined // never these tool names, whatever grants them (tools the connector request turned off)
  readonly causedBy?: string | undefined               // audit record id of the /v1/messages request that caused it
  readonly clientSession?: string | undefined          // x-claude-code-session-id of the caller, if any
}
/** The parts of the HTTP request an authenticator may read besides the bearer (no HTTP types here). */
export interface McpRequestInfo {
  /** `skillgate-rule`: the allow rule the client names when its claims match several (as on `/v1`). */
  readonly namedRule?: string | undefined
}

/** Returns undefined when the bearer is not this authenticator's kind; throws GatewayError when it is but fails. */
export type McpAuthenticator = (bearer: string, serverId: string, request?: McpRequestInfo) => Promise<McpCaller | undefined>
