/** Small helpers for benchmarks: interleaved repetitions, medians with min/max. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, samples: xs };
}

/** Run every variant once per round, `rounds` times (A B C A B C, not A A B B C C). */
export async function interleave<K extends string>(rounds: number, variants: Record<K, () => Promise<number>>): Promise<Record<K, Summary>> {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  for (let i = 0; i < rounds; i++) {
    for (const k of Object.keys(variants) as K[]) samples[k].push(await variants[k]());
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v as number[])])) as Record<K, Summary>;
}

export function fmt(x: number, digits = 1): string {
  return x.toFixed(digits);
}

export function machine(): string {
  return `${process.platform} ${process.arch}, node ${process.version}, ${require_cpus()}`;
}

import { cpus } from 'node:os';
function require_cpus(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model ?? 'cpu'}`;
}
