/**
 * startReplica: one member of an ensemble inside the calling process, on whatever runtime that is
 * (Deno, Bun or Node). The runtime's socket adapter and the file system are loaded lazily, so
 * importing this module loads neither.
 */
import { defaultServerConfig, type ServerConfig } from "../core/server_io.ts";
import type { FileSystem } from "../storage/file_system.ts";
import type { Transport } from "../transport/transport.ts";
import type { DirLock } from "./dir_lock.ts";
import type { FourLetterWord } from "./four_letter_words.ts";
import type { Logger } from "./logger.ts";
import type { ServerMetrics } from "./metrics/server_metrics.ts";
import { type PeerTuning, type ReplicaDriverStatus, serveReplica } from "./replica_driver.ts";

/** One member as every member's configuration lists it (zoo.cfg's server.N line). */
export interface ReplicaServer {
  id: number;
  /** Where the other members reach this one. */
  host: string;
  /** The port members talk to each other on (election and Zab). */
  quorumPort: number;
  /** Where clients connect; needed only for connect strings (and as this member's default client port). */
  clientPort?: number;
  /** Learns but does not vote. */
  observer?: boolean;
}

export interface StartReplicaOptions {
  /** Which of `servers` this process runs. */
  myId: number;
  /** Every member, this one included; the same list on every member. */
  servers: readonly ReplicaServer[];
  /**
   * Where the log, snapshots and Zab epochs live (created if missing). Without one the member
   * forgets everything when it stops; an ensemble survives that only while a quorum keeps running.
   */
  dataDir?: string;
  /** Log segments go here instead of dataDir. */
  dataLogDir?: string;
  /**
   * Default: the real file system (node:fs, which all three runtimes provide). On it, dataDir and
   * dataLogDir are locked while the member runs: a second member (in this process or another) on
   * either directory is refused with an error naming the first.
   */
  fs?: FileSystem;
  /** Default: the runtime's TCP adapter, for clients and peers. */
  transport?: Transport;
  /** Client listener interface; default "127.0.0.1". */
  host?: string;
  /** Client port; default this member's `clientPort`, else 0 (a free port: read `handle.clientPort`). */
  clientPort?: number;
  /** Interface the quorum port binds; default this member's `host`. */
  quorumHost?: string;
  /** ZooKeeper's tickTime; default 2000. Elections, syncs and session timeouts count in ticks. */
  tickTimeMs?: number;
  /** Ticks a leader and learners may take to sync; default 10. */
  initLimit?: number;
  /** Ticks without hearing from the other side before a leader or learner gives up; default 5. */
  syncLimit?: number;
  /** Other core settings (session timeouts, snapCount, ...). */
  config?: Partial<ServerConfig>;
  logger?: Logger;
  maxClientCnxns?: number;
  fourLetterWhitelist?: ReadonlySet<string>;
  snapRetainCount?: number;
  peers?: PeerTuning;
  /** ZooKeeper's metrics for this member (see ServeOptions.metrics). */
  metrics?: ServerMetrics;
}

/** A running member. */
export interface EmbeddedReplica {
  readonly myId: number;
  readonly host: string;
  readonly clientPort: number;
  readonly quorumPort: number;
  /** "host:port" of this member's client listener. */
  readonly connectString: string;
  /** Mode (leader, follower, observer, looking), leader id, zxids, epochs and peer links. */
  status(): ReplicaDriverStatus;
  fourLetterWord(word: FourLetterWord): string;
  /** Stops serving clients and peers and closes the store. Idempotent. */
  stop(): Promise<void>;
  /** Settles when the member stops: null after stop(), the error if it stopped on its own (storage failed). */
  readonly stopped: Promise<Error | null>;
}

/**
 * Starts one member and begins looking for a leader; it serves clients once the ensemble has one.
 *
 * @example
 * const servers = [1, 2, 3].map((id) => ({ id, host: "127.0.0.1", quorumPort: 2888 + id, clientPort: 2180 + id }));
 * const member = await startReplica({ myId: 1, servers, dataDir: "/var/lib/app/corral" });
 * // ... the other two run elsewhere with myId 2 and 3 ...
 * const client = await createClient(ensembleConnectString(servers));
 * await member.stop();
 */
