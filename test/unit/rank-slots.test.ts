/** Shared per-rank slots and rank-thread sizing (runtime/wire.ts, coordinator/rank-pool.ts). */
import { describe, expect, it } from 'vitest';
import { COST_BASE, COST_SLOTS } from '../../dist/runtime/costs.js';
import { STATUS_SLOTS, TIME_SLOTS } from '../../dist/runtime/wire.js';
import { youngGenerationMb } from '../../dist/runtime/coordinator/rank-pool.js';

describe('per-rank shared slots', () => {
  it('give every rank whole 64-byte cache lines of its own in both blocks, with room for every slot', () => {
    expect((STATUS_SLOTS * 4) % 64).toBe(0);
    expect((TIME_SLOTS * 8) % 64).toBe(0);
    expect(STATUS_SLOTS).toBeGreaterThanOrEqual(8);
    expect(TIME_SLOTS).toBeGreaterThanOrEqual(COST_BASE + COST_SLOTS);
  });
});

describe('rank threads young generation', () => {
  it('is 16 MiB per semi-space up to 32 ranks, and shrinks beyond so the total stays near 1 GiB, never below 1 MiB', () => {
    expect(youngGenerationMb(1)).toBe(16);
    expect(youngGenerationMb(32)).toBe(16);
    expect(youngGenerationMb(64)).toBe(8);
    expect(youngGenerationMb(10_000)).toBe(1);
    for (const n of [33, 100, 500]) expect(2 * n * youngGenerationMb(n)).toBeLessThanOrEqual(1024);
  });
});
