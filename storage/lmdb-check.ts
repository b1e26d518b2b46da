/**
 * A read-only structural check of an LMDB data file, done in JavaScript with plain reads before
 * LMDB itself ever maps the file.
 *
 * Why: LMDB trusts its file. A truncated file makes the process die of SIGBUS on the first
 * read past its end; a damaged page makes it follow garbage offsets (heap corruption, exit
 * 134) or fail a write transaction half-way. And LMDB keeps no page checksums. So, before a
 * store is opened (and long before anything is written to it), every page the newest meta
 * page's trees reference is visited: the free-page tree, the main tree, and each named
 * database. Each page must say it is the page it is, be of the kind its parent expects, keep
 * its node offsets and sizes inside the page, hold its keys in order, and no page may be
 * reachable twice. Page, entry and depth counts must match what the database record says.
 *
 * Truncation: after a SIGKILL the newest meta page may name a last page the file does not
 * reach yet (LMDB grows the file lazily; pages on the free list are not written until reused).
 * That store is sound. What matters is whether the pages the committed trees *reference* are
 * inside the file, and that is what is checked (platform-facts; issue 10, item 1).
 *
 * Layout of the LMDB build lmdb-js 3 ships (dependencies/lmdb/libraries/liblmdb/mdb.c):
 * page header 24 bytes { pgno u64, txnid u64, pad u16, flags u16, lower u16 | upper u16 (or
 * overflow page count u32) }; node pointers follow, relative to the end of the header.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const MDB_MAGIC = 0xbeefc0de;
const MDB_DATA_VERSION = 2;
const HDR = 24;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const P_META = 0x08;
const P_LEAF2 = 0x20;
/** Administrative page bits that may be left set on a written page. */
const P_ADMIN = 0x2000 | 0x4000 | 0x8000 | 0x10;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const F_DUPDATA = 0x04;
const MDB_REVERSEKEY = 0x02;
const MDB_DUPSORT = 0x04;
const MDB_INTEGERKEY = 0x08;
const P_INVALID = 0xffffffffffffffffn;
/** Offsets in a meta page: magic, version, the two core database records, last page, txnid. */
const M_MAGIC = 24;
const M_VERSION = 28;
const M_FREE_DB = 48;
const M_MAIN_DB = 96;
const M_LAST_PAGE = 144;
const M_TXNID = 152;
/** No ckpt store comes near this; a meta page that says more is garbled. */
const MAX_SANE_PAGES = 2 ** 40;

export interface DbRecord {
  flags: number;
  depth: number;
  branchPages: number;
  leafPages: number;
  overflowPages: number;
  entries: number;
  root: bigint;
}

export interface LmdbCheck {
  pageSize: number;
  fileSize: number;
  /** The meta page LMDB will use (0 or 1) and what it says. */
  meta: number;
  txnid: number;
  lastPage: number;
  /** Highest page number a committed tree references (-1 when every tree is empty). */
  highestReferenced: number;
  /** Every page a committed tree references (meta pages excluded), ascending. */
  referencedPages: number[];
  /** Named databases found in the main tree. */
  databases: string[];
  /** The main tree (which names the databases) was read without a problem. */
  mainSound: boolean;
  /** Records in the main tree (named databases included): 0 for an environment never written. */
  mainEntries: number;
  /** What is wrong, one sentence each; empty when the file is sound. */
  problems: string[];
}

/** Called for every record of a named database listed in `values`, with its raw bytes. */
export type ValueVisitor = (db: string, key: Buffer, value: Buffer) => string | null;

function readDbRecord(b: Buffer, at: number): DbRecord {
  return {
    flags: b.readUInt16LE(at + 4),
    depth: b.readUInt16LE(at + 6),
    branchPages: Number(b.readBigUInt64LE(at + 8)),
    leafPages: Number(b.readBigUInt64LE(at + 16)),
    overflowPages: Number(b.readBigUInt64LE(at + 24)),
    entries: Number(b.readBigUInt64LE(at + 32)),
    root: b.readBigUInt64LE(at + 40),
  };
}

/** Too many problems say nothing more than the first few: stop collecting after this many. */
const MAX_PROBLEMS = 20;

/**
 * Check `file`. `values` names the databases whose records are handed to `visit` (values on
 * overflow pages included), so a caller can check its own record checksums without LMDB.
 */
export function checkLmdbFile(file: string, options: { values?: ReadonlySet<string>; visit?: ValueVisitor } = {}): LmdbCheck {
  const fd = openSync(file, 'r');
  try {
    return new Checker(fd, fstatSync(fd).size, options).run();
  } finally {
    closeSync(fd);
  }
}