export async function startReplica(options: StartReplicaOptions): Promise<EmbeddedReplica> {
  const me = options.servers.find((server) => server.id === options.myId);
  if (me === undefined) {
    throw new RangeError(`myId ${options.myId} is not among servers (${options.servers.map((server) => server.id).join(", ")})`);
  }
  const transport: Transport = options.transport ??
    await import("../transport/auto.ts").then((module) => module.defaultTransport());
  const dataDir = options.dataDir;
  const realFs = dataDir === undefined ? null : await import("../storage/node_file_system.ts");
  const fs: FileSystem | null = realFs === null ? null : options.fs ?? new realFs.NodeFileSystem();
  const tickTimeMs = options.tickTimeMs ?? options.config?.tickTimeMs ?? 2000;
  // Before the store opens anything: two members must never share a log. A simulated disk has nothing to share.
  const onDisk = dataDir !== undefined && realFs !== null && fs instanceof realFs.NodeFileSystem;
  const lock: DirLock | null = !onDisk ? null : await import("./dir_lock.ts").then((module) =>
    module.lockDataDirs(dataDir, options.dataLogDir, { program: `startReplica (server ${options.myId})` })
  );
  const sizes = !onDisk ? {} : await import("./storage_sizes.ts").then((module) => ({
    storageSizes: () => module.storageSizes(dataDir, options.dataLogDir),
  }));
  let handle;
  try {
    handle = await serveReplica({
      transport,
      host: options.host ?? "127.0.0.1",
      port: options.clientPort ?? me.clientPort ?? 0,
      config: defaultServerConfig({ sessionIdSeedMs: Date.now(), ...options.config, tickTimeMs }),
      myId: options.myId,
      members: options.servers.map((server) => ({
        id: server.id,
        host: server.host,
        quorumPort: server.quorumPort,
        observer: server.observer === true,
      })),
      initLimitTicks: options.initLimit ?? 10,
      syncLimitTicks: options.syncLimit ?? 5,
      ...(options.quorumHost === undefined ? {} : { quorumListen: { host: options.quorumHost, port: me.quorumPort } }),
      ...(fs === null || dataDir === undefined ? {} : {
        dataDir,
        ...(options.dataLogDir === undefined ? {} : { dataLogDir: options.dataLogDir }),
        store: {
          fs,
          dataDir,
          ...(options.dataLogDir === undefined ? {} : { dataLogDir: options.dataLogDir }),
          ...(options.snapRetainCount === undefined ? {} : { snapRetainCount: options.snapRetainCount }),
        },
      }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.maxClientCnxns === undefined ? {} : { maxClientCnxns: options.maxClientCnxns }),
      ...(options.fourLetterWhitelist === undefined ? {} : { fourLetterWhitelist: options.fourLetterWhitelist }),
      ...(options.peers === undefined ? {} : { peers: options.peers }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      ...sizes,
    });
  } catch (error) {
    await lock?.release();
    throw error;
  }
  // Released once the store is closed, whether stop() closed it or a storage failure did.
  void handle.stopped.then(() => lock?.release());

  return {
    myId: handle.myId,
    host: handle.host,
    clientPort: handle.port,
    quorumPort: handle.quorumPort,
    connectString: `${formatHost(handle.host)}:${handle.port}`,
    status: () => handle.status(),
    fourLetterWord: (word) => handle.fourLetterWord(word),
    stop: async () => {
      await handle.close();
      await lock?.release();
    },
    stopped: handle.stopped,
  };
}

/** `Replica.start(options)`: the same as startReplica. */
export const Replica = { start: startReplica } as const;

/** The client connect string of an ensemble: every member's host and clientPort (members without one are left out). */
export function ensembleConnectString(servers: readonly ReplicaServer[]): string {
  return servers
    .filter((server) => server.clientPort !== undefined)
    .map((server) => `${formatHost(server.host)}:${server.clientPort}`)
    .join(",");
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
