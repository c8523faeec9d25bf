import { Hono } from 'hono'
import { SCOPES } from '../config.ts'
import type { AppEnv } from '../http/env.ts'

export const metadataRoutes = new Hono<AppEnv>()

const CLIENT_AUTH = ['client_secret_basic', 'client_secret_post']

/** RFC 8414 authorization server metadata; `issuer` is byte-equal to ISSUER (§3.3). */
metadataRoutes.get('/.well-known/oauth-authorization-server', (c) => {
  const issuer = c.var.deps.config.issuer
  return c.json(
    {
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
      scopes_supported: [...SCOPES],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: CLIENT_AUTH,
      revocation_endpoint_auth_methods_supported: CLIENT_AUTH,
      introspection_endpoint_auth_methods_supported: CLIENT_AUTH,
      authorization_response_iss_parameter_supported: true,
      prompt_values_supported: ['none', 'consent'],
      service_documentation: `${issuer}/docs`,
    },
    200,
    { 'cache-control': 'public, max-age=300' },
  )
})
