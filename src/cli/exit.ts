/**
 * Ends the process with `code` once stdout and stderr have drained — a pipe may still hold the
 * last of the output (`client create | jq`). If some handle (a keep-alive socket, a timer) would
 * keep the process alive anyway, it ends a moment later regardless: a command that is done is done.
 */
export function exitWhenDone(code: number): void {
  process.exitCode = code
  setTimeout(() => process.exit(code), 1000).unref()
}
