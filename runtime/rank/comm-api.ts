/**
 * What job code sees of message passing (MPI-like, but async: a receive yields to the event
 * loop, which is also how control messages such as checkpoint requests reach a busy rank).
 */
export const ANY = -1;

export type ReduceOp = 'sum' | 'max' | 'min' | 'prod';

/** Anything structured-clone can carry; typed arrays are the fast path. */
export type Payload = unknown;

export interface Message<T = Payload> {
  source: number;
  tag: number;
  payload: T;
}

export interface SendOptions {
  /**
   * Hand the payload's buffer over instead of copying it. The sender must not touch the array
   * afterwards (it is detached). Only honoured when the array spans its whole buffer.
   */
  transfer?: boolean;
}

export interface Comm {
  readonly rank: number;
  readonly size: number;
  /** Non-blocking send; messages between one pair of ranks are delivered in order (FIFO). */
  send(dest: number, tag: number, payload: Payload, options?: SendOptions): void;
  /** Receive the first matching message; `source` and `tag` may be ANY. User tags are >= 0. */
  recv<T = Payload>(source: number, tag: number): Promise<Message<T>>;
  bcast<T>(root: number, value?: T): Promise<T>;
  /**
   * Reduce in rank order (rank 0 op rank 1 op ...), so the result is the same on every rank and
   * the same from run to run. Arrays reduce element-wise.
   */
  allreduce(value: number, op: ReduceOp): Promise<number>;
  allreduce(value: Float64Array, op: ReduceOp): Promise<Float64Array>;
  barrier(): Promise<void>;
}
