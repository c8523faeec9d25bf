import type { Child } from 'hono/jsx'
import { headings, markdown, markdownInline } from './markdown.ts'
import type {
  ContentView,
  DocsModel,
  FieldRow,
  HeaderView,
  OperationView,
  ParameterView,
  ResponseView,
  SchemaView,
  SecuritySchemeView,
  TagView,
} from './spec.ts'

/*
 * The API reference at /docs: one static page rendered on the server from openapi.yaml. No
 * scripts (the CSP forbids them) and nothing fetched from the network; navigation is anchors,
 * examples fold with <details>.
 */

const STYLE = `
:root {
  color-scheme: light;
  --bg: #f6f8fa; --panel: #fff; --text: #1f2328; --muted: #59636e; --border: #d1d9e0;
  --accent: #0969da; --code-bg: #eff2f5; --pre-bg: #0d1117; --pre-text: #e6edf3;
  --get: #0969da; --post: #1a7f37; --put: #8250df; --patch: #9a6700; --delete: #cf222e;
  --sans: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, "Liberation Sans", sans-serif;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.6 var(--sans); color: var(--text); background: var(--bg); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font-family: var(--mono); font-size: .86em; background: var(--code-bg); padding: .1em .35em; border-radius: 4px; }
pre { font-family: var(--mono); font-size: 12.5px; line-height: 1.5; background: var(--pre-bg); color: var(--pre-text); padding: .9rem 1rem; border-radius: 8px; overflow-x: auto; margin: .5rem 0 0; }
pre code { background: none; padding: 0; font-size: inherit; color: inherit; }
.layout { display: grid; grid-template-columns: 300px minmax(0, 1fr); min-height: 100vh; }
nav.toc { position: sticky; top: 0; height: 100vh; overflow-y: auto; background: #fff; border-right: 1px solid var(--border); padding: 1.25rem 1rem 3rem; font-size: 13.5px; }
nav.toc .brand { display: block; font-weight: 700; font-size: 1.05rem; color: var(--text); margin-bottom: .1rem; }
nav.toc .version { color: var(--muted); font-size: 12px; }
nav.toc h2 { font-size: 11px; letter-spacing: .08em; text-transform: uppercase; color: var(--muted); margin: 1.4rem 0 .35rem; }
nav.toc ul { list-style: none; margin: 0; padding: 0; }
nav.toc li a { display: flex; align-items: baseline; gap: .5rem; padding: .18rem .4rem; border-radius: 6px; color: var(--text); }
nav.toc li a:hover { background: var(--bg); text-decoration: none; }
nav.toc li.tag > a { font-weight: 600; margin-top: .35rem; }
nav.toc li.toc-op a { padding-left: .6rem; }
nav.toc .m { flex: 0 0 3.9em; font: 700 10px/1.6 var(--mono); text-align: right; }
main { padding: 2rem 2.5rem 6rem; max-width: 1080px; }
header.top h1 { font-size: 2rem; margin: 0; }
header.top .summary { font-size: 1.1rem; color: var(--muted); margin: .25rem 0 1rem; }
.servers { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; }
.server { background: #fff; border: 1px solid var(--border); border-radius: 8px; padding: .4rem .75rem; font-size: 13px; }
.prose { max-width: 760px; }
.prose h3 { font-size: 1.2rem; margin: 1.8rem 0 .4rem; }
.prose table, table.fields { border-collapse: collapse; width: 100%; font-size: 14px; }
.prose th, .prose td, table.fields th, table.fields td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid var(--border); }
.prose th, table.fields th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
section.group { margin-top: 3rem; }
section.group > h2 { font-size: 1.6rem; margin: 0 0 .25rem; padding-top: .5rem; border-top: 3px solid var(--text); }
.op { background: var(--panel); border: 1px solid var(--border); border-radius: 12px; padding: 1.25rem 1.5rem 1.4rem; margin: 1.25rem 0; }
.op h3 { margin: 0 0 .6rem; font-size: 1.25rem; }
.endpoint { display: flex; flex-wrap: wrap; align-items: center; gap: .6rem; font-family: var(--mono); font-size: 14px; background: var(--bg); border: 1px solid var(--border); border-radius: 8px; padding: .45rem .6rem; }
.endpoint .path { font-weight: 600; word-break: break-all; }
.method { display: inline-block; min-width: 4.2em; text-align: center; font: 700 12px/1 var(--mono); color: #fff; padding: .35em .5em; border-radius: 5px; }
.method.get { background: var(--get); } .method.post { background: var(--post); } .method.put { background: var(--put); }
.method.patch { background: var(--patch); } .method.delete { background: var(--delete); }
.m.get { color: var(--get); } .m.post { color: var(--post); } .m.put { color: var(--put); } .m.patch { color: var(--patch); } .m.delete { color: var(--delete); }
.auth { margin-left: auto; font-family: var(--sans); font-size: 12.5px; color: var(--muted); }
.auth a { font-family: var(--mono); }
.op h4 { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 1.4rem 0 .4rem; }
.op .prose p:first-child { margin-top: .9rem; }
table.fields th:first-child { width: 30%; }
table.fields th:nth-child(2) { width: 14%; }
td.name { white-space: nowrap; font-family: var(--mono); font-size: 13px; }
td.name .parent { color: var(--muted); }
td.type { font-family: var(--mono); font-size: 12.5px; color: #6639ba; white-space: nowrap; }
.req { display: inline-block; margin-left: .35rem; font: 600 10px/1.4 var(--sans); color: var(--delete); text-transform: uppercase; letter-spacing: .04em; }
.where { color: var(--muted); font: 11.5px var(--sans); }
.notes { display: block; color: var(--muted); font-size: 12.5px; margin-top: .15rem; }
td p { margin: 0 0 .3rem; }
td p:last-child { margin-bottom: 0; }
td ul { margin: .2rem 0; padding-left: 1.1rem; }
.response { border: 1px solid var(--border); border-radius: 10px; margin: .6rem 0; overflow: hidden; }
.response > .head { display: flex; gap: .75rem; align-items: baseline; padding: .55rem .8rem; background: var(--bg); }
.response > .head .prose p { margin: 0 0 .3rem; }
.response > .head .prose ul { margin: .2rem 0 .3rem; padding-left: 1.2rem; }
.response > .body { padding: .2rem .8rem .7rem; }
.response > .body:empty { display: none; }
.status { flex: 0 0 auto; font: 700 13px/1.5 var(--mono); padding: .05em .5em; border-radius: 5px; color: #fff; }
.s2 { background: var(--post); } .s3 { background: var(--get); } .s4 { background: #bc4c00; } .s5 { background: var(--delete); } .sd { background: var(--muted); }
.media { display: inline-block; font: 12px var(--mono); color: var(--muted); border: 1px solid var(--border); border-radius: 20px; padding: .05rem .55rem; margin: .6rem 0 .3rem; }
.variant { border-left: 3px solid var(--border); padding-left: .8rem; margin: .6rem 0; }
.variant > .title { font-weight: 600; font-size: 13.5px; }
details.example { margin-top: .5rem; }
details.example summary { cursor: pointer; color: var(--accent); font-size: 13.5px; }
.scheme { background: var(--panel); border: 1px solid var(--border); border-radius: 12px; padding: 1rem 1.25rem; margin: 1rem 0; }
.scheme h3 { margin: 0 0 .3rem; font-size: 1.05rem; }
.scheme .kind { font-size: 13px; color: var(--muted); }
.deprecated { color: var(--delete); font-weight: 600; }
@media (max-width: 900px) {
  .layout { display: block; }
  nav.toc { position: static; height: auto; border-right: 0; border-bottom: 1px solid var(--border); }
  main { padding: 1.25rem; }
  .op { padding: 1rem; }
  table.fields { display: block; overflow-x: auto; }
  td.name { white-space: normal; word-break: break-word; }
}
`

