/**
 * Peer networks for tests: a member's PeerNetwork that records what it was told, and where the
 * members of a test ensemble listen (a MemoryNetwork, or real TCP on the runtime's own adapter).
 */
import type { Sid } from "../../src/core/peer_messages.ts";
import { MemoryLogger } from "../../src/driver/logger.ts";
import { PeerNetwork, type PeerNetworkOptions } from "../../src/driver/peer_network.ts";
import { defaultTransport } from "../../src/transport/auto.ts";
import { MemoryNetwork } from "../../src/transport/memory.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { freePort } from "./free_port.ts";

/** One member's network plus what it was told. */
export class Member {
  readonly id: Sid;
  readonly received = new Map<Sid, number[]>();
  readonly lost: Sid[] = [];
  readonly logger = new MemoryLogger();
  network: PeerNetwork | null = null;

  constructor(id: Sid) {
    this.id = id;
  }

  async start(options: Omit<PeerNetworkOptions, "myId" | "onMessages" | "onPeerLost" | "logger">): Promise<this> {
    this.network = await PeerNetwork.start({
      ...options,
      myId: this.id,
      logger: this.logger,
      onMessages: (from, messages) => {
        const list = this.received.get(from) ?? [];
        for (const message of messages) list.push(message.kind === "ack" ? message.zxid : -1);
        this.received.set(from, list);
      },
      onPeerLost: (sid) => this.lost.push(sid),
    });
    return this;
  }

  from(sid: Sid): number[] {
    return this.received.get(sid) ?? [];
  }

  async stop(): Promise<void> {
    await this.network?.close();
    this.network = null;
  }
}

export interface Layout {
  transport(id: Sid): Transport;
  host(id: Sid): string;
  port(id: Sid): number;
}

export async function memoryLayout(ids: Sid[]): Promise<Layout> {
  const network = new MemoryNetwork();
  return { transport: (id) => network.transport(`peer${id}`), host: (id) => `peer${id}`, port: (id) => 7000 + id };
}

export async function tcpLayout(ids: Sid[]): Promise<Layout> {
  const transport = await defaultTransport();
  const ports = new Map<Sid, number>();
  for (const id of ids) ports.set(id, await freePort());
  return { transport: () => transport, host: () => "127.0.0.1", port: (id) => ports.get(id)! };
}

export function startMember(layout: Layout, ids: Sid[], id: Sid, extra: Partial<PeerNetworkOptions> = {}): Promise<Member> {
  return new Member(id).start({
    transport: layout.transport(id),
    listen: { host: layout.host(id), port: layout.port(id) },
    peers: ids.map((peer) => ({ id: peer, host: layout.host(peer), port: layout.port(peer) })),
    heartbeatMs: 100,
    idleTimeoutMs: 3000,
    reconnectDelayMinMs: 20,
    reconnectDelayMaxMs: 200,
    ...extra,
  });
}

export async function stopAll(members: Member[]): Promise<void> {
  await Promise.all(members.map((member) => member.stop()));
}
