import { main } from './command.ts'

/*
 * `npm run conformance -- <options>`: the entry file (the kit's command line is src/kit/command.ts,
 * which the published `partner-gateway conformance` shares). A separate file, because an entry
 * that guards itself with `import.meta.url === argv[1]` would also fire inside a bundle.
 */
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(
      `conformance: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    )
    process.exitCode = 1
  },
)
