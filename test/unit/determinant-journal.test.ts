/** A rank's determinant journal (pessimistic sender-based logging): what survives, what is damage. */
import { describe, expect, it } from 'vitest';
import { appendFileSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { JournalWriter, journalPath, readJournal } from '../../dist/storage/determinant-journal.js';
import { JournalRows } from '../../dist/storage/journal-rows.js';
import { tempDir } from '../helpers.js';

const rows = (from: number, n: number) => Array.from({ length: n }, (_, k) => ({ i: from + k, src: (from + k) % 3, seq: 10 + from + k }));

describe('determinant journal', () => {
  it('reads back what was appended, in delivery order, with the later record winning an index', () => {
    const dir = tempDir();
    const w = new JournalWriter(dir, 2, true);
    w.append(rows(1, 3));
    w.append([{ i: 3, src: 1, seq: 99 }, ...rows(4, 2)]);
    w.close();
    const r = readJournal(dir, 2);
    expect(r.rows.map((x) => x.i)).toEqual([1, 2, 3, 4, 5]);
    expect(r.rows[2]).toEqual({ i: 3, src: 1, seq: 99 });
    expect(r.damage).toBeNull();
  });

  it("the writer's rows in memory: appended in order, an index seen again replaced, an earlier one inserted, and pruned", () => {
    const r = new JournalRows();
    for (let i = 1; i <= 600; i++) r.set(i, i % 3, i + 10); // grows past its first block
    r.set(300, 2, 99); // replaced
    r.retain((i) => i % 2 === 0); // odd rows go
    r.set(301, 1, 7); // inserted between 300 and 302
    expect(r.size).toBe(301);
    expect(r.between(298, 302)).toEqual([
      { i: 300, src: 2, seq: 99 },
      { i: 301, src: 1, seq: 7 },
      { i: 302, src: 2, seq: 312 },
    ]);
    expect(r.between(-Infinity, 4).map((x) => x.i)).toEqual([2, 4]);
    expect(r.between(600, Infinity)).toEqual([]);
  });

  it('a torn last record ends the journal (not damage), and the next writer writes over it', () => {
    const dir = tempDir();
    const w = new JournalWriter(dir, 0, true);
    w.append(rows(1, 2));
    w.append(rows(3, 2));
    w.close();
    // Tear the second record: keep its header and a few payload bytes, zero the rest.
    const path = journalPath(dir, 0);
    const first = readJournal(dir, 0);
    const buf = readFileSync(path);
    const secondAt = 12 + 8 * (1 + 2 * 3);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(buf.length - secondAt - 20), 0, buf.length - secondAt - 20, secondAt + 20);
    closeSync(fd);
    expect(first.rows).toHaveLength(4);
    const torn = readJournal(dir, 0);
    expect(torn.rows.map((x) => x.i)).toEqual([1, 2]);
    expect(torn.damage).toBeNull();
    const again = new JournalWriter(dir, 0, true);
    again.append(rows(3, 1));
    again.close();
    expect(readJournal(dir, 0).rows.map((x) => x.i)).toEqual([1, 2, 3]);
  });

  it('a damaged record followed by a good one is reported as damage', () => {
    const dir = tempDir();
    const w = new JournalWriter(dir, 1, false);
    w.append(rows(1, 2));
    w.append(rows(3, 2));
    w.close();
    const path = journalPath(dir, 1);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from([0xff]), 0, 1, 20); // a payload byte of the first record
    closeSync(fd);
    expect(readJournal(dir, 1).damage).toMatch(/damaged/);
  });

  it('a rewrite keeps only the rows asked for, and the file stays preallocated', () => {
    const dir = tempDir();
    const w = new JournalWriter(dir, 0, true);
    w.append(rows(1, 10));
    w.rewrite((i) => i > 6);
    w.append(rows(11, 2));
    w.close();
    expect(readJournal(dir, 0).rows.map((x) => x.i)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(statSync(journalPath(dir, 0)).size).toBeGreaterThanOrEqual(1 << 20);
  });

  it('garbage appended after the preallocated zeros is damage', () => {
    const dir = tempDir();
    const w = new JournalWriter(dir, 0, true);
    w.append(rows(1, 2));
    w.close();
    const good = readFileSync(journalPath(dir, 0)).subarray(0, 12 + 8 * 7);
    appendFileSync(journalPath(dir, 0), good); // a valid record where only zeros belong
    expect(readJournal(dir, 0).damage).toMatch(/damaged/);
  });
});