class Checker {
  private pageSize = 4096;
  private lastPage = 0;
  private highest = -1;
  private readonly problems: string[] = [];
  private readonly seen = new Set<number>();
  private readonly databases: string[] = [];
  /** The tree being walked, and problems met in the main tree itself. */
  private current = '';
  private mainProblems = 0;
  private mainEntries = 0;

  constructor(
    private readonly fd: number,
    private readonly fileSize: number,
    private readonly options: { values?: ReadonlySet<string>; visit?: ValueVisitor },
  ) {}

  private problem(text: string): void {
    if (this.current === 'main') this.mainProblems++;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(text);
  }

  private read(offset: number, length: number): Buffer | null {
    if (offset + length > this.fileSize) return null;
    const b = Buffer.allocUnsafe(length);
    return readSync(this.fd, b, 0, length, offset) === length ? b : null;
  }

  run(): LmdbCheck {
    const metas = [0, 1].map((i) => this.readMeta(i));
    const result = (meta: number, txnid: number): LmdbCheck => ({
      pageSize: this.pageSize,
      fileSize: this.fileSize,
      meta,
      txnid,
      lastPage: this.lastPage,
      highestReferenced: this.highest,
      referencedPages: [...this.seen].filter((p) => p > 1).sort((x, y) => x - y),
      databases: this.databases,
      mainSound: meta >= 0 && this.mainProblems === 0,
      mainEntries: this.mainEntries,
      problems: this.problems,
    });
    if (metas.some((m) => m === null)) return result(-1, 0);
    const [a, b] = metas as MetaInfo[];
    const use = b!.txnid > a!.txnid ? 1 : 0;
    const m = (use ? b : a)!;
    this.lastPage = m.lastPage;
    this.mainEntries = m.main.entries;
    this.seen.add(0).add(1);
    this.walk('free list', m.free, { check: 'integer' });
    this.walk('main', m.main, { check: 'bytes', main: true });
    return result(use, Number(m.txnid));
  }

  private readMeta(i: number): MetaInfo | null {
    // The page size is in meta 0; meta 1 sits one page further.
    const head = this.read(i * this.pageSize, 256);
    if (!head) {
      this.problem(`data.mdb is ${this.fileSize} bytes: too short to hold LMDB's two meta pages`);
      return null;
    }
    if (head.readUInt32LE(M_MAGIC) !== MDB_MAGIC) {
      this.problem(i === 0 ? 'data.mdb is not an LMDB file (no LMDB magic number)' : 'meta page 1 is damaged (no LMDB magic number)');
      return null;
    }
    if ((head.readUInt16LE(18) & P_META) === 0) {
      this.problem(`meta page ${i} is damaged (not marked as a meta page)`);
      return null;
    }
    if ((head.readUInt32LE(M_VERSION) & 0xffff) !== MDB_DATA_VERSION) {
      this.problem(`meta page ${i} has LMDB data version ${head.readUInt32LE(M_VERSION) & 0xffff}; this build reads version ${MDB_DATA_VERSION}`);
      return null;
    }
    if (i === 0) {
      const ps = head.readUInt32LE(M_FREE_DB);
      if (ps < 512 || ps > 65536 || (ps & (ps - 1)) !== 0) {
        this.problem(`meta page 0 is garbled (page size ${ps})`);
        return null;
      }
      this.pageSize = ps;
    }
    const lastPage = head.readBigUInt64LE(M_LAST_PAGE);
    if (lastPage < 1n || lastPage > BigInt(MAX_SANE_PAGES)) {
      this.problem(`meta page ${i} is garbled (it names page ${lastPage} as the last page)`);
      return null;
    }
    return { txnid: head.readBigUInt64LE(M_TXNID), lastPage: Number(lastPage), free: readDbRecord(head, M_FREE_DB), main: readDbRecord(head, M_MAIN_DB) };
  }

