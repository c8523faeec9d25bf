import { z } from 'zod'

/** The OAuth scopes the gateway knows, in the order the consent screen lists them. */
export const SCOPES = ['sleep:read', 'activity:read', 'daily:read', 'profile:read'] as const
export type Scope = (typeof SCOPES)[number]

const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true')
const positiveInt = z.coerce.number().int().positive()

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default('127.0.0.1'),
  ISSUER: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://auth.example.com' })
    .refine((v) => !v.endsWith('/') && !v.includes('?') && !v.includes('#'), {
      error: 'must not end with "/" nor carry a query or fragment (RFC 8414 §2)',
    })
    .optional(),
  DATABASE_PATH: z.string().min(1).optional(),
  ADMIN_API_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  PROVIDER_SLUG: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]*$/, 'must be uppercase letters, digits and _ (e.g. MOCKWEAR)')
    .default('MOCKWEAR'),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt.max(3600, 'must be at most 3600 (one hour)').default(3600),
  REFRESH_TOKEN_TTL_SECONDS: positiveInt.default(90 * 24 * 3600),
  REFRESH_GRACE_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
  MOCK: flag.default(true),
  MOCK_SEED: z.coerce.number().int().default(1),
  MOCK_AUTO_CONSENT: flag.default(false),
  MOCK_SYNC_INTERVAL: z.coerce.number().int().min(0).default(0),
  RATE_LIMIT_CLIENT_PER_MINUTE: positiveInt.default(6000),
  RATE_LIMIT_USER_PER_MINUTE: positiveInt.default(600),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
})

export interface Config {
  port: number
  host: string
  /** The OAuth issuer and public base URL, without a trailing slash. */
  issuer: string
  databasePath: string
  /** `null` only in mock mode before the Node entry generates one. */
  adminApiKey: string | null
  providerSlug: string
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
  refreshGraceSeconds: number
  mock: boolean
  mockSeed: number
  mockAutoConsent: boolean
  mockSyncIntervalSeconds: number
  /** Data API requests per minute per client, and per (client, user). */
  rateLimitClientPerMinute: number
  rateLimitUserPerMinute: number
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent'
}

/** Thrown when the environment cannot make a valid configuration; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Parses the environment once. Production (`MOCK=0`) has no silent defaults for the issuer,
 * the admin key or the database path.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  options: { runtime?: 'node' | 'workers' } = {},
): Config {
  // Empty strings are how shells and .env files say "unset".
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  )
  const parsed = EnvSchema.safeParse(cleaned)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  if (!e.MOCK) {
    // On Workers the database is the D1 binding, not a path.
    const required =
      options.runtime === 'workers'
        ? (['ISSUER', 'ADMIN_API_KEY'] as const)
        : (['ISSUER', 'ADMIN_API_KEY', 'DATABASE_PATH'] as const)
    const missing = required.filter((k) => !e[k])
    if (missing.length > 0) {
      throw new ConfigError(
        `invalid configuration: MOCK=0 (production) requires ${missing.join(', ')} to be set; ` +
          'there are no defaults in production',
      )
    }
  }
  return {
    port: e.PORT,
    host: e.HOST,
    issuer: e.ISSUER ?? `http://127.0.0.1:${e.PORT}`,
    databasePath: e.DATABASE_PATH ?? './data/gateway.sqlite',
    adminApiKey: e.ADMIN_API_KEY ?? null,
    providerSlug: e.PROVIDER_SLUG,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
    refreshGraceSeconds: e.REFRESH_GRACE_SECONDS,
    mock: e.MOCK,
    mockSeed: e.MOCK_SEED,
    mockAutoConsent: e.MOCK_AUTO_CONSENT,
    mockSyncIntervalSeconds: e.MOCK_SYNC_INTERVAL,
    rateLimitClientPerMinute: e.RATE_LIMIT_CLIENT_PER_MINUTE,
    rateLimitUserPerMinute: e.RATE_LIMIT_USER_PER_MINUTE,
    logLevel: e.LOG_LEVEL,
  }
}
