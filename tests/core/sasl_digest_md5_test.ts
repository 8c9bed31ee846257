/**
 * The DIGEST-MD5 server (src/core/sasl_digest_md5.ts) against a client written here independently
 * (node:crypto's MD5, RFC 2831 §2.1.2.1's formulas spelled out again), RFC 2831's own example, and
 * the bad inputs a hostile client can send.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hex, md5 } from "../../src/core/md5.ts";
import { DIGEST_RESPONSE_BYTES_MAX, DigestMd5Server, digestResponse, parseDirectives } from "../../src/core/sasl_digest_md5.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function h(data: string | Uint8Array): Buffer {
  return createHash("md5").update(data).digest();
}
function hh(data: string | Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

/** The client's response and the expected rspauth, computed without the code under test. */
function clientDigest(f: { user: string; realm: string; password: string; nonce: string; cnonce: string; nc: string; uri: string; authzid?: string }) {
  const a1 = Buffer.concat([h(`${f.user}:${f.realm}:${f.password}`), Buffer.from(`:${f.nonce}:${f.cnonce}${f.authzid === undefined ? "" : `:${f.authzid}`}`)]);
  const kd = (a2: string) => hh(`${hh(a1)}:${f.nonce}:${f.nc}:${f.cnonce}:auth:${hh(a2)}`);
  return { response: kd(`AUTHENTICATE:${f.uri}`), rspauth: kd(`:${f.uri}`) };
}

const ZK = { realm: "zk-sasl-md5", digestUri: "zookeeper/zk-sasl-md5" };
const USERS = new Map([["bob", "bobsecret"], ["alice", "alicesecret"]]);

function server(nonce = "n0nce-0123456789abcdef") {
  return new DigestMd5Server({ ...ZK, nonce, passwordOf: (name) => USERS.get(name) ?? null });
}

/** A kazoo/pure-sasl style response token for `user`/`password` to the challenge `challenge`. */
function respond(challenge: Uint8Array, user: string, password: string, overrides: Record<string, string> = {}, authzid?: string) {
  const directives = parseDirectives(dec.decode(challenge));
  assert.ok(directives instanceof Map);
  const nonce = directives.get("nonce")!;
  const realm = directives.get("realm")!;
  const cnonce = "c1i3nt-n0nce";
  const nc = overrides.nc ?? "00000001";
  const uri = overrides["digest-uri"] ?? ZK.digestUri;
  const digest = clientDigest({ user, realm, password, nonce: overrides.nonce ?? nonce, cnonce, nc, uri, ...(authzid === undefined ? {} : { authzid }) });
  const fields: Record<string, string> = {
    username: `"${user}"`, realm: `"${realm}"`, nonce: `"${nonce}"`, cnonce: `"${cnonce}"`, nc, qop: "auth",
    "digest-uri": `"${uri}"`, response: digest.response, ...(authzid === undefined ? {} : { authzid: `"${authzid}"` }),
  };
  for (const [k, v] of Object.entries(overrides)) if (k !== "nc" && k !== "digest-uri") fields[k] = v;
  return { token: enc.encode(Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(",")), rspauth: digest.rspauth };
}

describe("md5", () => {
  test("RFC 1321's test suite and node:crypto agree", () => {
    const suite: Array<[string, string]> = [
      ["", "d41d8cd98f00b204e9800998ecf8427e"],
      ["a", "0cc175b9c0f1b6a831c399e269772661"],
      ["abc", "900150983cd24fb0d6963f7d28e17f72"],
      ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
      ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
      ["12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"],
    ];
    for (const [input, expected] of suite) assert.equal(hex(md5(enc.encode(input))), expected, input);
    for (let n = 50; n < 140; n++) {
      const data = new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff);
      assert.equal(hex(md5(data)), hh(data), `length ${n}`);
    }
  });
});

