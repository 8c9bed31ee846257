/**
 * GroupMember and ServiceDiscovery against a real server: every member's live view follows joins,
 * leaves and session expiry; instances are ephemeral JSON nodes in Curator's layout.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GroupMember, LostError, ServiceDiscovery } from "../../src/recipes/mod.ts";
import { waitFor } from "../support/wait_for.ts";
import { withHarness } from "./support/harness.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("GroupMember", () => {
  test("every member sees the others join, leave and expire", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2].map(() => harness.connect()));
      const members = clients.map((client, index) =>
        new GroupMember(client, "/groups/workers", { id: `w${index}`, data: `10.0.0.${index}` })
      );
      for (const member of members) await member.join();
      const viewOf = (member: GroupMember) => [...member.members().keys()].sort().join();
      await waitFor(() => members.every((member) => viewOf(member) === "w0,w1,w2"), {
        timeoutMs: 5_000,
        what: "everyone sees three members",
      });
      assert.equal(text(members[0]!.members().get("w2")!), "10.0.0.2");
      const changes: string[] = [];
      members[0]!.onChange((view) => changes.push([...view.keys()].sort().join()));

      await members[2]!.setData("10.0.0.22");
      await waitFor(() => text(members[0]!.members().get("w2")!) === "10.0.0.22", {
        timeoutMs: 5_000,
        what: "new payload",
      });
      await members[1]!.leave();
      assert.ok(LostError.is(members[1]!.lost!.reason, "released"));
      await waitFor(() => viewOf(members[0]!) === "w0,w2", { timeoutMs: 5_000, what: "w1 gone" });
      await harness.expire(clients[2]!);
      await waitFor(() => viewOf(members[0]!) === "w0", { timeoutMs: 10_000, what: "w2 expired" });
      await waitFor(() => members[2]!.lost!.aborted, { timeoutMs: 10_000, what: "w2's lost signal" });
      assert.ok(LostError.is(members[2]!.lost!.reason, "sessionExpired"));
      assert.equal(changes.at(-1), "w0");
      await members[0]!.leave();
    });
  });

  test("a taken id is refused; without an id the member gets a protected sequential name", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const first = new GroupMember(a, "/groups/ids", { id: "same" });
      await first.join();
      await assert.rejects(
        new GroupMember(b, "/groups/ids", { id: "same" }).join(),
        /belongs to another session/,
      );
      const anonymous = new GroupMember(b, "/groups/ids");
      await anonymous.join();
      assert.match(anonymous.id!, /^_c_[0-9a-f-]{36}-member-\d{10}$/);
      await waitFor(() => first.members().has(anonymous.id!), {
        timeoutMs: 5_000,
        what: "the anonymous member",
      });
      await anonymous.leave();
      await first.leave();
    });
  });
});

describe("ServiceDiscovery", () => {
  test("registers instances as ephemeral JSON nodes; a service cache follows them", async () => {
    await withHarness(async (harness) => {
      const [a, b, watcher] = await Promise.all([harness.connect(), harness.connect(), harness.connect()]);
      const cache = new ServiceDiscovery(watcher, "/services").serviceCache("api");
      await cache.start();
      const seen: number[] = [];
      cache.onChange((instances) => seen.push(instances.length));
      const one = await new ServiceDiscovery(a, "/services", { now: () => 1234 })
        .register({ name: "api", id: "one", address: "10.0.0.1", port: 8080, payload: { zone: "a" } });
      const two = await new ServiceDiscovery(b, "/services").register({ name: "api", id: "two", port: 8081 });
      const node = JSON.parse(text((await watcher.getData("/services/api/one")).data));
      assert.deepEqual(node, {
        name: "api",
        id: "one",
        address: "10.0.0.1",
        port: 8080,
        sslPort: null,
        payload: { zone: "a" },
        registrationTimeUTC: 1234,
        serviceType: "DYNAMIC",
        uriSpec: null,
        enabled: true,
      });
      assert.equal((await watcher.exists("/services/api/one"))!.ephemeralOwner, a.sessionId);
      await waitFor(() => cache.instances().length === 2, { timeoutMs: 5_000, what: "two instances" });
      assert.deepEqual(cache.instances().map((instance) => instance.port), [8080, 8081]);
      assert.deepEqual(await new ServiceDiscovery(watcher, "/services").queryForNames(), ["api"]);
      assert.equal((await new ServiceDiscovery(watcher, "/services").queryForInstances("api")).length, 2);

      await one.update({ port: 9090 });
      await waitFor(() => cache.instances()[0]?.port === 9090, { timeoutMs: 5_000, what: "the update" });
      await one.unregister();
      await harness.expire(b);
      await waitFor(() => cache.instances().length === 0, { timeoutMs: 10_000, what: "no instances" });
      await waitFor(() => two.lost.aborted, { timeoutMs: 10_000, what: "the registration's lost signal" });
      assert.ok(LostError.is(two.lost.reason, "sessionExpired"));
      assert.equal(seen.at(-1), 0);
      await cache.close();
    });
  });
});
