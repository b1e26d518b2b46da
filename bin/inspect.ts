/** `ckpt inspect --store DIR`: what a store holds, read-only. */
import { bucketName } from '../storage/replica.js';
import { CkptStore, refusal } from '../storage/store.js';
import type { StoreExamination } from '../storage/integrity.js';
import type { RunConfig } from '../runtime/options.js';
import { bytes, formatPlacement } from './format.js';
import type { Report } from '../runtime/report.js';
import { logSizes } from '../storage/message-log.js';
import { journalSizes } from '../storage/determinant-journal.js';
import { IndependentCheckpoints } from '../runtime/coordinator/checkpoint/independent-checkpoints.js';

/** What the integrity check found, for the summary and the JSON. */
function integrityOf(e: StoreExamination) {
  const v = e.verdict;
  return {
    ok: v.kind === 'sound' || v.kind === 'locked',
    checked: v.kind !== 'locked',
    verdict: v.kind,
    problems: v.kind === 'corrupt' ? v.problems : [],
    records: e.records,
    blocksChecked: e.blocksChecked,
    lmdb: e.lmdb,
  };
}

/** A damaged store: what was found (the CLI prints it, then exits 3 with one line). */
export class DamagedStore {
  constructor(readonly info: { store: string; integrity: ReturnType<typeof integrityOf> }, readonly error: Error) {}
}

export async function inspectStore(dir: string) {
  const examination = await CkptStore.examine(dir);
  const refused = refusal(dir, examination.verdict, true);
  if (refused && examination.verdict.kind === 'corrupt') throw new DamagedStore({ store: dir, integrity: integrityOf(examination) }, refused);
  if (refused) throw refused;
  const store = await CkptStore.open(dir, { readOnly: true, examination });
  try {
    // Stores from before --log-at and --durability logged at the receiver and flushed.
    const config = { logAt: 'receiver', durability: 'flushed', ...(store.config as Partial<RunConfig>) } as RunConfig;
    const independent = config.checkpoint === 'uncoordinated' || config.checkpoint === 'cic';
    // Independent checkpoints stand alone once flushed; the line is where all ranks would restart.
    const checkpoints = store.checkpoints().map((c) => (independent ? { ...c, committed: true } : c));
    let line = store.line;
    if (independent) {
      const idx = new IndependentCheckpoints({ size: config.ranks, store, send: () => {} });
      idx.load();
      line = { round: 0, committedAt: Date.now(), ranks: idx.allFailLine().map((c, rank) => ({ rank, round: c.round, step: c.step })) };
    }
    const perRank = Array.from({ length: config.ranks }, (_, rank) => checkpoints.filter((c) => c.rank === rank));
    const journals = journalSizes(dir, config.ranks);
    return {
      store: store.dir,
      integrity: integrityOf(examination),
      format: store.format,
      status: store.status,
      lock: store.lock ?? null,
      config,
      recoveryLine: line
        ? { round: line.round, committedAt: new Date(line.committedAt).toISOString(), ranks: line.ranks.map((r) => ({ rank: r.rank, checkpointStep: r.step, round: r.round })) }
        : { round: 0, ranks: Array.from({ length: config.ranks }, (_, rank) => ({ rank, checkpointStep: 0, round: 0, initial: true })) },
      checkpoints: perRank,
      storedBlockBytes: store.storedBlockBytes(),
      spareBlockBytes: store.spareBlockBytes(),
      // Determinants live in LMDB (the logger's) and in the ranks' own journals (pessimistic, sender-based).
      logs: logSizes(store.log, config.ranks).map((l, rank) => {
        const j = journals[rank]!;
        return { ...l, determinants: l.determinants + j.rows, bytes: l.bytes + j.bytes };
      }),
      failures: store.failures,
      fired: store.fired,
      report: store.report ?? null,
    };
  } finally {
    await store.close({ release: false });
  }
}

