import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.ts'

const PRODUCTION = {
  MOCK: '0',
  ISSUER: 'https://auth.mockwear.example',
  ADMIN_API_KEY: 'a-production-admin-key-0123456789',
  DATABASE_PATH: '/var/lib/partner-gateway/gateway.sqlite',
}

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('loadConfig accepted the environment')
}

describe('loadConfig', () => {
  it('has the documented defaults (mock mode)', () => {
    // The contract's table; settings added later (rate limits, …) have their own tests.
    expect(loadConfig({})).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      issuer: 'http://127.0.0.1:8787',
      databasePath: './data/gateway.sqlite',
      adminApiKey: null,
      providerSlug: 'MOCKWEAR',
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 90 * 24 * 3600,
      refreshGraceSeconds: 60,
      mock: true,
      mockSeed: 1,
      mockAutoConsent: false,
      mockSyncIntervalSeconds: 0,
      logLevel: 'info',
    })
  })

  it('derives the default issuer from PORT, and treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '9000', ISSUER: '', ADMIN_API_KEY: '' })
    expect(config.issuer).toBe('http://127.0.0.1:9000')
    expect(config.adminApiKey).toBeNull()
  })

  it('in production (MOCK=0) refuses to start without ISSUER, ADMIN_API_KEY and DATABASE_PATH', () => {
    const all = configError({ MOCK: '0' })
    expect(all.message).toBe(
      'invalid configuration: MOCK=0 (production) requires ISSUER, ADMIN_API_KEY, DATABASE_PATH to be set; there are no defaults in production',
    )
    for (const name of ['ISSUER', 'ADMIN_API_KEY', 'DATABASE_PATH'] as const) {
      const message = configError({ ...PRODUCTION, [name]: undefined }).message
      expect(message).toContain(`requires ${name} to be set`)
    }
    expect(loadConfig(PRODUCTION)).toMatchObject({
      mock: false,
      issuer: PRODUCTION.ISSUER,
      adminApiKey: PRODUCTION.ADMIN_API_KEY,
      databasePath: PRODUCTION.DATABASE_PATH,
    })
  })

  it('names each invalid variable', () => {
    expect(configError({ PORT: 'eighty' }).message).toMatch(/^invalid configuration:\n {2}PORT: /)
    expect(configError({ PORT: '70000' }).message).toMatch(/\n {2}PORT: /)
    expect(configError({ ACCESS_TOKEN_TTL_SECONDS: '7200' }).message).toBe(
      'invalid configuration:\n  ACCESS_TOKEN_TTL_SECONDS: must be at most 3600 (one hour)',
    )
    const several = configError({
      PORT: '-1',
      ACCESS_TOKEN_TTL_SECONDS: '3601',
      MOCK: 'yes',
    }).message
    for (const name of ['PORT', 'ACCESS_TOKEN_TTL_SECONDS', 'MOCK'])
      expect(several).toContain(`\n  ${name}: `)
    expect(configError({ ISSUER: 'https://auth.example.com/' }).message).toContain(
      'ISSUER: must not end with "/"',
    )
    expect(configError({ ADMIN_API_KEY: 'short' }).message).toContain(
      'ADMIN_API_KEY: must be at least 24 characters',
    )
    expect(configError({ PROVIDER_SLUG: 'mockwear' }).message).toContain('PROVIDER_SLUG: ')
  })

  it('reads flags as 0/1/true/false', () => {
    expect(loadConfig({ MOCK_AUTO_CONSENT: 'true', MOCK_SEED: '42' })).toMatchObject({
      mockAutoConsent: true,
      mockSeed: 42,
    })
    expect(loadConfig({ ...PRODUCTION, MOCK: 'false' }).mock).toBe(false)
  })
})
