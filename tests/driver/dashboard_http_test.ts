/**
 * The dashboard on a running AdminServer, over HTTP: the page and its assets are served with a
 * strict Content-Security-Policy, the event stream pushes a new picture after a client's write, the
 * tree browser hides an ACL'd node's data from anonymous viewers and shows it with the right
 * digest, hostile znode names travel as JSON strings only, viewers are capped, and every route is
 * read-only and bounded.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createClient } from "../../mod.ts";
import { digestOf } from "../../src/core/acl.ts";
import { DASHBOARD_CLIENTS_MAX } from "../../src/driver/admin/dashboard/dashboard_events.ts";
import { get, startOpsServer } from "./admin_support.ts";
import { openEvents, originOf } from "./dashboard_support.ts";
import { waitFor } from "../support/wait_for.ts";

const SCRIPT_NAME = "<script>alert(1)</script>"; // a znode path of two nodes: "<script>alert(1)<" and "script>"
const IMG_NAME = "<img src=x onerror=alert(1)>";
const HTML_DATA = "<b>bold</b><script>alert(2)</script>&amp;";

describe("dashboard over HTTP", () => {
  test("serves the page and its assets with a CSP that forbids inline script; the script never parses data as HTML", async () => {
    const ops = await startOpsServer();
    try {
      const origin = originOf(ops.adminUrl);
      const page = await get(`${origin}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
      assert.doesNotMatch(page.headers.get("content-security-policy") ?? "", /unsafe-inline/);
      assert.equal(page.headers.get("x-content-type-options"), "nosniff");
      assert.match(page.text, /<script src="\/dashboard\/app\.js"><\/script>/);
      assert.doesNotMatch(page.text, /<script>[^<]/, "no inline script");
      const script = await get(`${origin}/dashboard/app.js`);
      assert.equal(script.status, 200);
      assert.match(script.headers.get("content-type") ?? "", /javascript/);
      for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"]) {
        assert.ok(!script.text.includes(sink), `the dashboard script must not use ${sink}`);
      }
      assert.match(script.text, /textContent/);
      assert.equal((await get(`${origin}/dashboard/app.css`)).status, 200);
      const head = await fetch(`${origin}/`, { method: "HEAD", signal: AbortSignal.timeout(10_000) });
      assert.equal(head.status, 200);
      // The AdminServer's commands still answer beside it.
      assert.equal((await get(`${ops.adminUrl}/ruok`)).status, 200);
    } finally {
      await ops.stop();
    }
  });

  test("the event stream pushes a new picture after a client's write", async () => {
    const ops = await startOpsServer();
    const client = await createClient(`127.0.0.1:${ops.server.port}`);
    const events = await openEvents(`${originOf(ops.adminUrl)}/dashboard/events`);
    try {
      assert.equal(events.status, 200);
      const first = await events.next();
      const before = first["server"] as { zxid: string; nodeCount: number };
      await client.create("/pushed", "x");
      await client.exists("/pushed", { watch: () => {} });
      const after = await waitFor(async () => {
        const picture = await events.next(5_000);
        const server = picture["server"] as { zxid: string; nodeCount: number };
        return server.nodeCount === before.nodeCount + 1 && (picture["watches"] as unknown[]).length === 1 ? picture : null;
      }, { timeoutMs: 30_000, what: "a pushed picture with /pushed in it", intervalMs: 1 });
      assert.notEqual((after["server"] as { zxid: string }).zxid, before.zxid);
      assert.deepEqual((after["watches"] as { path: string }[]).map((w) => w.path), ["/pushed"]);
      const sessions = after["sessions"] as { id: string; connection: string | null }[];
      assert.equal(sessions.length, 1);
      assert.match(sessions[0]!.connection ?? "", /^127\.0\.0\.1:\d+$/, "the session shows its connection");
      assert.equal(after["viewers"], 1);
    } finally {
      events.close();
      await client.close();
      await ops.stop();
    }
  });

  test("an ACL'd node's data and children are hidden without auth and shown with the right digest", async () => {
    const ops = await startOpsServer();
    const client = await createClient(`127.0.0.1:${ops.server.port}`);
    try {
      const aliceOnly = [{ perms: 31, id: { scheme: "digest", id: digestOf("alice:wonder") } }];
      await client.create("/secret", "top secret", { acl: aliceOnly });
      await client.addAuth("digest", "alice:wonder");
      await client.create("/secret/inner", "x", { acl: aliceOnly });
      await client.create("/readonly", "visible", { acl: [{ perms: 1, id: { scheme: "world", id: "anyone" } }] });
      const tree = `${originOf(ops.adminUrl)}/dashboard/tree?path=`;
      const anonymous = JSON.parse((await get(`${tree}/secret`)).text) as Record<string, unknown>;
      assert.equal(anonymous["readable"], false);
      assert.equal(anonymous["data"], null);
      assert.equal(anonymous["children"], null);
      assert.equal(anonymous["acl"], null, "no READ nor ADMIN: the ACL is hidden too");
      assert.ok(!JSON.stringify(anonymous).includes("top secret"));
      assert.equal((anonymous["stat"] as { dataLength: number }).dataLength, 10, "Stat is public, as exists() is");
      const wrong = JSON.parse((await get(`${tree}/secret`, { headers: { authorization: "digest alice:guess" } })).text) as Record<string, unknown>;
      assert.equal(wrong["readable"], false);
      assert.equal(wrong["data"], null);
      const alice = JSON.parse((await get(`${tree}/secret`, { headers: { authorization: "digest alice:wonder" } })).text) as Record<string, unknown>;
      assert.equal(alice["readable"], true);
      assert.equal((alice["data"] as { text: string }).text, "top secret");
      assert.deepEqual(alice["children"], ["inner"]);
      assert.deepEqual(alice["acl"], [{ perms: "cdrwa", scheme: "digest", id: digestOf("alice:wonder") }]);
      // READ without ADMIN: the ACL shows, digests masked as getACL masks them.
      const readOnly = JSON.parse((await get(`${tree}/readonly`)).text) as Record<string, unknown>;
      assert.equal((readOnly["data"] as { text: string }).text, "visible");
      assert.deepEqual(readOnly["acl"], [{ perms: "r", scheme: "world", id: "anyone" }]);
      // World may READ, alice holds ALL: an anonymous viewer sees the ACL with alice's digest masked
      // ("alice:x", as getACL without ADMIN); alice (ADMIN) sees it whole.
      await client.create("/shared", "s", { acl: [{ perms: 1, id: { scheme: "world", id: "anyone" } }, ...aliceOnly] });
      const sharedAnonymous = JSON.parse((await get(`${tree}/shared`)).text) as Record<string, unknown>;
      assert.deepEqual(sharedAnonymous["acl"], [{ perms: "r", scheme: "world", id: "anyone" }, { perms: "cdrwa", scheme: "digest", id: "alice:x" }]);
      const sharedAlice = JSON.parse((await get(`${tree}/shared`, { headers: { authorization: "digest alice:wonder" } })).text) as Record<string, unknown>;
      assert.deepEqual((sharedAlice["acl"] as { id: string }[])[1]!.id, digestOf("alice:wonder"));
      const badScheme = await get(`${tree}/secret`, { headers: { authorization: "basic YWxpY2U6d29uZGVy" } });
      assert.equal(badScheme.status, 401);
      assert.ok(!badScheme.text.includes("top secret"));
    } finally {
      await client.close();
      await ops.stop();
    }
  });

  test("hostile znode names and HTML data travel as JSON strings with nosniff, never as markup", async () => {
    const ops = await startOpsServer();
    const client = await createClient(`127.0.0.1:${ops.server.port}`);
    try {
      await client.create("/<script>alert(1)<", HTML_DATA);
      await client.create(`/${SCRIPT_NAME}`, HTML_DATA);
      await client.create(`/${IMG_NAME}`, HTML_DATA);
      const response = await get(`${originOf(ops.adminUrl)}/dashboard/tree?path=${encodeURIComponent(`/${SCRIPT_NAME}`)}`);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      const view = JSON.parse(response.text) as { path: string; data: { text: string } };
      assert.equal(view.path, `/${SCRIPT_NAME}`);
      assert.equal(view.data.text, HTML_DATA);
      const root = JSON.parse((await get(`${originOf(ops.adminUrl)}/dashboard/tree?path=/`)).text) as { children: string[] };
      assert.ok(root.children.includes(IMG_NAME));
      assert.ok(root.children.includes("<script>alert(1)<"));
    } finally {
      await client.close();
      await ops.stop();
    }
  });

  test(`at most ${DASHBOARD_CLIENTS_MAX} viewers: one more is refused with 503, and a freed place is taken again`, async () => {
    const ops = await startOpsServer();
    const url = `${originOf(ops.adminUrl)}/dashboard/events`;
    const streams = [];
    try {
      for (let i = 0; i < DASHBOARD_CLIENTS_MAX; i++) {
        const stream = await openEvents(url);
        streams.push(stream);
        assert.equal(stream.status, 200);
        await stream.next();
      }
      const refused = await openEvents(url);
      assert.equal(refused.status, 503);
      refused.close();
      streams.shift()!.close();
      const again = await waitFor(async () => {
        const stream = await openEvents(url);
        if (stream.status === 200) return stream;
        stream.close();
        return null;
      }, { timeoutMs: 20_000, what: "a place for a new viewer after one left", intervalMs: 100 });
      streams.push(again);
      await again.next();
    } finally {
      for (const stream of streams) stream.close();
      await ops.stop();
    }
  });

  test("stopping the AdminServer ends every event stream", async () => {
    const ops = await startOpsServer();
    const stream = await openEvents(`${originOf(ops.adminUrl)}/dashboard/events`);
    try {
      await stream.next();
      await ops.stop();
      assert.equal(await stream.ended(10_000), true, "the stream ended when the server stopped");
    } finally {
      stream.close();
    }
  });

  test("read-only and bounded: writes get 405 without touching the tree, long URLs 414, bad paths an error", async () => {
    const ops = await startOpsServer();
    const client = await createClient(`127.0.0.1:${ops.server.port}`);
    try {
      const origin = originOf(ops.adminUrl);
      const zxidBefore = (await client.exists("/"))!.pzxid;
      for (const path of ["/", "/dashboard/tree?path=/x", "/dashboard/events", "/dashboard/state"]) {
        for (const method of ["POST", "PUT", "DELETE"]) {
          const response = await fetch(`${origin}${path}`, { method, body: "x".repeat(1000), signal: AbortSignal.timeout(10_000) });
          assert.equal(response.status, 405, `${method} ${path}`);
          await response.text();
        }
      }
      const long = await get(`${origin}/dashboard/tree?path=/${"a".repeat(5000)}`);
      assert.equal(long.status, 414);
      for (const bad of ["relative", "/a//b", "/a/", "/a/../b"]) {
        const view = JSON.parse((await get(`${origin}/dashboard/tree?path=${encodeURIComponent(bad)}`)).text) as { error?: string };
        assert.match(view.error ?? "", /^invalid path/, bad);
      }
      const missing = JSON.parse((await get(`${origin}/dashboard/tree?path=/nothing`)).text) as { exists: boolean };
      assert.equal(missing.exists, false);
      await client.sync("/");
      assert.equal((await client.exists("/"))!.pzxid, zxidBefore, "the dashboard wrote nothing");
      assert.equal((await client.getChildren("/")).includes("x"), false);
    } finally {
      await client.close();
      await ops.stop();
    }
  });
});