export function formatInspect(i: Awaited<ReturnType<typeof inspectStore>>): string {
  const out: string[] = [];
  const c = i.config;
  out.push(`store ${i.store} (format v${i.format.version})`);
  out.push(`  integrity    ${formatIntegrity(i.integrity)}`);
  out.push(`  status       ${i.status.state}${i.status.message ? ` (${i.status.message})` : ''}, ${i.status.sessions} session(s), updated ${i.status.updatedAt}${i.lock ? `; locked by pid ${i.lock.pid}` : ''}`);
  out.push(`  job          ${c.jobName} on ${c.ranks} ranks, steps ${c.steps ?? 'until steady'}, params ${JSON.stringify(c.params)}`);
  const logging = c.logging === 'none' ? 'none' : `${c.logging} (contents at the ${c.logAt})`;
  out.push(`  protocol     checkpoint ${c.checkpoint} every ${c.interval}${c.incremental ? ' incremental' : ''}${c.compress && c.compress !== 'none' ? ` compress ${c.compress}` : ''}; logging ${logging}; seed ${c.seed}`);
  out.push(`  durability   ${c.durability} (${c.durability === 'flushed' ? "fsync'd: survives a power loss" : 'in the OS, not fsync\'d: survives the crash of any process, not a power loss'})`);
  if (c.nats && c.replicas > 0) out.push(`  stable copy  JetStream bucket ${bucketName(c.storeId)} (${c.replicas} replica(s)) on ${c.nats.join(', ')}; this directory mirrors it`);
  out.push(`  line         round ${i.recoveryLine.round}: ${i.recoveryLine.ranks.map((r) => `rank ${r.rank}@${r.checkpointStep}`).join(', ')}`);
  const spares = i.spareBlockBytes ? `; ${bytes(i.spareBlockBytes)} in spare files that the next checkpoints write over` : '';
  out.push(`  checkpoints  (${bytes(i.storedBlockBytes)} of block data stored${spares})`);
  i.checkpoints.forEach((list, rank) => {
    const items = list.map((k) => `step ${k.step} round ${k.round} ${bytes(k.bytesWritten)}${k.incremental ? ' incr' : ' full'} ${k.committed ? 'committed' : 'tentative'}`);
    out.push(`    rank ${rank}: ${items.length ? items.join('; ') : '(none: restarts from the initial state)'}`);
  });
  if (c.logging !== 'none') {
    out.push(`  message log  ${i.logs.map((l) => `rank ${l.rank}: ${l.determinants} deliveries, ${l.contents} messages, ${bytes(l.bytes)}`).join('; ')}`);
  }
  out.push(`  failures     ${i.failures.length}`);
  if (i.report) {
    const r = i.report as { result: { digest: string }; placement?: Report['placement'] };
    // Ranks on several hosts (--nats): where each rank ran at the end of the run.
    if (r.placement) out.push(`  hosts        ${formatPlacement(r.placement)}`);
    out.push(`  digest       ${r.result.digest}`);
  }
  return out.join('\n');
}

export function formatIntegrity(g: ReturnType<typeof integrityOf>): string {
  if (!g.checked) return 'not checked: the store is in use by a live run (read through LMDB\'s snapshot)';
  const pages = g.lmdb ? `; LMDB pages up to ${g.lmdb.highestReferenced} referenced, file ${bytes(g.lmdb.fileSize)}, transaction ${g.lmdb.txnid}` : '';
  if (g.ok) return `sound: ${g.records} records and ${g.blocksChecked} checkpoint blocks checked${pages}`;
  return [`DAMAGED (${g.problems.length} problem${g.problems.length === 1 ? '' : 's'} found${pages})`, ...g.problems.map((p) => `    - ${p}`)].join('\n');
}

export function formatDamaged(d: DamagedStore): string {
  return `store ${d.info.store}\n  integrity    ${formatIntegrity(d.info.integrity)}`;
}
