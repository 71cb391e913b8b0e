// Officer console: one counter's buttons and live state over Socket.IO (/counter), as in
// docs/protocol.md. Every press gets a fresh request id; a press whose answer is lost in a drop is
// sent again with the SAME id once the link is back (the server applies it once). Presses while
// disconnected are refused on screen, never queued.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("console-data").textContent);
  const T = data.texts;
  const $ = (id) => document.getElementById(id);
  const root = $("console");
  const commandButtons = Array.from(document.querySelectorAll("button[data-command]"));
  const breakButtons = Array.from(document.querySelectorAll("button[data-break]"));
  const reasonButtons = Array.from(document.querySelectorAll("#pause-reasons button[data-reason]"));
  const officerButtons = Array.from(document.querySelectorAll("button[data-officer]"));
  const NEEDS_TICKET = ["recall", "skip", "finish", "transfer"];

  let state = null; // {seq, me, services: {code: service}, skipped: [ticket]}
  let serverOffsetMs = 0; // server clock - browser clock, from the snapshot's "now"
  let inFlight = null; // the command being sent
  let refusal = null; // the error code of a refused connection
  let tickTimer = null;
  let waitTimer = null; // redraws the waits while someone waits in this counter's queues
  let lastFocus = null;
  // Signing in by itself: tried once per connection, and never again after the officer signed out
  // on this page (a reconnect must not sign back in someone who has left the desk).
  let signInTried = false;
  let keepSignedOut = false;

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, (_, name) => (name in values ? String(values[name]) : ""));
  }

  function errorText(code, serverMessage) {
    return data.errors[code] || serverMessage || code;
  }

  function newRequestId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  // --- the connection ---------------------------------------------------------------------------

  const socket = io("/counter", {
    auth: { counter: data.counter, token: data.token },
    transports: ["websocket"],
    reconnectionDelayMax: 5000,
  });

  socket.on("connect", () => {
    refusal = null;
    signInTried = false;
    render();
  });
  socket.on("disconnect", () => render());
  socket.on("connect_error", (err) => {
    const code = err && err.data && err.data.error;
    refusal = code || null;
    // A refused namespace is not retried by socket.io; a fixed token or a reactivated counter
    // should work without a reload, so try again now and then.
    if (code && !socket.active) setTimeout(() => socket.connect(), 5000);
    render();
  });

  // protocol.js decides what each message is (apply, ignore, resync) and asks for the snapshots.
  PanggilProtocol.follow(socket, { snapshot: applySnapshot, event: applyEvent });

  function applySnapshot(snap) {
    serverOffsetMs = Date.parse(snap.now) - Date.now();
    const services = {};
    for (const s of snap.services) services[s.code] = s;
    state = { me: snap.me, services, skipped: snap.skipped || [], hall: snap.hall_status || null };
    render();
    maybeSignIn();
  }

  function isMe(officer) {
    return !!officer && officer.username === data.user.username;
  }

  // The page's user signs in by itself when nobody is signed in here; an officer also replaces
  // whoever left without signing out (it is their desk now), while an admin who opens a console
  // where an officer works only gets the button: a look must not take over someone's desk.
  function maybeSignIn() {
    if (signInTried || keepSignedOut || !state || inFlight || !socket.connected) return;
    signInTried = true;
    const officer = state.me.officer;
    if (isMe(officer)) return;
    if (!officer || data.user.role === "officer") press("sign_in");
  }

  function applyEvent(name, event, step) {
    if (step.decision === PanggilProtocol.RESYNC) return; // the snapshot asked for redraws all
    for (const [code, count] of Object.entries(event.waiting || {})) {
      if (state.services[code]) state.services[code].waiting = count;
    }
    for (const [code, since] of Object.entries(event.oldest_waiting_since || {})) {
      if (state.services[code]) state.services[code].oldest_waiting_since = since;
    }
    if (event.counter && event.counter.number === state.me.number) state.me = event.counter;
    const t = event.ticket;
    if (t) {
      state.skipped = state.skipped.filter((s) => s.id !== t.id);
      if (t.status === "skipped" && state.me.services.includes(t.service)) state.skipped.push(t);
    }
    render();
  }

  // --- presses ----------------------------------------------------------------------------------

  // Emit once; resolves with the acknowledgement, or null when the link dropped or stayed silent.
  function sendOnce(command, payload) {
    return new Promise((resolve) => {
      if (!socket.connected) return resolve(null);
      let done = false;
      const finish = (reply) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.off("disconnect", onDrop);
        resolve(reply);
      };
      const onDrop = () => finish(null);
      const timer = setTimeout(() => {
        finish(null);
        // The link looks alive but the server is silent: renew it so the retry has a path.
        if (socket.connected && socket.io.engine) socket.io.engine.close();
      }, data.ackTimeoutMs);
      socket.on("disconnect", onDrop);
      socket.emit(command, payload, (reply) => finish(reply || { ok: false, error: "internal-error" }));
    });
  }

  function waitConnected(ms) {
    return new Promise((resolve) => {
      if (socket.connected) return resolve(true);
      const timer = setTimeout(() => {
        socket.off("connect", onConnect);
        resolve(false);
      }, Math.max(0, ms));
      const onConnect = () => {
        clearTimeout(timer);
        resolve(true);
      };
      socket.once("connect", onConnect);
    });
  }

  async function press(command, args) {
    if (inFlight) return; // the buttons are disabled; a key repeat lands here
    if (!socket.connected) {
      say(T.offline, true);
      return;
    }
    inFlight = command;
    closePanels();
    say(T.sending, false, "pending");
    render();
    const payload = Object.assign({ request_id: newRequestId() }, args || {});
    const deadline = Date.now() + data.retryWindowMs;
    try {
      for (;;) {
        const reply = await sendOnce(command, payload);
        if (reply) {
          showReply(command, reply);
          return;
        }
        say(T.retrying, false, "pending");
        if (!(await waitConnected(deadline - Date.now()))) {
          say(T.notDelivered, true);
          return;
        }
      }
    } finally {
      inFlight = null;
      render();
      maybeSignIn();
    }
  }

  function showReply(command, reply) {
    if (!reply.ok) {
      say(errorText(reply.error, reply.message), true);
      return;
    }
    const r = reply.result || {};
    const number = r.ticket ? r.ticket.number : "?";
    let text;
    if (command === "call_next" || command === "call_ticket") {
      text = r.finished ? fill(T.callingFinished, { number, finished: r.finished.number }) : fill(T.calling, { number });
    } else if (command === "recall") {
      text = fill(T.recalled, { number });
    } else if (command === "skip") {
      text = fill(T.skipped, { number });
    } else if (command === "finish") {
      text = fill(T.finished, { number });
    } else if (command === "pause" || command === "resume") {
      if (r.counter && state && r.counter.number === state.me.number) state.me = r.counter;
      text = command === "pause" ? T.paused : T.resumed;
    } else if (command === "sign_in" || command === "sign_out") {
      if (r.counter && state && r.counter.number === state.me.number) state.me = r.counter;
      const officer = r.counter && r.counter.officer;
      text = officer ? fill(T.signedIn, { name: officer.full_name || officer.username }) : T.signedOut;
    } else {
      const service = state && state.services[r.ticket.service];
      text = fill(T.transferred, { number, service: service ? service.name : r.ticket.service });
    }
    say(text + (reply.replayed ? T.replayed : ""), false, "ok");
  }

  function say(text, isError, kind) {
    const el = $("message");
    el.textContent = text;
    el.className = "message " + (isError ? "error" : kind || "ok");
    el.setAttribute("role", isError ? "alert" : "status");
  }

  // --- panels: transfer and call by number ------------------------------------------------------

  function openTransfer() {
    const current = state && state.me.current;
    if (!current) return;
    const targets = Object.values(state.services).filter((s) => s.active && s.code !== current.service);
    const box = $("transfer-targets");
    box.replaceChildren();
    if (!targets.length) {
      say(T.noTargets, true);
      return;
    }
    $("transfer-title").textContent = fill(T.transferTitle, { number: current.number });
    targets.slice(0, 9).forEach((s, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "target";
      b.dataset.service = s.code;
      const key = document.createElement("kbd");
      key.textContent = String(i + 1);
      const name = document.createElement("span");
      name.textContent = s.name;
      b.append(key, " ", name);
      b.addEventListener("click", () => press("transfer", { service: s.code }));
      box.appendChild(b);
    });
    showPanel("transfer-panel");
    box.querySelector("button").focus();
  }

  function openPause() {
    showPanel("pause-panel");
    $("pause-until").value = "";
    reasonButtons[0].focus();
  }

  function openCall() {
    showPanel("call-panel");
    const input = $("call-number");
    input.value = "";
    input.focus();
  }

  function showPanel(id) {
    lastFocus = document.activeElement;
    closePanels();
    $(id).hidden = false;
    $(id).scrollIntoView({ block: "nearest" }); // a short laptop screen would hide it below the fold
  }

  function closePanels() {
    const panels = ["transfer-panel", "call-panel", "pause-panel"].map($);
    const open = panels.some((p) => !p.hidden);
    for (const p of panels) p.hidden = true;
    if (open && lastFocus && lastFocus.focus) lastFocus.focus();
  }

  $("call-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const number = $("call-number").value.trim().toUpperCase();
    if (!/^[A-Z]{1,2}\d{1,4}$/.test(number)) {
      say(T.typeNumber, true);
      $("call-number").focus();
      return;
    }
    press("call_ticket", { number });
  });
  document.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", closePanels));

  // A booked visitor at the desk: the booking becomes a ticket in the queue (server/bookings.py).
  $("checkin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const code = $("checkin-code").value.trim();
    if (!code) { $("checkin-code").focus(); return; }
    $("checkin-submit").disabled = true;
    fetch(data.checkinUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "Authorization": "Bearer " + data.token },
      body: JSON.stringify({ code }),
    }).then((r) => r.json().catch(() => ({ ok: false })))
      .then((answer) => {
        if (!answer.ok) { say(answer.message || T.offline, true); return; }
        const t = answer.ticket;
        const text = answer.replayed ? T.checkedInAgain : T.checkedIn;
        say(fill(text, { code: answer.booking.code, number: t.number, ahead: answer.ahead,
                         service: ((state && state.services[t.service]) || {}).name || t.service }));
        $("checkin-code").value = "";
      })
      .catch(() => say(T.offline, true))
      .finally(() => { $("checkin-submit").disabled = false; });
  });

  for (const button of reasonButtons) {
    button.addEventListener("click", () => {
      const until = $("pause-until").value; // "HH:MM" from a time input, or ""
      press("pause", until ? { reason: button.dataset.reason, until } : { reason: button.dataset.reason });
    });
  }

  for (const button of breakButtons) {
    button.addEventListener("click", () => {
      if (button.dataset.break === "pause") openPause();
      else press("resume");
    });
  }

  for (const button of officerButtons) {
    button.addEventListener("click", () => {
      keepSignedOut = button.dataset.officer === "sign_out";
      press(button.dataset.officer);
    });
  }

  for (const button of commandButtons) {
    button.addEventListener("click", () => {
      const command = button.dataset.command;
      if (command === "transfer") openTransfer();
      else if (command === "call_ticket") openCall();
      else press(command);
    });
  }

  // Shortcuts: the letter on each button, or the numeric keypad keys of the hardware client.
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    if (e.key === "Escape") {
      closePanels();
      return;
    }
    const typing = e.target && (e.target.tagName === "INPUT" || e.target.tagName === "TEXTAREA");
    if (typing) return;
    if (!$("pause-panel").hidden && /^[1-9]$/.test(e.key)) {
      const reason = reasonButtons[Number(e.key) - 1];
      if (reason) {
        e.preventDefault();
        reason.click();
      }
      return;
    }
    if (!$("transfer-panel").hidden && /^[1-9]$/.test(e.key)) {
      const target = $("transfer-targets").querySelectorAll("button")[Number(e.key) - 1];
      if (target) {
        e.preventDefault();
        target.click();
      }
      return;
    }
    const key = e.code === "NumpadEnter" ? "+" : e.key;
    const button = commandButtons.concat(breakButtons.filter((b) => !b.hidden)).find(
      (b) => b.dataset.key === key.toLowerCase() || (b.dataset.keypad && b.dataset.keypad === key)
    );
    if (button) {
      e.preventDefault();
      if (!button.disabled) button.click();
      else if (!socket.connected) say(T.offline, true); // refused visibly, not queued
    }
  });

  // --- drawing ----------------------------------------------------------------------------------

  function clock(iso) {
    // The server sends local hall time: show it as written there (09.12 in Indonesian).
    return clockText(iso ? iso.slice(11, 16) : "—");
  }

  function clockText(hhmm) {
    return document.documentElement.lang === "id" ? hhmm.replace(":", ".") : hhmm;
  }

  function duration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  }

  function tick() {
    const current = state && state.me.current;
    if (!current || !current.called_at) return;
    $("served-for").textContent = duration(Date.now() + serverOffsetMs - Date.parse(current.called_at));
  }

  function render() {
    const connected = socket.connected;
    const conn = connected ? "connected" : refusal ? "refused" : state ? "disconnected" : "connecting";
    root.dataset.connection = conn;
    const connEl = $("connection");
    connEl.className = "connection " + conn;
    connEl.textContent =
      conn === "refused" ? fill(T.refused, { reason: errorText(refusal) }) : T[conn];
    const offline = $("offline");
    offline.hidden = connected || conn === "connecting";
    offline.textContent = conn === "refused" ? connEl.textContent : T.offline + " " + T.reconnecting;

    const me = state && state.me;
    const current = me && me.current;
    const onBreak = !!me && me.state === "break";
    renderBreak(me, onBreak, connected);
    renderHallBreak();
    renderOfficer(me, connected);
    $("current-number").textContent = current ? current.number : T.nobody;
    $("current-number").classList.toggle("none", !current);
    $("current-detail").textContent = current
      ? fill(T.detail, {
          service: (state.services[current.service] || {}).name || current.service,
          time: clock(current.called_at),
          calls: current.calls,
        })
      : "";
    $("served-for-row").hidden = !current;
    if (current && !tickTimer) tickTimer = setInterval(tick, 1000);
    if (!current && tickTimer) {
      clearInterval(tickTimer);
      tickTimer = null;
    }
    tick();

    renderWaiting(me);
    $("served-today").textContent = me ? String(me.served_today) : "0";

    const skipped = $("skipped");
    skipped.replaceChildren();
    for (const t of state ? state.skipped : []) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "call-back";
      b.dataset.number = t.number;
      b.textContent = `${T.call} ${t.number}`;
      b.disabled = !connected || !!inFlight || onBreak;
      b.addEventListener("click", () => press("call_ticket", { number: t.number }));
      li.appendChild(b);
      skipped.appendChild(li);
    }
    if (!state || !state.skipped.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = T.noSkipped;
      skipped.appendChild(li);
    }

    for (const b of commandButtons) {
      const command = b.dataset.command;
      b.disabled =
        !connected || !state || !!inFlight || onBreak || (NEEDS_TICKET.includes(command) && !current);
      b.classList.toggle("busy", inFlight === command);
      b.setAttribute("aria-busy", inFlight === command ? "true" : "false");
    }
    $("call-submit").disabled = !connected || !!inFlight || onBreak;
    for (const b of reasonButtons) b.disabled = !connected || !!inFlight;
  }

  // Whole minutes since an ISO time on the server's clock; past a target once above it
  // (server/targets.py: 30 minutes with a target of 30 is still within it).
  function minutesSince(iso) {
    return Math.max(0, Math.floor((Date.now() + serverOffsetMs - Date.parse(iso)) / 60000));
  }

  // Each queue's count and longest wait, and the longest wait of all ("Terlama menunggu: 37
  // mnt"), red once a queue is past its target; redrawn by a timer, as minutes pass without events.
  function renderWaiting(me) {
    const waiting = $("waiting");
    waiting.replaceChildren();
    let longest = null;
    let late = null; // the first queue past its target
    for (const code of me ? me.services : []) {
      const s = state.services[code];
      if (!s) continue;
      const li = document.createElement("li");
      li.dataset.service = code;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = s.name + (s.active ? "" : ` (${T.closed})`);
      if (s.oldest_waiting_since) {
        const minutes = minutesSince(s.oldest_waiting_since);
        const isLate = s.target_wait != null && minutes > s.target_wait;
        if (longest === null || minutes > longest) longest = minutes;
        if (isLate && late === null) late = s;
        const oldest = document.createElement("span");
        oldest.className = "oldest-of" + (isLate ? " late" : "");
        oldest.textContent = fill(T.minutes, { n: minutes });
        name.appendChild(oldest);
      }
      const count = document.createElement("strong");
      count.className = "count";
      count.textContent = String(s.waiting);
      li.append(name, count);
      waiting.appendChild(li);
    }
    const line = $("oldest");
    line.hidden = longest === null;
    line.classList.toggle("late", late !== null);
    line.textContent = longest === null ? "" : fill(T.oldest, { n: longest })
      + (late !== null ? " · " + fill(T.pastTarget, { service: late.name, n: late.target_wait }) : "");
    if (longest !== null && !waitTimer) waitTimer = setInterval(() => renderWaiting(state.me), 5000);
    if (longest === null && waitTimer) {
      clearInterval(waitTimer);
      waitTimer = null;
    }
  }

  // The banner while on a break ("Istirahat (sholat) · kembali 13.00"), and which of pause and
  // resume is offered: only the one that applies, so its shortcut is the only one that works.
  function renderBreak(me, onBreak, connected) {
    const banner = $("break-banner");
    banner.hidden = !onBreak;
    if (onBreak) {
      const info = me.break || {};
      const reason = data.reasons[info.reason] || info.reason || "";
      let text = fill(T.onBreak, { reason });
      if (info.until) text += " · " + fill(T.backAt, { time: clockText(info.until) });
      $("break-text").textContent = text;
      $("break-since").textContent = info.since ? fill(T.since, { time: clock(info.since) }) : "";
      if (!$("call-panel").hidden || !$("transfer-panel").hidden) closePanels();
    }
    for (const b of breakButtons) {
      b.hidden = !me || (b.dataset.break === "pause") === onBreak;
      b.disabled = !connected || !me || !!inFlight;
      b.classList.toggle("busy", inFlight === b.dataset.break);
    }
  }

  // A break of the whole hall (Friday prayer): calls are refused until it ends, so say so before
  // anyone presses; the snapshot that follows the server's hall_changed clears it.
  function renderHallBreak() {
    const hall = state && state.hall;
    const banner = $("hall-banner");
    banner.hidden = !hall || hall.state !== "break";
    if (!banner.hidden) {
      banner.textContent = fill(T.hallBreak, { label: hall.label || "", time: clock(hall.until) });
    }
  }

  // "Petugas: Budi Santoso", and the sign-in or sign-out that applies.
  function renderOfficer(me, connected) {
    const officer = me ? me.officer : null;
    const mine = isMe(officer);
    const el = $("officer");
    el.textContent = officer ? fill(T.officer, { name: officer.full_name || officer.username }) : T.noOfficer;
    el.className = "officer " + (!officer ? "none" : mine ? "mine" : "other");
    for (const b of officerButtons) {
      b.hidden = !me || (b.dataset.officer === "sign_in" ? mine : !officer);
      b.disabled = !connected || !!inFlight;
    }
  }

  render();
})();
