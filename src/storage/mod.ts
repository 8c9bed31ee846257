/**
 * Durable storage: the transaction log, fuzzy snapshots and crash recovery, over a FileSystem that
 * is either real (NodeFileSystem: node:fs/promises on Node, Deno and Bun) or simulated
 * (MemoryFileSystem, with crash and fault injection).
 *
 * On disk (all integers big-endian; bodies are CBOR, see cbor_codec.ts):
 * - dataDir/corral_storage_format: "corral storage format 1"; a newer number is refused.
 * - dataLogDir/log.<first zxid, 16 hex>: "CORRALLG" u32 version, then records
 *   u32 length | u32 CRC32C(body) | body = TxnEntry.
 * - dataDir/snapshot.<zxid, 16 hex>: "CORRALSN" u32 version, then records: the SnapshotHeader,
 *   node batches (arrays of node tuples, ACLs stored once), an end record { nodeCount }.
 * - dataDir/acceptedEpoch, dataDir/currentEpoch (Zab): one line "<epoch> crc32c:<8 hex>".
 * - Intent files, present only while a multi-file change is under way (a crash leaves them for
 *   recovery to complete): dataLogDir/truncate.<zxid> (Zab TRUNC, log_truncation.ts),
 *   dataDir/install.<zxid> (a leader's snapshot being installed, Zab SNAP, snapshot_install.ts),
 *   dataDir/epochs.pending (both epochs being set, epoch_files.ts).
 */
export { crc32c } from "./crc32c.ts";
export { errorCodeOf, FileSystemError } from "./file_system.ts";
export type { FileErrorCode, FileSystem, StorageFile } from "./file_system.ts";
export { MemoryFileSystem } from "./memory_file_system.ts";
export type {
  FaultContext,
  FaultOp,
  FaultPredicate,
  InjectedErrorCode,
  MemoryFileSystemOptions,
  PartialWriteFault,
} from "./memory_file_system.ts";
export { NodeFileSystem } from "./node_file_system.ts";
export type { StorageLogger } from "./log_recovery.ts";
export { StorageError, TxnStore } from "./txn_store.ts";
export type {
  EpochUpdate,
  RecoveryResult,
  RecoveryVisitor,
  TxnStoreOptions,
  WriteSnapshotOptions,
} from "./txn_store.ts";
