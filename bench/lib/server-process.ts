import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort } from './ports.ts'

/** The repository root; servers run from there, as `npm start` would. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface ServerProcess {
  /** e.g. `http://127.0.0.1:41234` */
  url: string
  port: number
  /** The server process's id (for reading its memory from /proc). */
  pid: number
  stop: () => Promise<void>
}

export interface ServerProcessOptions {
  /** A label for messages. */
  name: string
  /** A TypeScript entry, relative to the repository root, run with tsx. */
  script: string
  /** Extra environment; `PORT` and `HOST` are set here. */
  env?: (port: number) => Record<string, string>
  /** A path answering 200 once the server is ready. */
  readyPath?: string
  timeoutMs?: number
}

/**
 * Starts a server in its own Node process (`node --import tsx <script>`, one process, so signals
 * reach it directly; `BENCH_SERVER_NODE_ARGS` adds Node options) on a free port of 127.0.0.1, and resolves once `readyPath` answers 200.
 * Its stdout is discarded; stderr is kept and shown if it fails to start.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the servers.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', options.script], {
    cwd: ROOT,
    env: { ...process.env, ...options.env?.(port), PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )

  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `${options.name} exited with code ${child.exitCode} before it was ready:\n${stderr}`,
      )
    }
    if (Date.now() > deadline) {
      await stop(child, exited)
      throw new Error(
        `${options.name} did not answer ${url}${options.readyPath ?? '/'} in time:\n${stderr}`,
      )
    }
    try {
      const response = await fetch(`${url}${options.readyPath ?? '/'}`)
      await response.arrayBuffer()
      if (response.status === 200) break
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { url, port, pid: child.pid ?? -1, stop: () => stop(child, exited) }
}

/** SIGTERM, then SIGKILL if the process has not exited within 5 s. */
async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}
