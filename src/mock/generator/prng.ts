/*
 * The generator's only source of randomness: a small seeded PRNG (sfc32) whose state comes from a
 * string hash of what is being generated (seed, user, day, purpose). Every stream is independent,
 * so a day can be produced without producing the days before it, and adding a draw to one part of
 * a day (say, the nap) does not shift the numbers of another (the activities).
 *
 * Only integer arithmetic and `+ - * /` are used here, so the numbers are the same on every engine.
 */

/** Four 32-bit words from a string (cyrb128), to seed {@link Rng}. */
function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i)
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= h2 ^ h3 ^ h4
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}

/** A seeded pseudo-random stream (sfc32: small, fast, passes PractRand for these uses). */
export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(key: string) {
    const [a, b, c, d] = hash128(key)
    this.a = a
    this.b = b
    this.c = c
    this.d = d
    // Discard the first outputs, which are still close to the hash.
    for (let i = 0; i < 12; i++) this.next()
  }

  /** A float in [0, 1). */
  next(): number {
    this.a >>>= 0
    this.b >>>= 0
    this.c >>>= 0
    this.d >>>= 0
    let t = (this.a + this.b) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.d = (this.d + 1) | 0
    t = (t + this.d) | 0
    this.c = (this.c + t) | 0
    return (t >>> 0) / 4294967296
  }

  /** A float in [min, max). */
  float(min: number, max: number): number {
    return min + (max - min) * this.next()
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor((max - min + 1) * this.next())
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p
  }

  /**
   * A roughly normal draw (Irwin–Hall: the sum of six uniforms, rescaled). Unlike Box–Muller it
   * needs no `Math.log`/`Math.cos`, and it is bounded to ±4.24 sd, so nothing absurd comes out.
   */
  normal(mean: number, sd: number): number {
    let sum = 0
    for (let i = 0; i < 6; i++) sum += this.next()
    return mean + (sum - 3) * Math.SQRT2 * sd
  }

  /**
   * Cheap noise around `mean` (triangular, the sum of two uniforms) with standard deviation `sd`,
   * for the per-minute and per-tick loops where {@link normal}'s six draws add up.
   */
  noise(mean: number, sd: number): number {
    return mean + (this.next() + this.next() - 1) * 2.449489742783178 * sd
  }

  /** One of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)]
    if (item === undefined) throw new Error('Rng.pick: no items')
    return item
  }

  /** One of the keys of `weights`, with probability proportional to its weight. */
  weighted<K extends string | number>(weights: readonly (readonly [K, number])[]): K {
    const total = weights.reduce((sum, [, w]) => sum + w, 0)
    let x = this.next() * total
    for (const [key, w] of weights) {
      if (x < w) return key
      x -= w
    }
    const last = weights[weights.length - 1]
    if (last === undefined) throw new Error('Rng.weighted: no weights')
    return last[0]
  }
}

/**
 * The stream for one purpose (`night`, `sleep`, `activity-2`, ...) of one user's day; `day` is
 * `YYYY-MM-DD`, or `profile` for what does not change from day to day.
 */
export function rngFor(seed: number, userId: string, day: string, purpose: string): Rng {
  return new Rng(`partner-gateway mock|${seed}|${userId}|${day}|${purpose}`)
}
