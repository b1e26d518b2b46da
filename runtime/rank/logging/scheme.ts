/**
 * A message-logging protocol, rank side: what it logs as messages arrive and are delivered
 * (its hooks), how a freeze makes the log durable, and what a replay reads back. One file per
 * protocol (none.ts, pessimistic.ts, optimistic.ts), picked once by ../schemes.ts.
 */
import type { Endpoint } from '../../transport/transport.js';
import type { StoredContent, StoredDeterminant } from '../../../storage/message-log.js';
import type { MessageHooks } from '../message-hooks.js';

/** What a replay of deliveries (from, to] reads back from the log. */
export interface Logged {
  determinants: (StoredDeterminant & { i: number })[];
  contents: Map<string, StoredContent & { src: number; seq: number }>;
}

/** The store's read side, as a replay needs it (storage/rank-store.ts). */
export interface LogReader {
  logged(rank: number, from: number, to: number): Logged;
}

export interface RankLoggingScheme {
  readonly hooks: MessageHooks;
  /** A replay takes contents from the senders as they resend them (sender-based), not from the log. */
  readonly contentsFromSenders: boolean;
  /** Records go to the logger at `endpoint` from now on (a global rollback hands a fresh one). */
  connect(endpoint: Endpoint | null): void;
  /** Resolves once everything logged so far is durable (a freeze reports only durable history). */
  sync(): Promise<void>;
  /** A rollback: fail every wait on the log (the logger may never answer the old channel). */
  abort(reason: unknown): void;
  /** What replaying deliveries (from, to] needs. */
  logged(reader: LogReader | null, rank: number, from: number, to: number): Logged;
  /** Restored to delivery `delivered` (a replay follows, or not): what the log holds past it may be void. */
  restored?(delivered: number, replaying: boolean): void;
  /** A checkpoint of this rank covering deliveries up to `delivered` is committed. */
  committed?(delivered: number): void;
  /** Figures the rank reports when it finishes (what it logged itself). */
  readonly figures?: { determinants: number; journalWrites: number };
  /** Time the job waited for the log (the protocol's cost on the critical path). */
  readonly waitMs: number;
  close(): void;
}
