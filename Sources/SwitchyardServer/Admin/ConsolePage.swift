/// The web console the admin listener serves at `/`: one page of HTML, CSS and a little
/// JavaScript, shipped in the binary (no CDN, no build step). It signs in with the admin key
/// (kept in the tab's session storage) and drives the admin API: keys, providers and routes with
/// their health, spend by key, team, model, user and day with a chart, and the recent log lines.
/// Every value from the API is written as text, never as markup.
enum ConsolePage {
    /// The page.
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Switchyard console</title>
        <style>
        :root { --ink:#1d2430; --muted:#5b6577; --line:#d9dee7; --accent:#2457c5; --bad:#b42318; --ok:#067647; --bg:#f6f7f9; }
        * { box-sizing: border-box; }
        body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink); background:var(--bg); }
        header { display:flex; align-items:center; gap:24px; padding:12px 24px; background:#fff; border-bottom:1px solid var(--line); }
        header h1 { font-size:17px; margin:0; }
        nav button { background:none; border:none; padding:8px 12px; font:inherit; color:var(--muted); cursor:pointer; border-bottom:2px solid transparent; }
        nav button.active { color:var(--ink); border-bottom-color:var(--accent); }
        main { padding:20px 24px; max-width:1200px; }
        section { display:none; } section.active { display:block; }
        .card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px; margin-bottom:16px; }
        h2 { font-size:15px; margin:0 0 12px; }
        table { border-collapse:collapse; width:100%; }
        th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
        th { color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase; letter-spacing:.03em; }
        td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
        input, select { font:inherit; padding:6px 8px; border:1px solid var(--line); border-radius:6px; }
        button.primary, button.action { font:inherit; padding:6px 12px; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; }
        button.action { background:#fff; color:var(--accent); padding:3px 8px; margin-right:4px; }
        button.danger { border-color:var(--bad); color:var(--bad); }
        form.grid { display:grid; grid-template-columns:repeat(auto-fill,minmax(180px,1fr)); gap:10px; align-items:end; }
        label { display:flex; flex-direction:column; gap:4px; font-size:12px; color:var(--muted); }
        .secret { font-family:ui-monospace, monospace; background:#fff8e6; border:1px solid #f0c36d; padding:10px; border-radius:6px; word-break:break-all; }
        .error { color:var(--bad); } .ok { color:var(--ok); } .muted { color:var(--muted); }
        .bar { height:8px; background:#e8ecf3; border-radius:4px; overflow:hidden; min-width:80px; }
        .bar > div { height:100%; background:var(--accent); }
        .bar.over > div { background:var(--bad); }
        pre#log-lines { background:#0f1520; color:#d7dde8; padding:12px; border-radius:8px; overflow:auto; max-height:560px; font-size:12px; }
        #signin { max-width:420px; margin:80px auto; }
        .pill { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; background:#e8ecf3; }
        .pill.open, .pill.revoked { background:#fde7e5; color:var(--bad); } .pill.closed, .pill.active { background:#e3f4ea; color:var(--ok); }
        </style>
        </head>
        <body>
        <div id="signin" class="card">
          <h2>Switchyard console</h2>
          <p class="muted">Sign in with the gateway's admin key (<code>ADMIN_KEY</code>).</p>
          <form id="signin-form">
            <label>Admin key <input id="admin-key" type="password" autocomplete="current-password" required></label>
            <p><button id="sign-in" class="primary" type="submit">Sign in</button></p>
            <p id="signin-error" class="error"></p>
          </form>
        </div>
        <div id="app" hidden>
          <header>
            <h1>Switchyard</h1>
            <nav>
              <button id="tab-keys" data-tab="keys" class="active">Keys</button>
              <button id="tab-providers" data-tab="providers">Providers &amp; routes</button>
              <button id="tab-spend" data-tab="spend">Spend</button>
              <button id="tab-log" data-tab="log">Log</button>
            </nav>
            <span style="flex:1"></span>
            <button id="sign-out" class="action">Sign out</button>
          </header>
          <main>
            <p id="message" role="status"></p>
            <section id="keys" class="active">
              <div class="card">
                <h2>New key</h2>
                <form id="create-form" class="grid">
                  <label>Name <input id="new-key-name" required pattern="[A-Za-z0-9_.@-]{1,64}" placeholder="alice"></label>
                  <label>Team <input id="new-key-team" placeholder="research"></label>
                  <label>Models (comma-separated, * allowed) <input id="new-key-models" placeholder="gpt-4o*, claude-*"></label>
                  <label>Dollar budget <input id="new-key-budget" type="number" min="0.01" step="0.01" placeholder="20"></label>
                  <label>Budget period <select id="new-key-period"><option value="month">month</option><option value="day">day</option></select></label>
                  <label>Tokens per window <input id="new-key-tokens" type="number" min="1"></label>
                  <label>Requests per window <input id="new-key-requests" type="number" min="1"></label>
                  <label>Expires <input id="new-key-expires" type="date"></label>
                  <button id="create-key" class="primary" type="submit">Create key</button>
                </form>
                <div id="new-secret-box" hidden>
                  <p><strong>Copy this key now: it is not shown again.</strong></p>
                  <div id="new-secret" class="secret"></div>
                </div>
              </div>
              <div class="card">
                <h2>Keys <label style="display:inline-flex;flex-direction:row;gap:6px;margin-left:12px"><input id="show-revoked" type="checkbox"> show revoked</label></h2>
                <table id="keys-table"><thead><tr><th>Name</th><th>Source</th><th>Team</th><th>Models</th><th>Budget</th><th>Spent this month</th><th>Limits</th><th>Key</th><th>Status</th><th></th></tr></thead><tbody></tbody></table>
              </div>
            </section>
            <section id="providers">
              <div class="card">
                <h2>Providers</h2>
                <table id="providers-table"><thead><tr><th>Name</th><th>Kind</th><th>Base URL</th><th class="num">Recent attempts</th><th class="num">Error rate</th><th class="num">p50 s</th><th class="num">p95 s</th><th class="num">p99 s</th></tr></thead><tbody></tbody></table>
              </div>
              <div class="card">
                <h2>Deployments</h2>
                <table id="deployments-table"><thead><tr><th>Deployment</th><th>Circuit</th><th class="num">Consecutive failures</th><th class="num">Seconds until available</th></tr></thead><tbody></tbody></table>
              </div>
              <div class="card">
                <h2>Routes</h2>
                <table id="routes-table"><thead><tr><th>Models</th><th>Deployments</th><th>Fallbacks</th></tr></thead><tbody></tbody></table>
              </div>
              <div class="card">
                <h2>Gateway</h2>
                <p id="gateway-figures"></p>
                <button id="reload" class="action">Reload configuration file</button> <span id="reload-result"></span>
              </div>
            </section>
            <section id="spend">
              <div class="card">
                <form id="spend-form" class="grid">
                  <label>Group by <select id="spend-by"><option>key</option><option>team</option><option>model</option><option>user</option><option>day</option></select></label>
                  <label>Since <input id="spend-since" type="date"></label>
                  <label>Until <input id="spend-until" type="date"></label>
                  <button class="primary" type="submit">Show</button>
                </form>
              </div>
              <div class="card">
                <h2 id="spend-title">Spend</h2>
                <svg id="spend-chart" width="100%" height="0" role="img" aria-label="spend chart"></svg>
                <table id="spend-table"><thead><tr><th id="spend-group">Key</th><th class="num">Requests</th><th class="num">Tokens in</th><th class="num">Tokens out</th><th class="num">Cost (USD)</th><th class="num">Unpriced</th></tr></thead><tbody></tbody></table>
              </div>
            </section>
            <section id="log">
              <div class="card">
                <h2>Recent log lines <button id="log-refresh" class="action">Refresh</button></h2>
                <pre id="log-lines"></pre>
              </div>
            </section>
          </main>
        </div>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        let adminKey = sessionStorage.getItem("switchyard-admin-key") || "";

        async function api(method, path, body) {
          const response = await fetch(path, {
            method, headers: Object.assign({ "Authorization": "Bearer " + adminKey }, body ? { "Content-Type": "application/json" } : {}),
            body: body ? JSON.stringify(body) : undefined,
          });
          const data = await response.json().catch(() => ({}));
          if (!response.ok) {
            const error = new Error((data.error && data.error.message) || ("HTTP " + response.status));
            error.status = response.status;
            throw error;
          }
          return data;
        }

        function cell(row, text, className) {
          const td = document.createElement("td");
          td.textContent = text === null || text === undefined ? "" : String(text);
          if (className) td.className = className;
          row.appendChild(td);
          return td;
        }
        function fill(tableId, rows, render) {
          const body = document.querySelector("#" + tableId + " tbody");
          body.replaceChildren();
          for (const item of rows) { const tr = document.createElement("tr"); render(tr, item); body.appendChild(tr); }
        }
        function say(text, bad) { const m = $("message"); m.textContent = text; m.className = bad ? "error" : "ok"; }
        function money(value) { return value === null || value === undefined ? "" : "$" + Number(value).toFixed(value < 1 ? 4 : 2); }
        function pill(td, text) { const span = document.createElement("span"); span.className = "pill " + text; span.textContent = text; td.replaceChildren(span); }

        async function signIn(event) {
          if (event) event.preventDefault();
          if (event) adminKey = $("admin-key").value;
          try {
            await api("GET", "/admin/status");
          } catch (error) {
            $("signin-error").textContent = error.status === 401 ? "That is not the admin key." : error.message;
            $("signin").hidden = false; $("app").hidden = true;
            return;
          }
          sessionStorage.setItem("switchyard-admin-key", adminKey);
          $("signin").hidden = true; $("app").hidden = false;
          show("keys");
        }
        function signOut() { sessionStorage.removeItem("switchyard-admin-key"); adminKey = ""; $("app").hidden = true; $("signin").hidden = false; }

        function show(tab) {
          say("");
          for (const button of document.querySelectorAll("nav button")) button.classList.toggle("active", button.dataset.tab === tab);
          for (const section of document.querySelectorAll("main section")) section.classList.toggle("active", section.id === tab);
          ({ keys: loadKeys, providers: loadStatus, spend: loadSpend, log: loadLog })[tab]().catch((error) => say(error.message, true));
        }

        async function loadKeys() {
          const list = await api("GET", "/admin/keys" + ($("show-revoked").checked ? "?include_revoked=true" : ""));
          const spend = await api("GET", "/admin/spend?by=key").catch(() => ({ data: [] }));
          const spent = Object.fromEntries(spend.data.map((line) => [line.key, line.cost_usd]));
          fill("keys-table", list.data, (tr, key) => {
            tr.dataset.keyName = key.name; tr.dataset.keyId = key.id;
            cell(tr, key.name); cell(tr, key.source); cell(tr, key.team); cell(tr, key.models ? key.models.join(", ") : "all");
            cell(tr, key.budget_usd ? money(key.budget_usd) + " / " + key.budget_period : "");
            const used = spent[key.name] || 0;
            const usage = cell(tr, money(used));
            if (key.budget_usd && key.budget_period === "month") {
              const bar = document.createElement("div"); bar.className = "bar" + (used >= key.budget_usd ? " over" : "");
              const fillBar = document.createElement("div"); fillBar.style.width = Math.min(100, 100 * used / key.budget_usd) + "%";
              bar.appendChild(fillBar); usage.appendChild(bar);
            }
            cell(tr, [key.max_tokens ? key.max_tokens + " tokens" : "", key.max_requests ? key.max_requests + " requests" : ""].filter(Boolean).join(", "));
            cell(tr, key.hint || "");
            pill(cell(tr, ""), key.revoked_at ? "revoked" : "active");
            const actions = cell(tr, "");
            if (key.source === "database" && !key.revoked_at) {
              for (const [label, verb, danger] of [["Rotate", "rotate", false], ["Revoke", "revoke", true]]) {
                const button = document.createElement("button");
                button.textContent = label; button.className = "action " + verb + (danger ? " danger" : "");
                button.addEventListener("click", () => act(key, verb));
                actions.appendChild(button);
              }
            }
          });
        }

        async function act(key, verb) {
          if (!confirm(verb === "revoke" ? "Revoke the key " + key.name + "? Requests with it are refused at once." : "Rotate the key " + key.name + "? The old secret stops working at once.")) return;
          try {
            const result = await api("POST", "/admin/keys/" + encodeURIComponent(key.id) + "/" + verb);
            if (result.key) { $("new-secret").textContent = result.key; $("new-secret-box").hidden = false; }
            say(verb === "revoke" ? "Revoked " + key.name + "." : "Rotated " + key.name + ".");
            await loadKeys();
          } catch (error) { say(error.message, true); }
        }

        async function createKey(event) {
          event.preventDefault();
          const body = { name: $("new-key-name").value.trim() };
          const team = $("new-key-team").value.trim(); if (team) body.team = team;
          const models = $("new-key-models").value.split(",").map((s) => s.trim()).filter(Boolean); if (models.length) body.models = models;
          const budget = parseFloat($("new-key-budget").value); if (budget > 0) { body.budget_usd = budget; body.budget_period = $("new-key-period").value; }
          const tokens = parseInt($("new-key-tokens").value, 10); if (tokens > 0) body.max_tokens = tokens;
          const requests = parseInt($("new-key-requests").value, 10); if (requests > 0) body.max_requests = requests;
          if ($("new-key-expires").value) body.expires = $("new-key-expires").value;
          try {
            const created = await api("POST", "/admin/keys", body);
            $("new-secret").textContent = created.key; $("new-secret-box").hidden = false;
            $("create-form").reset();
            say("Created " + created.name + ".");
            await loadKeys();
          } catch (error) { say(error.message, true); }
        }

        async function loadStatus() {
          const status = await api("GET", "/admin/status");
          fill("providers-table", status.providers, (tr, p) => {
            cell(tr, p.name); cell(tr, p.kind); cell(tr, p.base_url); cell(tr, p.recent_attempts, "num");
            cell(tr, (100 * p.recent_error_rate).toFixed(1) + "%", "num");
            for (const q of [p.latency_p50_seconds, p.latency_p95_seconds, p.latency_p99_seconds]) cell(tr, q === null ? "" : q.toFixed(3), "num");
          });
          fill("deployments-table", status.deployments, (tr, d) => {
            cell(tr, d.deployment); pill(cell(tr, ""), d.circuit); cell(tr, d.consecutive_failures, "num"); cell(tr, d.seconds_until_available.toFixed(1), "num");
          });
          fill("routes-table", status.routes, (tr, r) => { cell(tr, r.models.join(", ")); cell(tr, r.deployments.join(", ")); cell(tr, r.fallbacks.join(", ")); });
          $("gateway-figures").textContent = "Requests in flight: " + status.requests_in_flight + " · streams: " + status.streams_in_flight +
            " · budget store: " + status.budget_store + (status.budget_store_healthy ? "" : " (failing)") + " · ledger rows queued: " + status.ledger_queued_rows +
            " · keys: " + status.keys;
        }

        async function reload() {
          try {
            const report = await api("POST", "/admin/reload");
            $("reload-result").className = "ok";
            $("reload-result").textContent = "Reloaded: " + report.applied.join(", ") + (report.need_restart.length ? ". Needs a restart: " + report.need_restart.join(", ") : "");
            await loadStatus();
          } catch (error) { $("reload-result").className = "error"; $("reload-result").textContent = error.message; }
        }

        async function loadSpend(event) {
          if (event) event.preventDefault();
          const by = $("spend-by").value;
          const query = new URLSearchParams({ by });
          if ($("spend-since").value) query.set("since", $("spend-since").value);
          if ($("spend-until").value) query.set("until", $("spend-until").value);
          const report = await api("GET", "/admin/spend?" + query);
          $("spend-title").textContent = "Spend by " + by + ", " + report.since + " to " + report.until + ": " + money(report.total_usd);
          $("spend-group").textContent = by;
          const lines = by === "day" ? report.data.slice().sort((a, b) => a.day < b.day ? -1 : 1) : report.data;
          fill("spend-table", lines, (tr, line) => {
            cell(tr, line[by]); cell(tr, line.requests, "num"); cell(tr, line.tokens_in, "num"); cell(tr, line.tokens_out, "num");
            cell(tr, Number(line.cost_usd).toFixed(6), "num"); cell(tr, line.unpriced_requests, "num");
          });
          chart(lines.slice(0, 20), by);
        }

        function chart(lines, by) {
          const svg = $("spend-chart"), ns = "http://www.w3.org/2000/svg", rowHeight = 22, labelWidth = 180;
          svg.replaceChildren();
          svg.setAttribute("height", String(lines.length * rowHeight + 8));
          const width = svg.clientWidth || 800, max = Math.max(...lines.map((l) => l.cost_usd), 1e-9);
          lines.forEach((line, i) => {
            const y = i * rowHeight + 4;
            const label = document.createElementNS(ns, "text");
            label.setAttribute("x", "0"); label.setAttribute("y", String(y + 14)); label.setAttribute("font-size", "12");
            label.textContent = line[by];
            const bar = document.createElementNS(ns, "rect");
            bar.setAttribute("x", String(labelWidth)); bar.setAttribute("y", String(y + 3)); bar.setAttribute("height", "14");
            bar.setAttribute("width", String(Math.max(1, (width - labelWidth - 110) * line.cost_usd / max))); bar.setAttribute("fill", "#2457c5");
            const value = document.createElementNS(ns, "text");
            value.setAttribute("x", String(labelWidth + Math.max(1, (width - labelWidth - 110) * line.cost_usd / max) + 6));
            value.setAttribute("y", String(y + 14)); value.setAttribute("font-size", "12"); value.textContent = money(line.cost_usd);
            svg.append(label, bar, value);
          });
        }

        async function loadLog() {
          const lines = await api("GET", "/admin/logs");
          $("log-lines").textContent = lines.data.slice(-300).join("\\n");
        }

        $("signin-form").addEventListener("submit", signIn);
        $("sign-out").addEventListener("click", signOut);
        $("create-form").addEventListener("submit", createKey);
        $("show-revoked").addEventListener("change", () => loadKeys().catch((e) => say(e.message, true)));
        $("spend-form").addEventListener("submit", (e) => loadSpend(e).catch((error) => say(error.message, true)));
        $("reload").addEventListener("click", reload);
        $("log-refresh").addEventListener("click", () => loadLog().catch((e) => say(e.message, true)));
        for (const button of document.querySelectorAll("nav button")) button.addEventListener("click", () => show(button.dataset.tab));
        if (adminKey) signIn();
        </script>
        </body>
        </html>
        """
}
