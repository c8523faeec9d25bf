// Module shapes that only exist in the Workers bundle (see wrangler.toml).

declare module 'cloudflare:workers' {
  /** Extends the current request's or event's lifetime until `promise` settles. */
  export function waitUntil(promise: Promise<unknown>): void
}

/** wrangler's `Text` rule bundles these files as strings. */
declare module '*.yaml' {
  const text: string
  export default text
}
