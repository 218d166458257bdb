"use strict";
// The Sealpost console: a page over the public API, nothing more. The API key lives in this
// tab's sessionStorage only and goes out as `Authorization: Bearer`; acting for a subuser or
// customer account sends `on-behalf-of`. No inline script, no outside host (CSP forbids both).
(() => {
  const KEY = "sealpost.key";
  const ACT = "sealpost.actas";
  const SVG = "http://www.w3.org/2000/svg";
  const LEVELS = ["none", "encrypted", "verified", "dane"];
  const $ = (id) => document.getElementById(id);
  let busy = 0;

  class APIError extends Error {
    constructor(message, status) { super(message); this.status = status; }
  }

  function setBusy(delta) {
    busy += delta;
    $("status").textContent = busy > 0 ? "Loading…" : "";
  }

  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY) };
    const acting = sessionStorage.getItem(ACT);
    if (acting) headers["on-behalf-of"] = acting;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    setBusy(1);
    try {
      const r = await fetch(path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", cache: "no-store",
      });
      const text = await r.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
      if (!r.ok) {
        const errors = data && Array.isArray(data.errors) ? data.errors : [];
        const message = errors.length ? errors.map((e) => (e.field ? e.field + ": " : "") + e.message).join("; ") : "HTTP " + r.status;
        throw new APIError(message, r.status);
      }
      return data;
    } finally {
      setBusy(-1);
    }
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  function table(id, head, rows) {
    const t = $(id);
    t.replaceChildren(el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))), el("tbody", {}, ...rows));
  }

  function showError(e) { $("error").textContent = e ? e.message : ""; }

  async function guarded(fn) {
    showError(null);
    try { await fn(); } catch (e) { showError(e); if (e.status === 401) signOut(); }
  }

  function day(offset) {
    const d = new Date(Date.now() - offset * 86400000);
    return d.toISOString().slice(0, 10);
  }

  function settingsQuery(prefix) {
    const q = new URLSearchParams({
      require_tls: String($(prefix + "require_tls").checked), require_valid_cert: String($(prefix + "require_valid_cert").checked),
      version: $(prefix + "version").value,
    });
    return q.toString();
  }

  // Overview: the chart of delivered mail per day and TLS level, the setting, recent changes.
  function drawChart(days) {
    const width = 600, height = 220, pad = 24;
    const max = Math.max(1, ...days.map((d) => LEVELS.reduce((s, l) => s + d.levels[l], 0)));
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height + pad}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Delivered messages per day, stacked by TLS level");
    const slot = (width - pad) / days.length;
    days.forEach((d, i) => {
      let y = height;
      for (const level of LEVELS) {
        const n = d.levels[level];
        if (!n) continue;
        const h = (n / max) * (height - pad);
        y -= h;
        const rect = document.createElementNS(SVG, "rect");
        rect.setAttribute("x", String(pad + i * slot + 1));
        rect.setAttribute("y", String(y));
        rect.setAttribute("width", String(Math.max(1, slot - 2)));
        rect.setAttribute("height", String(h));
        rect.setAttribute("class", "bar-" + level);
        rect.setAttribute("fill", { none: "#c0392b", encrypted: "#e6a23c", verified: "#3a8fd6", dane: "#2e9d5b" }[level]);
        rect.setAttribute("data-date", d.date);
        rect.setAttribute("data-level", level);
        rect.setAttribute("data-count", String(n));
        const title = document.createElementNS(SVG, "title");
        title.textContent = `${d.date} ${level}: ${n}`;
        rect.append(title);
        svg.append(rect);
      }
    });
    const axis = document.createElementNS(SVG, "text");
    axis.setAttribute("x", String(pad));
    axis.setAttribute("y", String(height + pad - 6));
    axis.setAttribute("font-size", "12");
    axis.textContent = `${days[0].date} … ${days[days.length - 1].date} (max ${max} a day)`;
    svg.append(axis);
    const legend = el("div", { class: "legend" }, ...LEVELS.map((l) => el("span", {}, el("span", { class: "swatch s-" + l }), l)));
    $("chart").replaceChildren(svg, legend);
  }

  async function loadOverview() {
    const [settings, stats, audit] = await Promise.all([
      api("GET", "/v3/user/settings/enforced_tls"),
      api("GET", "/v3/user/settings/enforced_tls/stats?start_date=" + day(29)),
      api("GET", "/v3/user/settings/enforced_tls/audit?limit=10"),
    ]);
    $("require_tls").checked = settings.require_tls;
    $("require_valid_cert").checked = settings.require_valid_cert;
    $("version").value = String(settings.version.toFixed(1));
    drawChart(stats);
    const totals = Object.fromEntries(LEVELS.map((l) => [l, stats.reduce((s, d) => s + d.levels[l], 0)]));
    const all = LEVELS.reduce((s, l) => s + totals[l], 0);
    const strong = totals.verified + totals.dane;
    $("share").textContent = all
      ? `${Math.round((100 * strong) / all)}% of delivered mail was verified or DANE-authenticated (${strong} of ${all}).`
      : "No mail delivered in the last 30 days.";
    const shown = stats.filter((d) => LEVELS.some((l) => d.levels[l]));
    table("levels", ["Date", ...LEVELS, "Total"], [
      ...shown.map((d) => el("tr", { "data-date": d.date }, el("td", {}, d.date),
        ...LEVELS.map((l) => el("td", { class: "num", "data-level": l }, d.levels[l])),
        el("td", { class: "num" }, LEVELS.reduce((s, l) => s + d.levels[l], 0)))),
      el("tr", { "data-date": "total" }, el("th", {}, "30 days"), ...LEVELS.map((l) => el("td", { class: "num", "data-level": l }, totals[l])),
        el("td", { class: "num" }, all)),
    ]);
    $("audit").replaceChildren(...(audit.length ? audit.map((a) => el("li", { class: "audit-entry" },
      `${new Date(a.at * 1000).toISOString().replace(".000", "")} ${a.domain ? "domain " + a.domain : "setting"}: ` +
      `${a.old ? JSON.stringify(a.old) : "none"} → ${a.new ? JSON.stringify(a.new) : "deleted"} (${a.via}${a.key_id ? ", key " + a.key_id : ""}` +
      `${a.on_behalf_of ? ", on behalf of " + a.on_behalf_of : ""})`)) : [el("li", {}, "No changes yet.")]));
  }

  async function saveSettings(ev) {
    ev.preventDefault();
    await guarded(async () => {
      const saved = await api("PATCH", "/v3/user/settings/enforced_tls", {
        require_tls: $("require_tls").checked, require_valid_cert: $("require_valid_cert").checked, version: Number($("version").value),
      });
      $("settings-saved").textContent = `Saved: ${JSON.stringify(saved)}`;
      await loadOverview();
    });
  }

  // What if: the impact report of proposed settings.
  async function whatIf(ev) {
    ev.preventDefault();
    await guarded(async () => {
      const r = await api("GET", "/v3/user/settings/enforced_tls/impact?" + settingsQuery("w-"));
      $("impact-summary").textContent = r.would_block.length
        ? `${r.would_block.length} of ${r.domains_seen} domains (${r.messages_seen} messages seen) would be blocked.`
        : `Nothing would be blocked (${r.domains_seen} domains, ${r.messages_seen} messages seen).`;
      table("impact", ["Domain", "Messages", "Why"], r.would_block.map((b) => el("tr", { "data-domain": b.domain },
        el("td", {}, b.domain), el("td", { class: "num" }, b.messages),
        el("td", {}, `${b.tls_failure.result_type} (${b.tls_failure.policy}, needs ${b.tls_failure.required_level})`))));
    });
  }

  // Domains: per-domain entries and the pre-flight check.
  async function loadDomains() {
    const entries = await api("GET", "/v3/user/settings/enforced_tls/domains");
    table("domains", ["Domain", "Require TLS", "Valid certificate", "Version", ""], entries.map((d) => {
      const edit = el("button", { type: "button" }, "Edit");
      edit.addEventListener("click", () => {
        $("d-domain").value = d.domain; $("d-require_tls").checked = d.require_tls;
        $("d-require_valid_cert").checked = d.require_valid_cert; $("d-version").value = d.version.toFixed(1); $("d-domain").focus();
      });
      const del = el("button", { type: "button", "data-delete": d.domain }, "Delete");
      del.addEventListener("click", () => guarded(async () => {
        await api("DELETE", "/v3/user/settings/enforced_tls/domains/" + encodeURIComponent(d.domain));
        await loadDomains();
      }));
      return el("tr", { "data-domain": d.domain }, el("td", {}, d.domain), el("td", {}, d.require_tls ? "yes" : "no"),
        el("td", {}, d.require_valid_cert ? "yes" : "no"), el("td", {}, d.version.toFixed(1)), el("td", {}, edit, " ", del));
    }));
  }

  async function saveDomain(ev) {
    ev.preventDefault();
    await guarded(async () => {
      await api("PUT", "/v3/user/settings/enforced_tls/domains/" + encodeURIComponent($("d-domain").value.trim()), {
        require_tls: $("d-require_tls").checked, require_valid_cert: $("d-require_valid_cert").checked, version: Number($("d-version").value),
      });
      await loadDomains();
    });
  }

  async function check(ev) {
    ev.preventDefault();
    await guarded(async () => {
      const r = await api("GET", "/v3/user/settings/enforced_tls/check?domain=" + encodeURIComponent($("c-domain").value.trim()));
      $("check-summary").textContent = `${r.domain}: ${r.would_deliver ? "would deliver" : "would not deliver"}${r.reason ? " — " + r.reason : ""}`;
      table("check", ["MX host", "Addresses", "STARTTLS", "TLS", "Certificate", "DANE", "MTA-STS", "Verdict"], r.mx.map((m) =>
        el("tr", { "data-host": m.host }, el("td", {}, m.preference === null ? m.host : `${m.host} (${m.preference})`), el("td", {}, (m.addresses || []).join(" ")),
          el("td", {}, m.starttls ? "yes" : "no"), el("td", {}, m.tls_version || "-"), el("td", {}, m.certificate ? m.certificate.verdict : "-"),
          el("td", {}, m.dane || "-"), el("td", {}, m.mta_sts || "-"),
          el("td", {}, (m.would_deliver ? "would deliver" : "would not deliver") + (m.reason ? ": " + m.reason : "")))));
    });
  }

  // Blocks and suppressions, each entry with remove.
  const LISTS = [
    ["blocks", "/v3/suppression/blocks", (e) => "/v3/suppression/blocks/" + e],
    ["bounces", "/v3/suppression/bounces", (e) => "/v3/suppression/bounces/" + e],
    ["invalid_emails", "/v3/suppression/invalid_emails", (e) => "/v3/suppression/invalid_emails/" + e],
    ["unsubscribes", "/v3/suppression/unsubscribes", (e) => "/v3/asm/suppressions/global/" + e],
  ];

  async function loadLists() {
    for (const [name, path, item] of LISTS) {
      const rows = await api("GET", path);
      table("list-" + name, ["Email", "Reason", "Since", ""], rows.map((r) => {
        const remove = el("button", { type: "button", "data-remove": r.email }, "Remove");
        remove.addEventListener("click", () => guarded(async () => {
          await api("DELETE", item(encodeURIComponent(r.email)));
          await loadLists();
        }));
        return el("tr", { "data-email": r.email }, el("td", {}, r.email), el("td", {}, r.reason || ""),
          el("td", {}, new Date(r.created * 1000).toISOString().slice(0, 10)), el("td", {}, remove));
      }));
    }
  }

  const VIEWS = { overview: loadOverview, whatif: async () => {}, domains: loadDomains, lists: loadLists };
  let current = "overview";

  async function show(view) {
    current = view;
    for (const b of document.querySelectorAll("nav button")) {
      if (b.dataset.view === view) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
    }
    for (const name of Object.keys(VIEWS)) $("view-" + name).hidden = name !== view;
    await guarded(VIEWS[view]);
  }

  async function loadAccounts() {
    const select = $("actas");
    select.replaceChildren(el("option", { value: "" }, "My account"));
    const acting = sessionStorage.getItem(ACT) || "";
    sessionStorage.removeItem(ACT);
    try {
      const subusers = await api("GET", "/v3/subusers");
      for (const s of subusers) select.append(el("option", { value: s.username }, "Subuser " + s.username));
    } catch (_) { /* a subuser or a narrow key lists none */ }
    if (acting) {
      if (![...select.options].some((o) => o.value === acting)) select.append(el("option", { value: acting }, acting));
      select.value = acting;
      sessionStorage.setItem(ACT, acting);
    }
  }

  async function enter() {
    $("signin-view").hidden = true;
    $("app").hidden = false;
    await loadAccounts();
    await show(current);
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ACT);
    $("app").hidden = true;
    $("signin-view").hidden = false;
    $("apikey").value = "";
    $("apikey").focus();
  }

  async function signIn(ev) {
    ev.preventDefault();
    $("signin-error").textContent = "";
    sessionStorage.setItem(KEY, $("apikey").value.trim());
    try {
      await api("GET", "/v3/user/settings/enforced_tls");
    } catch (e) {
      sessionStorage.removeItem(KEY);
      $("signin-error").textContent = e.message;
      return;
    }
    $("apikey").value = "";
    await enter();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin").addEventListener("submit", signIn);
    $("signout").addEventListener("click", signOut);
    $("settings").addEventListener("submit", saveSettings);
    $("whatif").addEventListener("submit", whatIf);
    $("domain-form").addEventListener("submit", saveDomain);
    $("check-form").addEventListener("submit", check);
    for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => show(b.dataset.view));
    $("actas").addEventListener("change", () => {
      const v = $("actas").value;
      if (v) sessionStorage.setItem(ACT, v); else sessionStorage.removeItem(ACT);
      show(current);
    });
    $("customer").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const id = $("account-id").value.trim();
      if (!/^[0-9]+$/.test(id)) { showError(new Error("account id must be a number")); return; }
      const v = "account-id " + id;
      if (![...$("actas").options].some((o) => o.value === v)) $("actas").append(el("option", { value: v }, "Customer " + id));
      $("actas").value = v;
      sessionStorage.setItem(ACT, v);
      show(current);
    });
    if (sessionStorage.getItem(KEY)) enter(); else $("apikey").focus();
  });
})();
