/**
 * Where a store's stable copy lives under `--nats` with replicas (storage/replica.ts): a
 * JetStream bucket of `replicas` copies, reached through `servers`. A leaf type: the wire
 * protocol carries it to ranks, the storage layer opens it.
 */
export interface ReplicaTarget {
  servers: readonly string[];
  bucket: string;
  replicas: number;
}