describe("DIGEST-MD5 server", () => {
  test("RFC 2831 §4's example: the client's response is accepted and rspauth matches", () => {
    const rfc = new DigestMd5Server({
      realm: "elwood.innosoft.com",
      digestUri: "imap/elwood.innosoft.com",
      nonce: "OA6MG9tEQGm2hh",
      passwordOf: (name) => (name === "chris" ? "secret" : null),
    });
    const challenge = rfc.step(new Uint8Array(0));
    assert.equal(challenge.kind, "challenge");
    const response = 'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,' +
      'cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth';
    const result = rfc.step(enc.encode(response));
    assert.deepEqual(result.kind === "success" ? dec.decode(result.token) : result, "rspauth=ea40f60335c427b5527b84dbabcdfffd");
  });

  test("the challenge is ZooKeeper's: realm zk-sasl-md5, the nonce, qop=auth, charset=utf-8, md5-sess", () => {
    const step = server("abcdefgh12345678").step(new Uint8Array(0));
    assert.equal(step.kind, "challenge");
    const directives = parseDirectives(dec.decode(step.kind === "challenge" ? step.token : new Uint8Array()));
    assert.deepEqual(directives, new Map([
      ["realm", "zk-sasl-md5"], ["nonce", "abcdefgh12345678"], ["qop", "auth"], ["charset", "utf-8"], ["algorithm", "md5-sess"],
    ]));
  });

  test("a client computed independently authenticates, and rspauth proves the server knows the password", () => {
    const s = server();
    const challenge = s.step(new Uint8Array(0));
    assert.equal(challenge.kind, "challenge");
    const { token, rspauth } = respond(challenge.kind === "challenge" ? challenge.token : new Uint8Array(), "bob", "bobsecret");
    const result = s.step(token);
    assert.equal(result.kind, "success", JSON.stringify(result));
    if (result.kind !== "success") return;
    assert.equal(result.username, "bob");
    assert.equal(dec.decode(result.token), `rspauth=${rspauth}`);
    assert.ok(s.done);
    // The exchange is over: a third token (a replay of the response) is refused.
    assert.equal(s.step(token).kind, "failure");
  });

  test("an authzid enters A1; identity stays the authentication id", () => {
    const s = server();
    const challenge = s.step(new Uint8Array(0));
    const { token } = respond(challenge.kind === "challenge" ? challenge.token : new Uint8Array(), "bob", "bobsecret", {}, "admin");
    const result = s.step(token);
    assert.equal(result.kind, "success", JSON.stringify(result));
    assert.equal(result.kind === "success" ? result.username : "", "bob");
  });

  const refusals: Array<[string, (challenge: Uint8Array) => Uint8Array, RegExp]> = [
    ["a wrong password", (c) => respond(c, "bob", "wrong").token, /wrong password/],
    ["another user's password", (c) => respond(c, "alice", "bobsecret").token, /wrong password/],
    ["an unknown user", (c) => respond(c, "mallory", "x").token, /unknown user/],
    ["a digest-uri other than zookeeper/zk-sasl-md5", (c) => respond(c, "bob", "bobsecret", { "digest-uri": "zookeeper/other" }).token, /digest-uri/],
    ["a nonce the server did not send", (c) => respond(c, "bob", "bobsecret", { nonce: '"forged-nonce-1234"' }).token, /nonce/],
    ["nonce-count 2", (c) => respond(c, "bob", "bobsecret", { nc: "00000002" }).token, /nonce-count/],
    ["qop=auth-conf (not offered)", (c) => respond(c, "bob", "bobsecret", { qop: "auth-conf" }).token, /qop/],
    ["a realm that was not offered", (c) => respond(c, "bob", "bobsecret", { realm: '"evil"' }).token, /realm/],
    ["a response that is not 32 hex digits", (c) => respond(c, "bob", "bobsecret", { response: "xyz" }).token, /32 hex/],
    ["a repeated directive", (c) => enc.encode(dec.decode(respond(c, "bob", "bobsecret").token) + ',username="alice"'), /twice/],
    ["an unterminated quote", () => enc.encode('username="bob'), /malformed/],
    ["no username", () => enc.encode("nc=00000001"), /no username/],
    ["a token of 4096 bytes", () => new Uint8Array(DIGEST_RESPONSE_BYTES_MAX).fill(0x61), /4096/],
  ];
  for (const [what, token, reason] of refusals) {
    test(`refuses ${what}`, () => {
      const s = server();
      const challenge = s.step(new Uint8Array(0));
      assert.equal(challenge.kind, "challenge");
      const result = s.step(token(challenge.kind === "challenge" ? challenge.token : new Uint8Array()));
      assert.equal(result.kind, "failure");
      assert.match(result.kind === "failure" ? result.reason : "", reason);
      assert.ok(s.done, "a failed exchange is over");
    });
  }

  test("a non-empty first token (GSSAPI) is refused with a reason that says so", () => {
    const result = server().step(new Uint8Array([0x60, 0x82, 0x01, 0x00]));
    assert.equal(result.kind, "failure");
    assert.match(result.kind === "failure" ? result.reason : "", /GSSAPI/);
  });

  test("digestResponse matches the independent computation", () => {
    const f = { username: "bob", realm: "zk-sasl-md5", password: "bobsecret", nonce: "abc", cnonce: "def", nc: "00000001", authzid: null, digestUri: ZK.digestUri };
    const independent = clientDigest({ user: "bob", realm: "zk-sasl-md5", password: "bobsecret", nonce: "abc", cnonce: "def", nc: "00000001", uri: ZK.digestUri });
    assert.equal(digestResponse(f, "AUTHENTICATE"), independent.response);
    assert.equal(digestResponse(f, ""), independent.rspauth);
  });
});