function Html(props: { html: string; class?: string }) {
  if (props.html === '') return null
  return <div class={props.class ?? 'prose'} dangerouslySetInnerHTML={{ __html: props.html }} />
}

function Inline(props: { text: string | undefined }) {
  return <span dangerouslySetInnerHTML={{ __html: markdownInline(props.text) }} />
}

function Notes(props: { notes: string[] }) {
  if (props.notes.length === 0) return null
  return (
    <span class="notes">
      <Inline text={props.notes.join(' · ')} />
    </span>
  )
}

function Toc(props: { model: DocsModel }) {
  const { model } = props
  return (
    <nav class="toc" aria-label="Contents">
      <a class="brand" href="#top">
        {model.title}
      </a>
      <span class="version">version {model.version} · OpenAPI 3.1</span>
      <h2>Overview</h2>
      <ul>
        <li>
          <a href="#top">Introduction</a>
        </li>
        {headings(model.description).map((h) => (
          <li>
            <a href={`#${h.id}`}>{h.text}</a>
          </li>
        ))}
        <li>
          <a href="#authentication">Authentication</a>
        </li>
      </ul>
      <h2>Endpoints</h2>
      <ul>
        {model.tags.map((tag) => (
          <>
            <li class="tag">
              <a href={`#${tag.anchor}`}>{tag.name}</a>
            </li>
            {tag.operations.map((op) => (
              <li class="toc-op">
                <a href={`#${op.anchor}`}>
                  <span class={`m ${op.method.toLowerCase()}`}>{op.method}</span>
                  <span>{op.summary}</span>
                </a>
              </li>
            ))}
          </>
        ))}
      </ul>
      <h2>Machine-readable</h2>
      <ul>
        <li>
          <a href="/openapi.yaml">openapi.yaml</a>
        </li>
        <li>
          <a href="/openapi.json">openapi.json</a>
        </li>
      </ul>
    </nav>
  )
}

