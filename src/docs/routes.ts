import { Hono } from 'hono'
import { parse } from 'yaml'
import type { AppEnv, Deps } from '../http/env.ts'
import { PAGE_HEADERS } from '../views/layout.tsx'
import { renderDocsHtml } from './page.tsx'
import { asOpenApiDocument, buildDocsModel, type OpenApiDocument } from './spec.ts'

/** What the three documentation routes serve, derived once per app from `deps.openapiYaml`. */
interface DocsArtifacts {
  document: OpenApiDocument
  json: string
  html?: Promise<string>
}

// Keyed by the app's deps: each app parses its document once, on first use, and tests that build
// many apps do not share (or leak) one another's.
const artifactsByApp = new WeakMap<Deps, DocsArtifacts>()

function artifacts(deps: Deps): DocsArtifacts {
  let found = artifactsByApp.get(deps)
  if (!found) {
    const document = asOpenApiDocument(parse(deps.openapiYaml))
    found = { document, json: JSON.stringify(document) }
    artifactsByApp.set(deps, found)
  }
  return found
}

/** The document is public; browser-based tools (editors, linters) may fetch it cross-origin. */
const DOCUMENT_HEADERS = { 'access-control-allow-origin': '*', 'cache-control': 'no-cache' }

export const docsRoutes = new Hono<AppEnv>()

docsRoutes.get('/openapi.yaml', (c) =>
  c.body(c.var.deps.openapiYaml, 200, {
    ...DOCUMENT_HEADERS,
    'content-type': 'application/yaml; charset=utf-8',
  }),
)

docsRoutes.get('/openapi.json', (c) =>
  c.body(artifacts(c.var.deps).json, 200, {
    ...DOCUMENT_HEADERS,
    'content-type': 'application/json; charset=utf-8',
  }),
)

docsRoutes.get('/docs', async (c) => {
  const docs = artifacts(c.var.deps)
  docs.html ??= renderDocsHtml(buildDocsModel(docs.document))
  return c.body(await docs.html, 200, {
    ...PAGE_HEADERS,
    'content-type': 'text/html; charset=utf-8',
  })
})
