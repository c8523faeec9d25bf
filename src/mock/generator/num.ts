/** Small numeric helpers for the generator. */

export const round0 = (n: number): number => Math.round(n)
export const round1 = (n: number): number => Math.round(n * 10) / 10
export const round2 = (n: number): number => Math.round(n * 100) / 100

export function clamp(n: number, min: number, max: number): number {
  return n < min ? min : n > max ? max : n
}

export function sum(values: ArrayLike<number>): number {
  let total = 0
  for (let i = 0; i < values.length; i++) total += values[i] as number
  return total
}

export function mean(values: ArrayLike<number>): number {
  return values.length === 0 ? 0 : sum(values) / values.length
}

export function max(values: ArrayLike<number>): number {
  let m = Number.NEGATIVE_INFINITY
  for (let i = 0; i < values.length; i++) if ((values[i] as number) > m) m = values[i] as number
  return m
}

export function min(values: ArrayLike<number>): number {
  let m = Number.POSITIVE_INFINITY
  for (let i = 0; i < values.length; i++) if ((values[i] as number) < m) m = values[i] as number
  return m
}