function Scheme(props: { scheme: SecuritySchemeView }) {
  const { scheme } = props
  return (
    <div class="scheme" id={scheme.anchor}>
      <h3>
        <code>{scheme.name}</code> <span class="kind">{scheme.kind}</span>
      </h3>
      <Html html={markdown(scheme.description)} />
      {scheme.urls.length > 0 ? (
        <p>
          {scheme.urls.map((u) => (
            <>
              {u.label}: <code>{u.url}</code>{' '}
            </>
          ))}
        </p>
      ) : null}
      {scheme.scopes.length > 0 ? (
        <table class="fields">
          <thead>
            <tr>
              <th>Scope</th>
              <th>Grants</th>
            </tr>
          </thead>
          <tbody>
            {scheme.scopes.map((s) => (
              <tr>
                <td class="name">{s.name}</td>
                <td>{s.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  )
}

function Auth(props: { security: string[][] }) {
  if (props.security.length === 0) return <span class="auth">No authentication</span>
  // Each alternative lists schemes that apply together; `{}` (no scheme) reads "none in a header".
  const alternatives = props.security.map((names) =>
    names.length === 0
      ? 'none in a header'
      : names.map((name, i) => (
          <>
            {i > 0 ? ' + ' : ''}
            <a href={`#auth/${name}`}>{name}</a>
          </>
        )),
  )
  return (
    <span class="auth">
      Auth:{' '}
      {alternatives.map((alt, i) => (
        <>
          {i > 0 ? ' or ' : ''}
          {alt}
        </>
      ))}
    </span>
  )
}

function Parameters(props: { parameters: ParameterView[] }) {
  if (props.parameters.length === 0) return null
  return (
    <>
      <h4>Parameters</h4>
      <table class="fields">
        <thead>
          <tr>
            <th>Name</th>
            <th>Type</th>
            <th>Description</th>
          </tr>
        </thead>
        <tbody>
          {props.parameters.map((p) => (
            <tr>
              <td class="name">
                {p.name}
                {p.required ? <span class="req">required</span> : null}
                <div class="where">in {p.in}</div>
              </td>
              <td class="type">{p.type}</td>
              <td>
                <Html html={markdown(p.description)} class="cell" />
                <Notes
                  notes={[
                    ...p.notes,
                    ...(p.example === undefined ? [] : [`example \`${p.example}\``]),
                  ]}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

function Fields(props: { rows: FieldRow[] }) {
  if (props.rows.length === 0) return null
  return (
    <table class="fields">
      <thead>
        <tr>
          <th>Field</th>
          <th>Type</th>
          <th>Description</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr>
            <td class="name" style={`padding-left: ${0.6 + row.depth * 1.1}rem`}>
              {row.parent ? <span class="parent">{row.parent}</span> : null}
              {row.name}
              {row.required ? <span class="req">required</span> : null}
            </td>
            <td class="type">{row.type}</td>
            <td>
              <Html html={markdown(row.description)} class="cell" />
              <Notes notes={row.notes} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function Schema(props: { view: SchemaView }) {
  const { view } = props
  const simple = view.fields.length === 0 && view.variants.length === 0
  return (
    <>
      {simple ? (
        <p>
          <code>{view.type}</code> <Inline text={view.description} />
          <Notes notes={view.notes} />
        </p>
      ) : null}
      <Fields rows={view.fields} />
      {view.variants.length > 0 ? (
        <>
          {view.description ? <Html html={markdown(view.description)} /> : <p>One of:</p>}
          {view.variants.map((v) => (
            <div class="variant">
              <div class="title">{v.title}</div>
              <Schema view={v.view} />
            </div>
          ))}
        </>
      ) : null}
    </>
  )
}

function Contents(props: { contents: ContentView[] }) {
  return (
    <>
      {props.contents.map((content) => (
        <>
          <span class="media">{content.mediaType}</span>
          {content.schema ? <Schema view={content.schema} /> : null}
          {content.examples.map((ex) => (
            <details class="example">
              <summary>
                Example
                {ex.summary ? `: ${ex.summary}` : ex.name === 'default' ? '' : `: ${ex.name}`}
              </summary>
              <pre>
                <code>{ex.text}</code>
              </pre>
            </details>
          ))}
        </>
      ))}
    </>
  )
}

function Headers(props: { headers: HeaderView[] }) {
  if (props.headers.length === 0) return null
  return (
    <table class="fields">
      <thead>
        <tr>
          <th>Header</th>
          <th>Type</th>
          <th>Description</th>
        </tr>
      </thead>
      <tbody>
        {props.headers.map((h) => (
          <tr>
            <td class="name">
              {h.name}
              {h.required ? <span class="req">always</span> : null}
            </td>
            <td class="type">{h.type}</td>
            <td>
              <Html html={markdown(h.description)} class="cell" />
              <Notes notes={h.notes} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function statusClass(status: string): string {
  const first = status.charAt(0)
  return ['2', '3', '4', '5'].includes(first) ? `s${first}` : 'sd'
}

function Response(props: { response: ResponseView }) {
  const { response } = props
  return (
    <div class="response">
      <div class="head">
        <span class={`status ${statusClass(response.status)}`}>{response.status}</span>
        <Html html={markdown(response.description)} />
      </div>
      {response.headers.length > 0 || response.contents.length > 0 ? (
        <div class="body">
          <Headers headers={response.headers} />
          <Contents contents={response.contents} />
        </div>
      ) : null}
    </div>
  )
}

function Operation(props: { op: OperationView }) {
  const { op } = props
  return (
    <article class="op" id={op.anchor}>
      <h3>
        {op.summary}
        {op.deprecated ? <span class="deprecated"> (deprecated)</span> : null}
      </h3>
      <div class="endpoint">
        <span class={`method ${op.method.toLowerCase()}`}>{op.method}</span>
        <span class="path">{op.path}</span>
        <Auth security={op.security} />
      </div>
      <Html html={markdown(op.description)} />
      <Parameters parameters={op.parameters} />
      {op.requestBody ? (
        <>
          <h4>Request body{op.requestBody.required ? ' (required)' : ''}</h4>
          <Html html={markdown(op.requestBody.description)} />
          <Contents contents={op.requestBody.contents} />
        </>
      ) : null}
      <h4>Responses</h4>
      {op.responses.map((response) => (
        <Response response={response} />
      ))}
    </article>
  )
}

function Group(props: { tag: TagView }) {
  const { tag } = props
  return (
    <section class="group" id={tag.anchor}>
      <h2>{tag.name}</h2>
      <Html html={markdown(tag.description)} />
      {tag.operations.map((op) => (
        <Operation op={op} />
      ))}
    </section>
  )
}

function DocsPage(props: { model: DocsModel }): Child {
  const { model } = props
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <link rel="icon" href="data:," />
        <title>{`${model.title} ${model.version} — API reference`}</title>
        {/* Raw: as a text child, JSX would escape the quotes in the CSS and break it. */}
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <div class="layout">
          <Toc model={model} />
          <main>
            <header class="top" id="top">
              <h1>{model.title}</h1>
              {model.summary ? <p class="summary">{model.summary}</p> : null}
              <div class="servers">
                {model.servers.map((s) => (
                  <span class="server">
                    <code>{s.url}</code> <Inline text={s.description} />
                  </span>
                ))}
              </div>
            </header>
            <Html html={markdown(model.description)} />
            <section class="group" id="authentication">
              <h2>Authentication</h2>
              {model.securitySchemes.map((scheme) => (
                <Scheme scheme={scheme} />
              ))}
            </section>
            {model.tags.map((tag) => (
              <Group tag={tag} />
            ))}
          </main>
        </div>
      </body>
    </html>
  )
}

/** The whole reference page as an HTML document. */
export async function renderDocsHtml(model: DocsModel): Promise<string> {
  const page = <DocsPage model={model} />
  return `<!doctype html>${await page.toString()}`
}
