/**
 * The dashboard in a real browser: headless Chromium (Debian's `chromium`) loads the AdminServer's
 * `/` of a member of a running 3-member ensemble (`corral serve` processes with admin.enableServer),
 * shows the ensemble with its leader, a znode created through a client appears on the page (pushed
 * over Server-Sent Events), hostile znode names and HTML data are shown as text (no element is
 * created from them, no alert fires), and a screenshot is written as a test artifact (its path is
 * printed; CORRAL_DASHBOARD_PNG=path saves one more copy, e.g. docs/dashboard.png for the README).
 *
 * Skips with the reason when chromium is missing, unless CORRAL_REQUIRE_COMPAT=1 (then it fails).
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { createClient } from "../../mod.ts";
import { compatRequired, findOnPath } from "../support/compat_availability.ts";
import { ProcessEnsemble } from "../support/ensemble_processes.ts";
import { runtime } from "../support/runtime.ts";
import { waitFor } from "../support/wait_for.ts";
import { HeadlessChromium } from "./chromium_cdp.ts";

const IMG_NAME = "<img src=x onerror=alert(1)>";
const SCRIPT_PATH = "/dash/<script>alert(1)</script>"; // "<script>alert(1)<" and its child "script>"
const HTML_DATA = "<b>bold</b><script>alert(2)</script><img src=y onerror=alert(3)>";

function chromiumPath(): string | null {
  return findOnPath("chromium") ?? findOnPath("chromium-browser");
}

function skipReason(): string | false {
  if (chromiumPath() !== null || compatRequired()) return false;
  return "chromium is missing (apt-get install -y chromium; CORRAL_REQUIRE_COMPAT=1 turns this skip into a failure)";
}

describe("dashboard in headless Chromium", () => {
  test("shows a 3-member ensemble, a client's change appears live, hostile names stay text; screenshot kept", { skip: skipReason() }, async () => {
    const executable = chromiumPath();
    if (executable === null) throw new Error("CORRAL_REQUIRE_COMPAT=1 but chromium is missing; install with: apt-get install -y chromium");
    const dir = mkdtempSync(join(tmpdir(), "corral-dashboard-"));
    const ensemble = await ProcessEnsemble.create(dir, [runtime(), runtime(), runtime()]);
    // One zoo.cfg for all three: port 0 gives each member its own AdminServer port, and each
    // server.N line names the member's client port (";port") so the dashboard can ask it for srvr.
    const config = readFileSync(join(dir, "zoo.cfg"), "utf8").replace(/^server\.(\d+)=(.*)$/gm, (_, id: string, address: string) =>
      `server.${id}=${address};127.0.0.1:${ensemble.members[Number(id) - 1]!.clientPort}`);
    writeFileSync(join(dir, "zoo.cfg"), `${config}admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=0\n`);
    let browser: HeadlessChromium | null = null;
    const client = { current: null as Awaited<ReturnType<typeof createClient>> | null };
    try {
      await ensemble.startAll();
      const member = ensemble.members[0]!;
      const adminUrl = /corral: AdminServer on (http:\/\/\S+)\/commands/.exec(member.process!.output())?.[1];
      assert.ok(adminUrl !== undefined, `member 1 printed its AdminServer address:\n${member.process!.output().slice(-2000)}`);
      const zk = await createClient(ensemble.connectString());
      client.current = zk;
      await zk.create("/dash", "the dashboard's test node");
      await zk.create(`/dash/${IMG_NAME}`, HTML_DATA);
      await zk.create("/dash/<script>alert(1)<", HTML_DATA);
      await zk.create(SCRIPT_PATH, HTML_DATA);
      await zk.getData("/dash", { watch: () => {} });

      browser = HeadlessChromium.launch({ executable, lifetimeMs: 150_000 });
      console.log(`dashboard test: chromium pid ${browser.pid}, page ${adminUrl}/?path=/dash`);
      const dialogs: string[] = [];
      const page = await browser.newPage();
      const chrome = browser;
      chrome.on("Page.javascriptDialogOpening", (params, sessionId) => {
        dialogs.push(String(params["message"]));
        void chrome.send("Page.handleJavaScriptDialog", { accept: true }, sessionId).catch(() => {});
      });
      await browser.send("Page.enable", {}, page);
      await browser.send("Emulation.setDeviceMetricsOverride", { width: 1400, height: 1800, deviceScaleFactor: 1, mobile: false }, page);
      await browser.send("Page.navigate", { url: `${adminUrl}/?path=/dash` }, page);
      const text = (id: string) => browser!.evaluate(page, `(document.getElementById(${JSON.stringify(id)}) || {}).textContent || ""`) as Promise<string>;

      // The ensemble as member 1 sees it: three members, one leader, the others following.
      await waitFor(async () => {
        const table = await text("ensemble");
        return table.includes("leader") && table.split("follower").length - 1 === 2;
      }, { timeoutMs: 60_000, what: "the ensemble table to show a leader and two followers", intervalMs: 250 });
      assert.match(await text("live"), /live/);

      // The tree browser shows the hostile names as text.
      const children = await waitFor(async () => {
        const list = await text("tree-children");
        return list.includes(IMG_NAME) && list.includes("<script>alert(1)<") ? list : null;
      }, { timeoutMs: 30_000, what: "the /dash children in the tree browser", intervalMs: 250 });
      assert.ok(children.includes(IMG_NAME));

      // A change made through a client appears on the page without a reload.
      await zk.create("/dash/added-by-a-client", "hello");
      await waitFor(async () => (await text("tree-children")).includes("added-by-a-client"), {
        timeoutMs: 30_000, what: "the client's new znode to appear on the page", intervalMs: 250,
      });

      // Opening the hostile node shows its HTML data as text; nothing in it became an element.
      await browser.evaluate(page, `[...document.querySelectorAll("#tree-children button")].find((b) => b.textContent === ${JSON.stringify(IMG_NAME)}).click()`);
      await waitFor(async () => (await text("tree-data")) === HTML_DATA, { timeoutMs: 30_000, what: "the hostile node's data, as text", intervalMs: 250 });
      await browser.evaluate(page, `[...document.querySelectorAll("#tree-crumbs button")].find((b) => b.textContent === "dash").click()`);
      await waitFor(async () => (await text("tree-children")).includes("added-by-a-client"), { timeoutMs: 30_000, what: "back at /dash", intervalMs: 250 });
      const elements = await browser.evaluate(page, `({ img: document.querySelectorAll("img").length, script: document.querySelectorAll("script").length, b: document.querySelectorAll("main b").length })`);
      assert.deepEqual(elements, { img: 0, script: 1, b: 0 }, "znode names and data never become elements");

      // Some traffic for the charts, then the screenshot.
      const loadEnds = Date.now() + 4_000;
      for (let i = 0; i < 400 && Date.now() < loadEnds; i++) await zk.setData("/dash", `tick ${i}`);
      await zk.exists("/dash/added-by-a-client", { watch: () => {} });
      await waitFor(async () => Number(await browser!.evaluate(page, `document.querySelectorAll("#sessions tr").length`)) >= 2, {
        timeoutMs: 30_000, what: "the sessions table to list the client's session", intervalMs: 250,
      });
      assert.deepEqual(dialogs, [], "no alert() ran");
      const shot = await browser.send("Page.captureScreenshot", { format: "png" }, page) as { data: string };
      const artifact = join(tmpdir(), `corral-dashboard-${process.pid}.png`);
      const png = Uint8Array.from(atob(shot.data), (c) => c.charCodeAt(0));
      assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], "a PNG");
      writeFileSync(artifact, png);
      console.log(`dashboard test: screenshot written to ${artifact}`);
      const copy = process.env.CORRAL_DASHBOARD_PNG;
      if (copy !== undefined && copy !== "") {
        mkdirSync(dirname(copy), { recursive: true });
        copyFileSync(artifact, copy);
        console.log(`dashboard test: screenshot copied to ${copy}`);
      }
    } finally {
      await browser?.close();
      await client.current?.close().catch(() => {});
      await ensemble.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
