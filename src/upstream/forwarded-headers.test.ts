import { describe, expect, it } from 'vitest'
import { buildUpstreamHeaders, filterResponseHeaders } from './forwarded-headers.js'

const apiKey = { header: 'x-api-key', value: 'sk-upstream', oauth: false } as const

describe('buildUpstreamHeaders', () => {
  it('keeps API headers in order and case, drops hop-by-hop, credentials and internal headers', () => {
    const raw = [
      'Host', 'gw.example', 'Connection', 'keep-alive, X-Hop', 'X-Hop', 'secret', 'Authorization', 'Bearer client',
      'X-Api-Key', 'client', 'Anthropic-Version', '2023-06-01', 'anthropic-beta', 'a-1', 'anthropic-beta', 'b-2',
      'Skillgate-Rule', 'r', 'Accept-Encoding', 'gzip, br', 'Content-Length', '12', 'Transfer-Encoding', 'chunked',
      'X-Stainless-Lang', 'js', 'Cookie', 'c=1', 'Proxy-Authorization', 'Basic x', 'TE', 'trailers',
    ]
    expect(buildUpstreamHeaders(raw, apiKey)).toEqual([
      'Anthropic-Version', '2023-06-01', 'anthropic-beta', 'a-1', 'anthropic-beta', 'b-2', 'X-Stainless-Lang', 'js',
      'accept-encoding', 'identity', 'x-api-key', 'sk-upstream',
    ])
  })

  it('drops the client OAuth beta with an API key and adds it for a federated upstream token', () => {
    const raw = ['anthropic-beta', 'oauth-2025-04-20, files-api-2025-04-14']
    expect(buildUpstreamHeaders(raw, apiKey)).toEqual(['anthropic-beta', 'files-api-2025-04-14', 'accept-encoding', 'identity', 'x-api-key', 'sk-upstream'])
    expect(buildUpstreamHeaders(['anthropic-beta', 'oauth-2025-04-20'], apiKey)).toEqual(['accept-encoding', 'identity', 'x-api-key', 'sk-upstream'])
    const oauth = { header: 'authorization', value: 'tok', oauth: true } as const
    expect(buildUpstreamHeaders([], oauth)).toEqual(['anthropic-beta', 'oauth-2025-04-20', 'accept-encoding', 'identity', 'authorization', 'Bearer tok'])
  })

  it('removes hop-by-hop response headers only', () => {
    expect(filterResponseHeaders({ 'request-id': 'req_1', connection: 'keep-alive', 'transfer-encoding': 'chunked', 'retry-after': '3', x: undefined })).toEqual({ 'request-id': 'req_1', 'retry-after': '3' })
  })
})
