/**
 * Hostile input to the AdminServer: oversized bodies are refused before they are read (413), bodies
 * on commands that take none are refused (405), a restore body is bounded while it streams, garbage
 * is not restored, overlong URLs are refused (414) and snapshot/restore are rate limited (429).
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, test } from "node:test";
import { get, getJson, startOpsServer } from "../driver/admin_support.ts";

const AUTH = { authorization: "digest a:b" };

/** POSTs `chunks` without a Content-Length (chunked), so the limit must hold while streaming. */
function postChunked(url: string, chunks: number, chunkBytes: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { ...AUTH, "transfer-encoding": "chunked" }, timeout: 10_000 }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (piece: string) => (text += piece));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
    });
    req.on("error", (error) => reject(error));
    req.on("timeout", () => req.destroy(new Error("no answer within 10 s")));
    const chunk = new Uint8Array(chunkBytes);
    let sent = 0;
    const pump = () => {
      while (sent < chunks) {
        sent++;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

describe("AdminServer bad input", () => {
  test("declared and streamed oversized restore bodies are refused with 413", async () => {
    const ops = await startOpsServer({ restoreBytesMax: 64 * 1024 });
    try {
      const declared = await getJson(`${ops.adminUrl}/restore`, { method: "POST", body: new Uint8Array(65 * 1024), headers: AUTH });
      assert.equal(declared.status, 413);
      assert.match(String(declared.body["error"]), /\(66560 bytes\) is larger than the limit \(65536 bytes\)/, "refused on Content-Length, before reading");
      const streamed = await postChunked(`${ops.adminUrl}/restore`, 64, 16 * 1024).catch((error: Error) => ({ status: -1, text: error.message }));
      // The server answers 413 and closes; a client still writing may see the reset instead.
      assert.ok(streamed.status === 413 || /ECONNRESET|EPIPE|socket hang up/.test(streamed.text), `got ${streamed.status} ${streamed.text}`);
      assert.equal((await get(`${ops.adminUrl}/ruok`)).status, 200, "the server still answers");
    } finally {
      await ops.stop();
    }
  });

  test("bodies on other commands, wrong methods, overlong URLs and garbage snapshots are refused", async () => {
    const ops = await startOpsServer();
    try {
      assert.equal((await get(`${ops.adminUrl}/ruok`, { method: "POST", body: "x".repeat(100) })).status, 405);
      assert.equal((await get(`${ops.adminUrl}/ruok`, { method: "POST", body: new Uint8Array(100_000) })).status, 413);
      assert.equal((await get(`${ops.adminUrl}/restore`)).status, 405, "restore takes POST only");
      assert.equal((await get(`${ops.adminUrl}/${"a".repeat(5000)}`)).status, 414);
      assert.equal((await get(ops.adminUrl.replace("/commands", "/elsewhere"))).status, 404);
      const garbage = await getJson(`${ops.adminUrl}/restore`, { method: "POST", body: "not a snapshot at all", headers: AUTH });
      assert.equal(garbage.status, 500);
      assert.match(String(garbage.body["error"]), /not a Corral snapshot/);
      const empty = await getJson(`${ops.adminUrl}/restore`, { method: "POST", body: "", headers: AUTH });
      assert.equal(empty.status, 400);
      assert.equal((await get(`${ops.adminUrl}/ruok`)).status, 200, "the server still answers");
    } finally {
      await ops.stop();
    }
  });

  test("snapshot is rate limited", async () => {
    const ops = await startOpsServer({ rateLimitIntervalMs: 60_000 });
    try {
      const first = await get(`${ops.adminUrl}/snapshot`, { headers: AUTH });
      assert.equal(first.status, 200);
      const second = await getJson(`${ops.adminUrl}/snapshot`, { headers: AUTH });
      assert.equal(second.status, 429);
      assert.match(String(second.body["error"]), /rate limited/);
    } finally {
      await ops.stop();
    }
  });
});
