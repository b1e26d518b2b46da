import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from './helpers.js';

const trace = {
  processes: 3,
  events: [
    { process: 0, kind: 'checkpoint' },
    { process: 0, kind: 'send', message: 'm1', to: 1 },
    { process: 1, kind: 'recv', message: 'm1', from: 0 },
    { process: 1, kind: 'logged', message: 'm1' },
    { process: 1, kind: 'send', message: 'm2', to: 2 },
    { process: 2, kind: 'recv', message: 'm2', from: 1 },
    { process: 2, kind: 'checkpoint' },
    { process: 2, kind: 'send', message: 'm3', to: 0 },
    { process: 0, kind: 'recv', message: 'm3', from: 2 },
    { process: 0, kind: 'send', message: 'm4', to: 1 },
    { process: 1, kind: 'recv', message: 'm4', from: 0 },
  ],
};

function write(obj: unknown): string {
  const f = join(tempDir(), 'trace.json');
  writeFileSync(f, JSON.stringify(obj));
  return f;
}

describe('ckpt recovery-line', () => {
  it('prints the contract JSON with --json', () => {
    const r = cli(['recovery-line', '--trace', write(trace), '--failed', '1', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      line: [
        { process: 0, position: 3, checkpoint: null, replayed: 0 },
        { process: 1, position: 2, checkpoint: 0, replayed: 1 },
        { process: 2, position: 2, checkpoint: null, replayed: 0 },
      ],
      domino: false,
    });
  });

  it('prints a readable line per process and writes an SVG diagram', () => {
    const svg = join(tempDir(), 'line.svg');
    const r = cli(['recovery-line', '--trace', write(trace), '--failed', '0,1', '--svg', svg]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/P0 \(failed\): position 1 of 3 - restarts from checkpoint 1/);
    expect(r.stdout).toMatch(/P1 \(failed\): position 2 of 3 - restarts from checkpoint 0, replays 1 logged receive/);
    expect(r.stdout).toMatch(/no domino effect/);
    const text = readFileSync(svg, 'utf8');
    expect(text).toMatch(/^<svg/);
    expect(text).toContain('<polyline'); // the recovery line
    expect((text.match(/<rect x=/g) ?? []).length).toBeGreaterThanOrEqual(5); // checkpoints (+ legend)
  });

  it('exits 2 naming the event index of a malformed trace', () => {
    const r = cli(['recovery-line', '--trace', write({ processes: 2, events: [{ process: 0, kind: 'checkpoint' }, { process: 1, kind: 'logged', message: 'z' }] }), '--failed', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^ckpt: invalid trace: event 1: logged z before/);
  });

  it('exits 2 for a failed process that does not exist', () => {
    const r = cli(['recovery-line', '--trace', write(trace), '--failed', '3']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--failed '3'/);
  });
});
