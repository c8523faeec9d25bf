import { createTestGateway, addClient, addUser } from './test/helpers/app.ts'
import { buildTokenPair } from './src/oauth/tokens.ts'
import { atomic } from './src/db/index.ts'
import { grants } from './src/db/schema.ts'
const gw = createTestGateway({ deps: { now: Date.now } })
const c = await addClient(gw)
const u = await addUser(gw)
await gw.deps.db.insert(grants).values({ id: 'g', userId: u.userId, clientId: c.clientId, scope: 'sleep:read', createdAt: 1, updatedAt: 1 })
const toks: string[] = []
for (let i = 0; i < 3000; i++) { const p = await buildTokenPair(gw.deps, { clientId: c.clientId, userId: u.userId, grantId: 'g', familyId: 'f' + i, parentId: null, scope: 'sleep:read' }); await atomic(gw.deps.db, p.statements); toks.push(p.refreshToken) }
const auth = 'Basic ' + btoa(`${c.clientId}:${c.clientSecret}`)
const t = performance.now()
for (const tok of toks) {
  const r = await gw.fetch('/oauth/token', { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&refresh_token=${tok}` })
  if (r.status !== 200) throw new Error(await r.text())
  await r.text()
}
console.log('3000 sequential in-process refreshes:', ((performance.now() - t) / 3000).toFixed(3), 'ms each')
{
const toks2: string[] = []
for (let i = 0; i < 3000; i++) { const p = await buildTokenPair(gw.deps, { clientId: c.clientId, userId: u.userId, grantId: 'g', familyId: 'h' + i, parentId: null, scope: 'sleep:read' }); await atomic(gw.deps.db, p.statements); toks2.push(p.refreshToken) }
const t = performance.now()
let i = 0
await Promise.all(Array.from({ length: 50 }, async () => {
  while (i < toks2.length) {
    const tok = toks2[i++]
    const r = await gw.fetch('/oauth/token', { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&refresh_token=${tok}` })
    if (r.status !== 200) throw new Error(await r.text())
    await r.text()
  }
}))
console.log('3000 refreshes 50-concurrent in-process:', ((performance.now() - t) / 3000).toFixed(3), 'ms each')
}
