import { afterEach, describe, expect, it } from 'vitest'
import { records } from '../../src/db/schema.ts'
import { DEMO_USERS, prepareMock, SEED_DAYS } from '../../src/mock/demo.ts'
import { createTestGateway, type TestGateway } from '../helpers/app.ts'
import { pull } from '../helpers/data.ts'
import { oauthFixture } from '../helpers/oauth.ts'

let gw: TestGateway | undefined
afterEach(() => gw?.close())

describe('first start in mock mode', () => {
  it('seeds 90 local days for every demo user, once, and the data API serves them', async () => {
    gw = createTestGateway({ env: { MOCK: '1' } })
    const lines: string[] = []
    const banner = await prepareMock(gw.deps, (line) => lines.push(line))
    const rows = await gw.deps.db.select().from(records).all()
    expect(lines.at(-1)).toMatch(
      new RegExp(`^seeding demo data: 4/4 users, ${rows.length} records`),
    )
    expect(banner).toContain(`${rows.length} records; POST /admin/v1/mock/sync adds more`)
    const dailies = rows.filter((r) => r.type === 'daily')
    // Every demo user has one daily per local day: 89 complete days and today so far.
    expect(dailies).toHaveLength(DEMO_USERS.length * SEED_DAYS)
    expect(rows.filter((r) => r.type === 'sleep').length).toBeGreaterThan(DEMO_USERS.length * 70)
    expect(rows.filter((r) => r.type === 'activity').length).toBeGreaterThan(DEMO_USERS.length * 30)

    const again = await prepareMock(gw.deps, (line) => lines.push(line))
    expect(again).toBe(banner)
    expect(await gw.deps.db.select().from(records).all()).toHaveLength(rows.length)

    // Alice can authorize the demo client and pull her last 30 days.
    const g = gw
    const fx = await oauthFixture(
      g,
      async () => ({
        clientId: 'demo-terra-client',
        clientSecret: banner.match(/client_secret\s+(\S+)/)?.[1] as string,
        webhookSecret: '',
        redirectUri: `${g.deps.config.issuer}/demo/callback`,
      }),
      async () => ({ userId: '', email: 'alice@mockwear.test', password: 'mockwear-demo' }),
    )
    const token = (await fx.connect()).access_token
    const since = new Date(g.clock.ms - 30 * 86400_000).toISOString().slice(0, 10)
    const page = await pull(g, token, `/v1/daily?start_date=${since}&limit=500`)
    expect(page.status).toBe(200)
    expect(page.body.data.length).toBeGreaterThanOrEqual(30)
  })
})
