import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/*
 * `npm run build` (and `prepack`): the published package's JavaScript. The repository runs its
 * TypeScript through tsx; a package must not make its users do that.
 *
 * - dist/cli.js (the `partner-gateway` bin) and dist/testing.js (`partner-gateway/testing`) are
 *   ESM bundles of our code; dependencies stay imports (`packages: 'external'`), so npm installs
 *   them and better-sqlite3 builds its native module on the user's machine.
 * - The two entries share a chunk, which esbuild writes next to them: every output sits directly
 *   in dist/, because the code finds `openapi.yaml` and `drizzle/` one level up from its module
 *   (src/server.ts, src/db/sqlite.ts).
 * - dist/testing.d.ts comes from tsc. src/testing.ts declares its public types itself, so that
 *   declaration needs no other: the build checks it imports nothing relative.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST = join(ROOT, 'dist')

rmSync(DIST, { recursive: true, force: true })

await build({
  absWorkingDir: ROOT,
  entryPoints: { cli: 'src/cli/main.ts', testing: 'src/testing.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  chunkNames: '[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
})

const cli = join(DIST, 'cli.js')
if (!readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')) {
  throw new Error('dist/cli.js lost the #!/usr/bin/env node line of src/cli/main.ts')
}
chmodSync(cli, 0o755)

// Declarations: tsc with the repository's compiler options, emitting only declarations.
const scratch = mkdtempSync(join(tmpdir(), 'partner-gateway-dts-'))
try {
  const tsconfig = join(scratch, 'tsconfig.json')
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: {
        noEmit: false,
        declaration: true,
        emitDeclarationOnly: true,
        rootDir: join(ROOT, 'src'),
        // Type packages are looked up next to the tsconfig, which lives in a scratch directory.
        typeRoots: [join(ROOT, 'node_modules/@types')],
        outDir: join(scratch, 'out'),
      },
      files: [join(ROOT, 'src/testing.ts')],
      include: [],
    }),
  )
  const tsc = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', tsconfig], {
    encoding: 'utf8',
  })
  const emitted = join(scratch, 'out', 'testing.d.ts')
  let declaration: string
  try {
    declaration = readFileSync(emitted, 'utf8')
  } catch {
    throw new Error(`tsc did not emit testing.d.ts:\n${tsc.stdout}${tsc.stderr}`)
  }
  // Type errors elsewhere in src/ do not change this file; `npm run typecheck` reports them.
  if (tsc.status !== 0) {
    console.warn(`build: tsc reported type errors (run npm run typecheck):\n${tsc.stdout}`)
  }
  const relative = declaration.match(/from\s+['"]\.{1,2}\/[^'"]*['"]/g)
  if (relative) {
    throw new Error(
      `dist/testing.d.ts would import ${relative.join(', ')}, which the package does not ship: ` +
        'declare the public types of src/testing.ts in that file',
    )
  }
  copyFileSync(emitted, join(DIST, 'testing.d.ts'))
} finally {
  rmSync(scratch, { recursive: true, force: true })
}

// stderr: `npm pack --json` prints its answer on stdout, after prepack's output.
console.error('build: dist/cli.js, dist/testing.js, dist/testing.d.ts')
