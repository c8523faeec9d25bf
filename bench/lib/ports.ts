import { createServer } from 'node:net'

/**
 * A TCP port of 127.0.0.1 that was free a moment ago: the OS picks it for a throwaway listener,
 * which is closed before the port is handed to a child process.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      if (address === null || typeof address === 'string') {
        probe.close()
        reject(new Error('could not read the probe listener port'))
        return
      }
      probe.close(() => resolve(address.port))
    })
  })
}
