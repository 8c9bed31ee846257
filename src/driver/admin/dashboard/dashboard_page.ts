/**
 * The dashboard's static assets as string constants: no build step, and `deno publish`, the npm
 * build and the single-file bundle carry them like any other module. The script builds every piece
 * of DOM with createElement and textContent: znode names, data, session ids and addresses are
 * never parsed as HTML (the page's Content-Security-Policy also forbids inline script).
 */

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Corral dashboard</title>
<link rel="stylesheet" href="/dashboard/app.css">
</head>
<body>
<header>
  <h1>Corral</h1>
  <span id="live" class="badge off">connecting</span>
  <span id="headline"></span>
  <a href="/commands">/commands</a>
</header>
<main>
  <section class="card" id="server-card"><h2>Server</h2><table id="server"></table></section>
  <section class="card" id="ensemble-card"><h2>Ensemble</h2><p id="ensemble-summary"></p><table id="ensemble"></table></section>
  <section class="card"><h2>Throughput <small>requests/s</small></h2><canvas id="chart-throughput" width="460" height="150"></canvas></section>
  <section class="card"><h2>Latency <small>ms, average per interval</small></h2><canvas id="chart-latency" width="460" height="150"></canvas></section>
  <section class="card wide"><h2>Sessions <small id="sessions-total"></small></h2><table id="sessions"></table></section>
  <section class="card wide"><h2>Watches <small id="watches-total"></small></h2><table id="watches"></table></section>
  <section class="card wide" id="tree-card">
    <h2>Tree</h2>
    <form id="tree-form">
      <input id="tree-path" name="path" value="/" spellcheck="false" aria-label="znode path">
      <button type="submit">Open</button>
      <input id="tree-auth" name="auth" placeholder="user:password (optional)" autocomplete="off" spellcheck="false" aria-label="digest credentials">
      <span id="tree-viewer" class="muted">viewing as world:anyone</span>
    </form>
    <nav id="tree-crumbs"></nav>
    <div class="tree-grid">
      <div><h3>Children <small id="tree-children-total"></small></h3><ul id="tree-children"></ul></div>
      <div><h3>Data</h3><pre id="tree-data"></pre><h3>ACL</h3><table id="tree-acl"></table></div>
      <div><h3>Stat</h3><table id="tree-stat"></table></div>
    </div>
    <p id="tree-note" class="muted"></p>
  </section>
