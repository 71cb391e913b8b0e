// The admin area's script, on every admin page. The Content-Security-Policy runs no inline
// handler, so forms say what they need in data attributes:
//   <form data-confirm="Question?">   asks before it is sent;
//   <select data-autosubmit>          sends its form when the choice changes.
(function () {
  "use strict";
  document.addEventListener("submit", (event) => {
    const question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
})();

// Live monitor of the admin area: follows /display (read-only) and redraws only on events.
// protocol.js decides what each message is (apply, ignore, resync) and asks for the snapshots.
(function () {
  "use strict";
  const monitor = document.getElementById("monitor");
  if (!monitor) return;
  const texts = JSON.parse(document.getElementById("texts").textContent);
  const displaysUrl = monitor.dataset.displaysUrl;
  const state = { day: "", services: [], agencies: {}, counters: new Map(), calls: [], waits: [] };
  let serverOffsetMs = 0; // server clock - browser clock, from the snapshot's "now"
  let breakTimer = null;
  let waitTimer = null; // redraws the waits while someone waits in a queue with a target
  let waitsFetch = null; // a pending fetch of the longest waits, after a burst of events
  let waitsAsked = 0;
  const lateCard = document.getElementById("late-card");

  // lane=view: a reverse proxy sends watching clients to the fan-out workers (docs/install.md).
  const socket = io("/display", { auth: { display: "admin-monitor" }, query: { lane: "view" } });
  const conn = document.getElementById("conn");

  function setConnected(ok) {
    conn.textContent = ok ? texts.live : texts.offline;
    conn.className = "badge " + (ok ? "ok" : "bad");
  }
  socket.on("connect", () => { setConnected(true); refreshDisplays(); });
  socket.on("disconnect", () => setConnected(false));
  socket.on("connect_error", () => setConnected(false));

  function applySnapshot(snap) {
    state.day = snap.day;
    serverOffsetMs = Date.parse(snap.now) - Date.now();
    state.services = snap.services;
    state.agencies = Object.fromEntries(snap.agencies.map((a) => [a.code, a.name]));
    state.counters = new Map(snap.counters.map((c) => [c.number, c]));
    state.calls = snap.recent_calls.slice(0, 8);
    render();
    fetchWaits();
  }

  function applyEvent(name, msg, step) {
    if (step.decision === PanggilProtocol.RESYNC) {  // the snapshot asked for redraws everything
      if (name === "day_closed" || name === "hall_changed") refreshDisplays();
      return;
    }
    // Events carry total waiting counts but not the priority share: a priority ticket resyncs.
    if (msg.ticket && msg.ticket.priority) { stream.resync("priority"); return; }
    for (const [code, n] of Object.entries(msg.waiting || {})) {
      const s = state.services.find((x) => x.code === code);
      if (s) s.waiting = n;
    }
    for (const [code, since] of Object.entries(msg.oldest_waiting_since || {})) {
      const s = state.services.find((x) => x.code === code);
      if (s) s.oldest_waiting_since = since;
    }
    if (msg.ticket) scheduleWaits();
    if (msg.counter) state.counters.set(msg.counter.number, msg.counter);
    if (msg.call) state.calls = [msg.call].concat(state.calls).slice(0, 8);
    render();
  }

  const stream = PanggilProtocol.follow(socket, { snapshot: applySnapshot, event: applyEvent });

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  }

  function fill(tbody, rows) { tbody.replaceChildren(...rows); }

  function render() {
    document.getElementById("day").textContent = state.day;
    renderWaits();
    const counters = Array.from(state.counters.values()).sort((a, b) => a.number - b.number);
    fill(document.querySelector("#counters tbody"), counters.map((c) => {
      const cur = c.current;
      const status = c.state === "break" ? ["warn", texts.on_break]
        : cur ? ["ok", texts.serving] : c.active ? ["", texts.free] : ["bad", texts.inactive];
      return el("tr", { "data-counter": String(c.number), class: c.active ? "" : "dim" },
        el("td", {}, el("strong", {}, c.name)),
        el("td", { class: "officer" + (c.officer ? "" : " muted small") },
          c.officer ? c.officer.full_name || texts.unnamed_officer : "–"),
        el("td", { class: "ticket" }, cur ? cur.number : "–",
          cur && cur.called_at ? el("span", { class: "muted small" }, " " + texts.since + " " + cur.called_at.slice(11, 16)) : ""),
        el("td", {}, el("span", { class: "badge " + status[0] }, status[1]), breakDetail(c)),
        el("td", { class: "num" }, String(c.served_today)));
    }));
    // Break minutes move with the clock: redraw twice a minute while a counter is on break only.
    const anyBreak = counters.some((c) => c.state === "break");
    if (anyBreak && !breakTimer) breakTimer = setInterval(render, 30000);
    if (!anyBreak && breakTimer) { clearInterval(breakTimer); breakTimer = null; }
    const calls = document.getElementById("calls");
    calls.replaceChildren(...(state.calls.length ? state.calls.map((call) => el("li", {},
      el("strong", {}, call.ticket.number), " → " + call.counter.name + " ",
      el("span", { class: "muted small" }, call.at.slice(11, 16)))) : [el("li", { class: "muted" }, texts.no_calls)]));
  }

  // Whole minutes since an ISO time on the server's clock; past a target once above it
  // (server/targets.py: 30 minutes with a target of 30 is still within it).
  function minutesSince(iso) {
    return Math.max(0, Math.floor((Date.now() + serverOffsetMs - Date.parse(iso)) / 60000));
  }
  function isLate(minutes, target) { return target != null && minutes > target; }

  // The services table and the list of tickets past target: both move with the clock, so a
  // timer redraws them every few seconds while anyone waits in a queue that has a target.
  function renderWaits() {
    fill(document.querySelector("#services tbody"), state.services.map((s) => {
      const minutes = s.oldest_waiting_since ? minutesSince(s.oldest_waiting_since) : null;
      const late = minutes !== null && isLate(minutes, s.target_wait);
      const parts = []; // "menunggu 42 mnt, target 30", wrapped at the comma only
      if (minutes !== null) parts.push(texts.waited.replace("%(n)s", String(minutes)));
      if (s.target_wait) parts.push(texts.target.replace("%(n)s", String(s.target_wait)));
      const waitText = parts.flatMap((p, i) => (i ? [", "] : []).concat([el("span", { class: "nowrap" }, p)]));
      return el("tr", { "data-service": s.code, class: (s.active ? "" : "dim") + (late ? " late" : "") },
        el("td", {}, el("span", { class: "prefix small" }, s.prefix), " " + s.name,
          s.active ? "" : el("span", { class: "badge bad" }, texts.closed),
          late ? el("span", { class: "badge bad late-badge" }, texts.past_target) : ""),
        el("td", { class: "muted" }, state.agencies[s.agency] || s.agency),
        el("td", { class: "num big" + (s.waiting ? "" : " muted") }, String(s.waiting)),
        el("td", { class: "num" }, String(s.priority_waiting || 0)),
        el("td", { class: "wait" + (late ? " late-text" : minutes === null ? " muted" : "") },
          ...(waitText.length ? waitText : ["–"])));
    }));
    const byCode = Object.fromEntries(state.services.map((s) => [s.code, s]));
    const late = [];
    for (const w of state.waits) {
      const s = byCode[w.code];
      if (!s || !s.target_wait) continue;
      for (const t of w.tickets) {
        const minutes = minutesSince(t.waiting_since);
        if (isLate(minutes, s.target_wait)) late.push({ ticket: t, service: s, minutes });
      }
    }
    late.sort((a, b) => b.minutes - a.minutes);
    lateCard.hidden = !state.services.some((s) => s.target_wait); // a hall without targets
    const count = document.getElementById("late-count");
    count.textContent = String(late.length);
    count.className = "badge" + (late.length ? " bad" : "");
    fill(document.querySelector("#late tbody"), late.length ? late.map((x) => el("tr",
      { "data-ticket": x.ticket.number, class: "late" },
      el("td", { class: "ticket" }, x.ticket.number),
      el("td", {}, x.service.name),
      el("td", { class: "muted" }, x.ticket.waiting_since.slice(11, 16)),
      el("td", { class: "late-text" }, texts.waited.replace("%(n)s", String(x.minutes)) + ", "
        + texts.target.replace("%(n)s", String(x.service.target_wait)))))
      : [el("tr", {}, el("td", { colspan: "4", class: "muted" }, texts.no_late))]);
    const anyWait = state.services.some((s) => s.target_wait && s.oldest_waiting_since);
    if (anyWait && !waitTimer) waitTimer = setInterval(renderWaits, 5000);
    if (!anyWait && waitTimer) { clearInterval(waitTimer); waitTimer = null; }
  }

  // The tickets behind the counts are not in the events: fetched after a burst of ticket events
  // (and with every snapshot), only while some service has a target.
  function scheduleWaits() {
    if (!waitsFetch) waitsFetch = setTimeout(fetchWaits, 500);
  }
  function fetchWaits() {
    if (waitsFetch) { clearTimeout(waitsFetch); waitsFetch = null; }
    if (!state.services.some((s) => s.target_wait)) {
      state.waits = [];
      renderWaits();
      return;
    }
    const asked = ++waitsAsked; // an older answer arriving last must not win
    fetch(lateCard.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((data) => { if (asked === waitsAsked) { state.waits = data.services; renderWaits(); } })
      .catch(() => {});
  }

  // "(sholat) · 12 min · back at 13:00" beside the badge of a counter on break.
  // "13:00" as the page's language writes a time of day: 13.00 in Indonesian (as on the TVs).
  function clockText(hhmm) {
    return document.documentElement.lang === "id" ? hhmm.replace(":", ".") : hhmm;
  }

  function breakDetail(c) {
    if (c.state !== "break" || !c.break) return "";
    const b = c.break;
    const minutes = Math.max(0, Math.floor((Date.now() + serverOffsetMs - Date.parse(b.since)) / 60000));
    let text = " (" + (texts.reasons[b.reason] || b.reason) + ") · "
      + texts.break_minutes.replace("%(n)s", String(minutes));
    if (b.until) text += " · " + texts.back_at + " " + clockText(b.until);
    return el("span", { class: "small break-detail", "data-since": b.since }, text);
  }

  // Connections are not broadcast events: the list is fetched now and then.
  function refreshDisplays() {
    fetch(displaysUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((data) => {
        document.getElementById("displays-count").textContent = data.online + " / " + data.displays.length;
        const items = data.displays.map((d) => el("li", { "data-display": d.name },
          el("span", { class: "badge " + (d.online ? "ok" : "bad") }, d.online ? texts.online : texts.offline_display),
          " " + d.name));
        document.getElementById("displays").replaceChildren(
          ...(items.length ? items : [el("li", { class: "muted" }, texts.no_displays)]));
      })
      .catch(() => {});
  }
  setInterval(refreshDisplays, 15000);
})();