  /** The page `pgno` as a tree page, or null (with a problem) when it cannot be one. */
  private page(pgno: number, where: string): Buffer | null {
    if (pgno < 2 || pgno > this.lastPage) {
      this.problem(`${where} points at page ${pgno}, outside the file's pages 2..${this.lastPage}`);
      return null;
    }
    if (this.seen.has(pgno)) {
      this.problem(`page ${pgno} is reachable twice (${where})`);
      return null;
    }
    this.seen.add(pgno);
    this.highest = Math.max(this.highest, pgno);
    const p = this.read(pgno * this.pageSize, this.pageSize);
    if (!p) {
      this.problem(`data.mdb is truncated: ${where} needs page ${pgno} (bytes up to ${(pgno + 1) * this.pageSize}) but the file has ${this.fileSize} bytes`);
      return null;
    }
    if (p.readBigUInt64LE(0) !== BigInt(pgno)) {
      this.problem(`page ${pgno} (${where}) is damaged: its header says page ${p.readBigUInt64LE(0)}`);
      return null;
    }
    return p;
  }

  private walk(name: string, db: DbRecord, how: { check: 'bytes' | 'integer'; main?: boolean }): void {
    const outer = this.current;
    this.current = name;
    try {
      this.walkTree(name, db, how);
    } finally {
      this.current = outer;
    }
  }

  private walkTree(name: string, db: DbRecord, how: { check: 'bytes' | 'integer'; main?: boolean }): void {
    if (db.root === P_INVALID) {
      if (db.entries !== 0 || db.depth !== 0) this.problem(`database '${name}' has no root page but claims ${db.entries} entries`);
      return;
    }
    if (db.depth < 1 || db.depth > 32) {
      this.problem(`database '${name}' record is damaged (depth ${db.depth})`);
      return;
    }
    const free = how.check === 'integer';
    if ((db.flags & MDB_DUPSORT) !== 0 && !how.main && !free) {
      // Sorted duplicates keep sub-trees inside leaves; no ckpt database uses them.
      this.problem(`database '${name}' uses sorted duplicates, which no ckpt store has`);
      return;
    }
    // The free list's record carries the environment's flags; its keys are always txnids.
    const order = free ? 'integer' : db.flags & MDB_REVERSEKEY ? 'none' : db.flags & MDB_INTEGERKEY ? 'integer' : 'bytes';
    const counts = { branch: 0, leaf: 0, overflow: 0, entries: 0 };
    let prev: Buffer | null = null;
    const inOrder = (key: Buffer, where: string) => {
      if (order !== 'none' && prev && compareKeys(prev, key, order) >= 0) this.problem(`keys out of order in ${where}`);
      prev = key;
    };
    const visit = (pgno: number, level: number, where: string): void => {
      const p = this.page(pgno, where);
      if (!p) return;
      const flags = p.readUInt16LE(18) & ~P_ADMIN;
      const leaf = level === db.depth;
      if (flags !== (leaf ? P_LEAF : P_BRANCH)) {
        const kind = flags === P_LEAF2 ? 'a fixed-size duplicate page' : `flags 0x${flags.toString(16)}`;
        this.problem(`page ${pgno} of '${name}' is damaged: expected a ${leaf ? 'leaf' : 'branch'} page at depth ${level}, found ${kind}`);
        return;
      }
      if (leaf) counts.leaf++;
      else counts.branch++;
      const lower = p.readUInt16LE(20);
      const upper = p.readUInt16LE(22);
      const room = this.pageSize - HDR;
      if (lower % 2 !== 0 || lower > upper || upper > room || (!leaf && lower < 2)) {
        this.problem(`page ${pgno} of '${name}' is damaged (free-space bounds ${lower}..${upper})`);
        return;
      }
      const here = `page ${pgno} of '${name}'`;
      let separator: Buffer | null = null;
      for (let i = 0; i < lower / 2; i++) {
        const off = p.readUInt16LE(HDR + 2 * i);
        const at = HDR + off;
        if (off < upper || at + 8 > this.pageSize) {
          this.problem(`${here} is damaged (node ${i} at offset ${off} lies outside the node area)`);
          return;
        }
        const lo = p.readUInt16LE(at);
        const hi = p.readUInt16LE(at + 2);
        const nflags = p.readUInt16LE(at + 4);
        const ksize = p.readUInt16LE(at + 6);
        if (at + 8 + ksize > this.pageSize) {
          this.problem(`${here} is damaged (key of node ${i} runs past the page)`);
          return;
        }
        const key = p.subarray(at + 8, at + 8 + ksize);
        if (!leaf) {
          // Separators ascend within their page (the first one is empty); leaf keys are checked
          // in order across the whole tree, which also catches a separator that lies.
          if (i > 1 && order !== 'none' && compareKeys(separator!, key, order) >= 0) this.problem(`keys out of order in ${here}`);
          separator = key;
          visit(lo + hi * 0x10000 + nflags * 0x100000000, level + 1, `branch ${here}`);
          continue;
        }
        inOrder(key, here);
        counts.entries++;
        const dsize = lo + hi * 0x10000;
        const dataAt = at + 8 + ksize;
        if (nflags & ~(F_BIGDATA | F_SUBDATA | F_DUPDATA)) {
          this.problem(`${here} is damaged (node ${i} has flags 0x${nflags.toString(16)})`);
          return;
        }
        let value: Buffer | null;
        if (nflags & F_BIGDATA) {
          if (dataAt + 8 > this.pageSize) {
            this.problem(`${here} is damaged (node ${i} runs past the page)`);
            return;
          }
          value = this.overflow(Number(p.readBigUInt64LE(dataAt)), dsize, `record in ${here}`, counts, this.wantsValues(name));
        } else {
          if (dataAt + dsize > this.pageSize) {
            this.problem(`${here} is damaged (record ${i} of ${dsize} bytes runs past the page)`);
            return;
          }
          value = p.subarray(dataAt, dataAt + dsize);
        }
        if (how.main && nflags & F_SUBDATA) {
          if (dsize !== 48 || !value) {
            this.problem(`${here} is damaged (record of database '${key.toString('latin1')}' has ${dsize} bytes)`);
            continue;
          }
          // lmdb-js stores a database's name with its terminating NUL.
          const sub = key.toString('utf8').replace(/\0$/, '');
          this.databases.push(sub);
          this.walk(sub, readDbRecord(value, 0), { check: 'bytes' });
          continue;
        }
        if (nflags & (F_SUBDATA | F_DUPDATA) && !how.main) {
          this.problem(`${here} holds duplicate data, which no ckpt store has`);
          continue;
        }
        if (value && this.wantsValues(name)) {
          const why = this.options.visit?.(name, Buffer.from(key), value);
          if (why) this.problem(`database '${name}': ${why}`);
        }
      }
    };
    visit(Number(db.root), 1, `the root of '${name}'`);
    if (this.problems.length === 0) {
      const want = { branch: db.branchPages, leaf: db.leafPages, overflow: db.overflowPages, entries: db.entries };
      for (const k of ['branch', 'leaf', 'overflow', 'entries'] as const) {
        if (counts[k] !== want[k]) this.problem(`database '${name}' is damaged: its record counts ${want[k]} ${k === 'entries' ? 'entries' : `${k} pages`}, the tree has ${counts[k]}`);
      }
    }
  }

