/**
 * Which of ZooKeeper 3.8's metrics Corral exports, under ZooKeeper's names and units, in the order
 * ZooKeeper 3.8's `mntr` prints them (captured from a real 3.8.0; see tests/driver/metrics_*), and
 * the ones left out with the reason. Names are data here: the same strings the reference prints.
 */

/**
 * The metrics in mntr order (names without the `zk_` prefix; a summary stands for its avg/min/max/
 * cnt/sum lines, and p50/p95/p99/p999 when detailed). Ensemble-only ones print only on members.
 */
export const MNTR_ORDER: readonly string[] = [
  "version",
  "server_state",
  "ephemerals_count",
  "num_alive_connections",
  "avg_latency",
  "outstanding_requests",
  "znode_count",
  "global_sessions",
  "non_mtls_remote_conn_count",
  "last_client_response_size",
  "packets_sent",
  "packets_received",
  "max_client_response_size",
  "watch_count",
  "auth_failed_count",
  "min_latency",
  "max_file_descriptor_count",
  "approximate_data_size",
  "open_file_descriptor_count",
  "local_sessions",
  "uptime",
  "max_latency",
  "min_client_response_size",
  "non_mtls_local_conn_count",
  "quorum_size",
  "throttled_ops",
  "connection_rejected",
  "sessionless_connections_expired",
  "bytes_received_count",
  "connection_request_count",
  "jvm_pause_time_ms",
  "updatelatency",
  "readlatency",
];

/**
 * ZooKeeper 3.8 metrics Corral does not export, and why. Keys are mntr names without `zk_` (a
 * summary's name stands for all its lines). The comparison test checks that every key of a real
 * 3.8 `mntr` is either exported or listed here, so the list stays complete.
 */
export const LEFT_OUT: Readonly<Record<string, string>> = {
  ...reasons("no TLS listener in Corral", [
    "outstanding_tls_handshake", "tls_handshake_exceeded", "insecure_admin_count",
  ]),
  ...reasons("Corral has no connection throttling by probability (ZooKeeper's BlueThrottle)", [
    "connection_drop_probability", "connection_drop_count", "connection_token_deficit",
    "request_throttle_wait_count", "request_throttle_queue_time_ms", "stale_requests_dropped", "stale_requests",
  ]),
  ...reasons("Corral's pipeline has no such processor thread or queue (prep, sync and commit run in one event loop)", [
    "prep_processor_request_queued", "sync_processor_request_queued", "request_commit_queued",
    "requests_not_forwarded_to_commit_processor", "skip_learner_request_to_next_processor_count",
    "outstanding_changes_queued", "outstanding_changes_removed", "session_queues_drained",
    "write_commit_proc_req_queued", "read_commit_proc_req_queued", "commit_commit_proc_req_queued",
    "sync_processor_queue_size", "prep_processor_queue_size", "learner_request_processor_queue_size",
    "reads_issued_from_session_queue", "reads_after_write_in_session_queue", "requests_in_session_queue",
    "write_commit_proc_issued", "read_commit_proc_issued", "pending_session_queue_size",
    "time_waiting_empty_pool_in_commit_processor_read_ms", "concurrent_request_processing_in_commit_processor",
    "write_batch_time_in_commit_processor", "prep_process_time", "prep_processor_queue_time_ms",
    "commit_process_time", "read_commitproc_time_ms", "write_commitproc_time_ms", "read_final_proc_time_ms",
    "write_final_proc_time_ms", "sync_process_time", "sync_processor_batch_size",
    "sync_processor_queue_and_flush_time_ms", "sync_processor_queue_time_ms", "sync_processor_queue_flush_time_ms",
    "local_write_committed_time_ms", "server_write_committed_time_ms", "close_session_prep_time",
    "netty_queued_buffer_capacity", "socket_closing_time", "cnxn_closed_without_zk_server_running",
  ]),
  ...reasons("Corral has no response cache", [
    "response_packet_cache_hits", "response_packet_cache_misses",
    "response_packet_get_children_cache_hits", "response_packet_get_children_cache_misses",
  ]),
  ...reasons("Corral removes dead watchers at once (no background cleaner)", [
    "dead_watchers_queued", "dead_watchers_cleared", "add_dead_watcher_stall_time", "dead_watchers_cleaner_latency",
  ]),
  ...reasons("Corral has no ensemble (quorum) authentication or observer masters", [
    "ensemble_auth_success", "ensemble_auth_fail", "ensemble_auth_skip", "om_commit_process_time_ms",
    "om_proposal_process_time_ms",
  ]),
  ...reasons("no local sessions or session revalidation in Corral", [
    "connection_revalidate_count", "revalidate_count",
  ]),
  ...reasons("needs counters from the core (Zab, election, watch manager, session tracker), which reports none yet: src/core is not M1's", [
    "proposal_count", "commit_count", "snap_count", "diff_count", "looking_count", "learner_proposal_received_count",
    "learner_commit_received_count", "quit_leading_due_to_disloyal_voter", "stale_replies", "stale_sessions_expired",
    "unsuccessful_handshake", "digest_mismatches_count", "watch_bytes", "proposal_process_time",
    "leader_unavailable_time", "unavailable_time", "follower_sync_time", "observer_sync_time", "election_time",
    "inflight_snap_count", "inflight_diff_count", "quorum_ack_latency", "commit_propagation_latency",
    "proposal_ack_creation_latency", "proposal_latency", "propagation_latency", "node_created_watch_count",
    "node_deleted_watch_count", "node_changed_watch_count", "node_children_watch_count",
  ]),
  ...reasons("needs timing hooks in the persister and recovery (src/driver/persister.ts, replica_boot.ts: not M1's)", [
    "fsynctime", "snapshottime", "startup_txns_load_time", "startup_txns_loaded", "startup_snap_load_time", "dbinittime",
  ]),
  ...reasons("ZooKeeper's meaning differs: it rejects requests over largeRequestMaxBytes; Corral closes frames over jute.maxbuffer", [
    "large_requests_rejected",
  ]),
  ...reasons("unrecoverable errors stop a Corral member at once (the process reports it)", [
    "unrecoverable_error_count",
  ]),
  ...reasons("not sure what ZooKeeper counts (bytes of serialized responses, or of cached ones); left out rather than guessed", [
    "response_bytes",
  ]),
};

/** Per-namespace summary sets (`zk_avg_<top-level znode>_write_per_namespace`): not exported. */
export const LEFT_OUT_PATTERNS: readonly { pattern: RegExp; reason: string }[] = [
  { pattern: /^.+_(read|write)_per_namespace$/, reason: "per-namespace byte summaries need the request path on the hot path; left out for cost" },
];

/** ZooKeeper 3.8's Prometheus gauges (registered callbacks); every other plain value is a counter. */
export const PROMETHEUS_GAUGES: ReadonlySet<string> = new Set([
  "ephemerals_count", "num_alive_connections", "avg_latency", "outstanding_requests", "znode_count",
  "global_sessions", "non_mtls_remote_conn_count", "last_client_response_size", "packets_sent",
  "packets_received", "max_client_response_size", "watch_count", "auth_failed_count", "min_latency",
  "max_file_descriptor_count", "approximate_data_size", "open_file_descriptor_count", "local_sessions",
  "uptime", "max_latency", "min_client_response_size", "non_mtls_local_conn_count", "quorum_size",
]);

function reasons(reason: string, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, reason]));
}