</main>
<script src="/dashboard/app.js"></script>
</body>
</html>
`;

export const DASHBOARD_CSS = `
:root { color-scheme: light; --fg: #1d232a; --muted: #66707a; --line: #dde2e7; --accent: #2f6f9f; --bg: #f4f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 16px; align-items: center; padding: 10px 18px; background: #1d2b36; color: #fff; }
header h1 { font-size: 18px; margin: 0; }
header a { color: #bcd; margin-left: auto; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 14px; padding: 14px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; overflow: auto; }
.card.wide { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 8px; } h3 { font-size: 13px; margin: 8px 0 4px; }
small, .muted { color: var(--muted); font-weight: normal; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; }
.badge { padding: 2px 8px; border-radius: 10px; font-size: 12px; }
.badge.on { background: #2e7d32; } .badge.off { background: #9e3b3b; }
.role-leader { font-weight: 700; color: #2e7d32; }
.problem { color: #9e3b3b; }
canvas { width: 100%; height: 150px; }
form { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
#tree-path { flex: 1 1 320px; font-family: ui-monospace, monospace; }
#tree-crumbs { margin: 8px 0; font-family: ui-monospace, monospace; }
#tree-crumbs button, #tree-children button { font: inherit; border: 0; background: none; color: var(--accent); cursor: pointer; padding: 0 2px; text-align: left; }
.tree-grid { display: grid; grid-template-columns: 1fr 1.4fr 1fr; gap: 14px; }
#tree-children { list-style: none; margin: 0; padding: 0; max-height: 360px; overflow: auto; font-family: ui-monospace, monospace; }
#tree-data { background: #f7f7f4; border: 1px solid var(--line); padding: 8px; max-height: 360px; overflow: auto; white-space: pre-wrap; word-break: break-all; margin: 0; }
`;

/**
 * The page's script. Written without template literals so it can live in this TypeScript string.
 * Rule: text reaches the DOM only through textContent (via el() and text()).
 */
export const DASHBOARD_JS = `"use strict";
(function () {
  var HISTORY_MAX = 120;
  var throughput = [], latency = [];
  var lastZxid = null, auth = "";
  var currentPath = new URLSearchParams(location.search).get("path") || "/";

  function $(id) { return document.getElementById(id); }
  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined && content !== null) node.textContent = String(content);
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function row(cells, header) {
    var tr = el("tr");
    cells.forEach(function (cell) {
      var td = el(header ? "th" : "td", typeof cell === "number" ? "num" : "", cell);
      tr.appendChild(td);
    });
    return tr;
  }
  function fill(table, headers, rows) {
    clear(table);
    table.appendChild(row(headers, true));
    rows.forEach(function (cells) { table.appendChild(row(cells, false)); });
  }
  function duration(ms) {
    var s = Math.floor(ms / 1000);
    if (s < 120) return s + " s";
    if (s < 7200) return Math.floor(s / 60) + " min";
    return Math.floor(s / 3600) + " h";
  }
  function show(value) { return value === null || value === undefined ? "-" : value; }

  function renderServer(state) {
    var s = state.server;
    $("headline").textContent = s.mode + " - zxid " + s.zxid + " - " + state.viewers + " viewer(s)";
    fill($("server"), ["", ""], [
      ["mode", s.mode], ["zxid", s.zxid], ["znodes", s.nodeCount], ["data bytes", s.dataBytes],
      ["ephemerals", s.ephemerals], ["sessions", s.sessions], ["connections", s.connections],
      ["outstanding", s.outstanding], ["uptime", duration(s.uptimeMs)], ["version", s.version]
    ]);
    $("server").rows[0].remove();
  }

  function renderEnsemble(state) {
    var e = state.ensemble;
    var table = $("ensemble");
    if (!e) {
      $("ensemble-summary").textContent = "standalone server (no ensemble)";
      clear(table);
      return;
    }
    var change = e.lastLeaderChangeAt ? new Date(e.lastLeaderChangeAt).toLocaleTimeString() : "-";
    $("ensemble-summary").textContent = "this is member " + e.myId + "; leader " + (e.leaderId < 0 ? "unknown" : e.leaderId) +
      "; zab state " + e.zabState + "; last leader change seen " + change;
    clear(table);
    table.appendChild(row(["id", "quorum address", "client address", "role", "zxid", "lag (txns)", "note"], true));
    e.members.forEach(function (m) {
      var role = m.mode || (m.observer ? "observer" : "participant");
      var tr = row([m.id, m.address, m.clientAddress, role, show(m.zxid), show(m.lag), m.problem || ""], false);
      if (m.mode === "leader") tr.cells[3].className = "role-leader";
      if (m.problem) tr.cells[6].className = "problem";
      table.appendChild(tr);
    });
  }

  function renderSessions(state) {
    $("sessions-total").textContent = state.sessionsTotal + " sessions, " + state.connectionsTotal + " connections";
    fill($("sessions"), ["session", "connection", "timeout", "expires in", "ephemerals", "last op", "recv/sent", "last latency"],
      state.sessions.map(function (s) {
        return [s.id, show(s.connection), s.timeoutMs + " ms", s.expiresInMs + " ms", s.ephemerals, show(s.lastOperation),
          s.received === null ? "-" : s.received + "/" + s.sent, s.lastLatencyMs === null ? "-" : s.lastLatencyMs + " ms"];
      }));
  }

  function renderWatches(state) {
    $("watches-total").textContent = state.watchesTotal + " watches on " + state.watchPathsTotal + " paths";
    fill($("watches"), ["path", "sessions"], state.watches.map(function (w) {
      return [w.path, w.sessions.join(", ") + (w.sessionCount > w.sessions.length ? " (+" + (w.sessionCount - w.sessions.length) + ")" : "")];
    }));
  }

  function push(series, value) {
    series.push(value);
    if (series.length > HISTORY_MAX) series.shift();
  }

  function chart(canvas, series, unit) {
    var ctx = canvas.getContext("2d");
    var w = canvas.width, h = canvas.height, pad = 26;
    ctx.clearRect(0, 0, w, h);
    var max = Math.max(1, Math.max.apply(null, series.concat([0])));
    ctx.strokeStyle = "#dde2e7";
    ctx.beginPath(); ctx.moveTo(pad, 8); ctx.lineTo(pad, h - pad); ctx.lineTo(w - 4, h - pad); ctx.stroke();
    ctx.fillStyle = "#66707a"; ctx.font = "11px sans-serif";
    ctx.fillText(String(Math.round(max * 100) / 100), 2, 14);
    ctx.fillText("0", 12, h - pad);
    var last = series.length ? series[series.length - 1] : 0;
    ctx.fillText("now: " + last + " " + unit, w - 120, h - 8);
    ctx.strokeStyle = "#2f6f9f"; ctx.lineWidth = 2; ctx.beginPath();
    series.forEach(function (value, i) {
      var x = pad + (i / (HISTORY_MAX - 1)) * (w - pad - 6);
      var y = h - pad - (value / max) * (h - pad - 10);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }

  function renderCharts(state) {
    if (state.rates.intervalMs > 0) {
      push(throughput, state.rates.requestsPerSecond);
      push(latency, state.rates.latencyAvgMs);
    }
    chart($("chart-throughput"), throughput, "req/s");
    chart($("chart-latency"), latency, "ms");
  }

  function onState(state) {
    renderServer(state);
    renderEnsemble(state);
    renderCharts(state);
    renderSessions(state);
    renderWatches(state);
    if (state.server.zxid !== lastZxid) {
      lastZxid = state.server.zxid;
      openPath(currentPath, true);
    }
  }

  function crumbs(path) {
    var nav = $("tree-crumbs");
    clear(nav);
    var parts = path === "/" ? [] : path.split("/").slice(1);
    var rootButton = el("button", "", "/");
    rootButton.type = "button";
    rootButton.addEventListener("click", function () { openPath("/"); });
    nav.appendChild(rootButton);
    parts.forEach(function (part, i) {
      var target = "/" + parts.slice(0, i + 1).join("/");
      var b = el("button", "", part);
      b.type = "button";
      b.addEventListener("click", function () { openPath(target); });
      if (i > 0) nav.appendChild(document.createTextNode("/"));
      nav.appendChild(b);
    });
  }

  function renderNode(view) {
    var list = $("tree-children"), data = $("tree-data"), note = $("tree-note");
    clear(list); data.textContent = ""; note.textContent = "";
    crumbs(view.path);
    if (view.error) { note.textContent = view.error; fill($("tree-stat"), [], []); fill($("tree-acl"), [], []); return; }
    if (!view.exists) { note.textContent = "no znode at " + view.path; fill($("tree-stat"), [], []); fill($("tree-acl"), [], []); return; }
    var st = view.stat;
    fill($("tree-stat"), ["field", "value"], Object.keys(st).map(function (k) {
      var v = st[k];
      if ((k === "ctime" || k === "mtime") && v > 0) v = v + " (" + new Date(v).toISOString() + ")";
      return [k, v];
    }));
    if (view.acl) fill($("tree-acl"), ["perms", "scheme", "id"], view.acl.map(function (a) { return [a.perms, a.scheme, a.id]; }));
    else fill($("tree-acl"), ["ACL hidden: neither READ nor ADMIN for this viewer"], []);
    if (!view.readable) { note.textContent = view.hidden; $("tree-children-total").textContent = ""; return; }
    $("tree-children-total").textContent = view.childrenTotal > view.children.length
      ? view.children.length + " of " + view.childrenTotal : String(view.childrenTotal);
    view.children.forEach(function (name) {
      var li = el("li"), b = el("button", "", name);
      b.type = "button";
      b.addEventListener("click", function () { openPath(view.path === "/" ? "/" + name : view.path + "/" + name); });
      li.appendChild(b);
      list.appendChild(li);
    });
    if (view.data === null) data.textContent = "(no data)";
    else if (view.data.binary) data.textContent = view.data.bytes + " bytes (binary): " + view.data.hex + (view.data.truncated ? " ..." : "");
    else data.textContent = view.data.text + (view.data.truncated ? "\\n... (" + view.data.bytes + " bytes in all)" : "");
  }

  var treeRequest = 0;
  function openPath(path, quiet) {
    currentPath = path;
    if (!quiet) $("tree-path").value = path;
    var mine = ++treeRequest;
    var headers = auth ? { "Authorization": "digest " + auth } : {};
    fetch("/dashboard/tree?path=" + encodeURIComponent(path), { headers: headers, cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (view) { if (mine === treeRequest) renderNode(view); })
      .catch(function (error) { if (mine === treeRequest) $("tree-note").textContent = "tree: " + error; });
  }

  $("tree-form").addEventListener("submit", function (event) {
    event.preventDefault();
    auth = $("tree-auth").value.trim();
    $("tree-viewer").textContent = auth ? "viewing as digest " + auth.split(":")[0] : "viewing as world:anyone";
    openPath($("tree-path").value.trim() || "/");
  });

  var source = new EventSource("/dashboard/events");
  source.addEventListener("state", function (event) {
    $("live").textContent = "live"; $("live").className = "badge on";
    onState(JSON.parse(event.data));
  });
  source.addEventListener("error", function () {
    $("live").textContent = "disconnected"; $("live").className = "badge off";
  });
  $("tree-path").value = currentPath;
  openPath(currentPath);
})();
`;