  private wantsValues(db: string): boolean {
    return this.options.values?.has(db) ?? false;
  }

  /** An overflow run: header checked, its pages marked as referenced, its bytes if wanted. */
  private overflow(pgno: number, size: number, where: string, counts: { overflow: number }, want: boolean): Buffer | null {
    const p = this.page(pgno, where);
    if (!p) return null;
    const pages = Math.floor((HDR - 1 + size) / this.pageSize) + 1;
    if ((p.readUInt16LE(18) & ~P_ADMIN) !== P_OVERFLOW || p.readUInt32LE(20) !== pages) {
      this.problem(`overflow page ${pgno} (${where}) is damaged`);
      return null;
    }
    counts.overflow += pages;
    const last = pgno + pages - 1;
    for (let q = pgno + 1; q <= last; q++) {
      if (this.seen.has(q)) this.problem(`page ${q} is reachable twice (overflow run of page ${pgno})`);
      this.seen.add(q);
    }
    this.highest = Math.max(this.highest, last);
    if (last > this.lastPage) this.problem(`overflow run ${pgno}..${last} (${where}) ends past the last page ${this.lastPage}`);
    if ((last + 1) * this.pageSize > this.fileSize) {
      this.problem(`data.mdb is truncated: ${where} needs pages up to ${last} (bytes up to ${(last + 1) * this.pageSize}) but the file has ${this.fileSize} bytes`);
      return null;
    }
    return want ? this.read(pgno * this.pageSize + HDR, size) : null;
  }
}

interface MetaInfo {
  txnid: bigint;
  lastPage: number;
  free: DbRecord;
  main: DbRecord;
}

function compareKeys(a: Buffer, b: Buffer, order: 'bytes' | 'integer'): number {
  if (order === 'bytes' || a.length !== b.length || (a.length !== 8 && a.length !== 4)) return Buffer.compare(a, b);
  const x = a.length === 8 ? a.readBigUInt64LE(0) : BigInt(a.readUInt32LE(0));
  const y = b.length === 8 ? b.readBigUInt64LE(0) : BigInt(b.readUInt32LE(0));
  return x < y ? -1 : x > y ? 1 : 0;
}
