/* Panggil visitor page: follows one ticket over the /visitor namespace (docs/protocol.md).
   The slip's (tokened) page gets its own ticket's events in full and a coalesced `queue_moved`
   summary of its service, from which it counts the people ahead and the estimate itself; it
   never sees the hall's seq stream. On a bare number's page (data-mode="number") the page knows
   only whether the number was called and where to. Every (re)connect brings a fresh
   `ticket_status`; a summary that contradicts the page (its number missing from the queue while
   it waits) makes it ask again with `get_status`. */
(function () {
  "use strict";

  var card = document.getElementById("ticket");
  var T = JSON.parse(document.getElementById("texts").textContent);
  var view = JSON.parse(document.getElementById("view").textContent);
  var statusSeq = -1;  // the hall seq the last ticket_status was built at: older messages are stale
  var askTimer = 0;
  var baseTitle = document.title;
  var bare = card.dataset.mode === "number";

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function line(className, text) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  }

  function counterName() {
    return view.call && view.call.counter ? view.call.counter.name : T.counter_fallback;
  }

  function renderBare() {
    var box = document.getElementById("state");
    box.textContent = "";
    card.classList.toggle("v-called", view.called);
    card.classList.toggle("v-waiting", !view.called);
    box.appendChild(line("v-headline", view.called ?
      fill(T.called_to, { counter: view.counter ? view.counter.name : T.counter_fallback }) : T.not_called));
  }

  function render() {
    if (bare) { renderBare(); return; }
    var ticket = view.ticket;
    var box = document.getElementById("state");
    box.textContent = "";
    card.className = card.className.replace(/\bv-(waiting|called|skipped|done|cancelled|expired)\b/g, "").trim() +
      " v-" + ticket.status;
    document.title = baseTitle;
    if (ticket.status === "waiting") {
      box.appendChild(line("v-headline", T.waiting));
      box.appendChild(line("v-ahead", view.ahead ? fill(T.ahead, { n: view.ahead }) : T.none_ahead));
      var minutes = view.estimate_minutes;
      box.appendChild(line("v-estimate", minutes === null || minutes === undefined ? T.no_estimate :
        (minutes === 1 ? T.estimate_one : fill(T.estimate, { n: minutes }))));
      // The service takes no numbers now (a break, closing time): say why and when it opens.
      if (view.service.closed_text) box.appendChild(line("v-closed", view.service.closed_text));
    } else if (ticket.status === "called") {
      var recall = view.call && view.call.kind === "recall";
      box.appendChild(line("v-headline", fill(recall ? T.recalled : T.called, { counter: counterName() })));
      document.title = "\u25B6 " + ticket.number + " \u2192 " + counterName();
    } else if (ticket.status === "skipped") {
      box.appendChild(line("v-headline", fill(T.skipped, { counter: counterName() })));
    } else {
      box.appendChild(line("v-headline", T[ticket.status] || ticket.status));
    }
    document.getElementById("service-name").textContent = view.service.name;
    var survey = document.getElementById("survey-link");  // the SKM survey, once served
    if (survey) survey.hidden = ticket.status !== "done";
    almost();
    whenStatusChanges();
  }

  // --- "Almost your turn" -------------------------------------------------------------------
  // A banner while few people are ahead (the service's alert_ahead); a sound and a vibration once
  // when the page first sees it (kept per ticket across reloads), and at every call. Browsers play
  // sound only after a tap: the button turns it on, and says what this phone can and cannot do.
  var alerts = { ctx: null, lock: null };
  var almostKey = "panggil-almost-" + (view.ticket && view.ticket.id);

  function remembered() {
    try { return sessionStorage.getItem(almostKey) === "1"; } catch (e) { return false; }
  }

  function remember() {
    try { sessionStorage.setItem(almostKey, "1"); } catch (e) { /* private mode: may ring again */ }
  }

  function almost() {
    var banner = document.getElementById("almost");
    var panel = document.getElementById("alerts");
    if (!banner || bare) return;
    var waiting = view.ticket.status === "waiting";
    var limit = view.service.alert_ahead || 0;
    var near = waiting && limit > 0 && typeof view.ahead === "number" && view.ahead <= limit;
    banner.hidden = !near;
    panel.hidden = !(waiting || view.ticket.status === "called");
    if (!near) return;
    banner.textContent = view.ahead ? T.almost : T.almost_next;
    if (!remembered()) {
      remember();
      signal([660, 880], [250, 150, 250]);
      document.title = "\u23F0 " + T.almost_title + " \u00B7 " + view.ticket.number;
    }
  }

  // Tones made on the page (nothing to download): [frequency, ...] half a second apart.
  function ring(tones) {
    var ctx = alerts.ctx;
    if (!ctx) return;
    var start = ctx.currentTime + 0.05;
    tones.forEach(function (frequency, i) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      var at = start + i * 0.5;
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.6, at + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.45);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.5);
    });
  }

  function signal(tones, vibration) {
    ring(tones);
    if (navigator.vibrate) navigator.vibrate(vibration);
  }

  function keepAwake() {
    if (!navigator.wakeLock || document.visibilityState !== "visible") return Promise.resolve(false);
    return navigator.wakeLock.request("screen")
      .then(function (lock) { alerts.lock = lock; return true; })
      .catch(function () { return false; });
  }

  function turnOn() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (Context && !alerts.ctx) alerts.ctx = new Context();
    if (alerts.ctx && alerts.ctx.resume) alerts.ctx.resume();
    signal([880], 150);  // a short one now: the visitor hears that it works
    keepAwake().then(function (awake) {
      var note = awake ? T.alerts_awake : T.alerts_asleep;
      if (!navigator.vibrate) note += " " + T.alerts_no_vibrate;
      document.getElementById("alerts-note").textContent = note;
      document.getElementById("alerts").classList.add("v-alerts-on");
    });
  }

  if (!bare) {
    document.getElementById("alerts-note").textContent = T.alerts_off;
    document.getElementById("alerts-on").addEventListener("click", turnOn);
    // A wake lock ends when the page is hidden: take it again when the visitor comes back.
    document.addEventListener("visibilitychange", function () {
      if (alerts.ctx && document.visibilityState === "visible") keepAwake();
    });
  }

  // A break ends or closing time comes without any event: ask again when it does.
  var statusTimer = 0;
  function whenStatusChanges() {
    clearTimeout(statusTimer);
    var status = view.service && view.service.status;
    if (bare || !status || !status.until || view.ticket.status !== "waiting") return;
    var wait = new Date(status.until).getTime() - Date.now();
    if (wait > 0 && wait < 24 * 3600 * 1000) statusTimer = setTimeout(ask, wait + 1000);
  }

  // Ask for a fresh ticket_status, spread out by default so that phones do not ask together.
  function ask(delay) {
    clearTimeout(askTimer);
    askTimer = setTimeout(function () {
      if (socket.connected) socket.emit("get_status", null, function () {});
    }, delay === undefined ? 200 + Math.random() * 1500 : delay);
  }

  // Without a live connection (too-many-phones): the status URL every 30 s, spread out.
  function poll() {
    setTimeout(function () {
      fetch(card.dataset.statusUrl, { headers: { "Accept": "application/json" }, cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && data.ok) { view = data; render(); } })
        .catch(function () { /* the next round tries again */ })
        .then(poll);
    }, 30000 * (0.8 + 0.4 * Math.random()));
  }

  function minutesFor(ahead, secondsPerPlace) {
    if (secondsPerPlace === null || secondsPerPlace === undefined) return null;
    return Math.max(1, Math.ceil((ahead + 0.5) * secondsPerPlace / 60));  // server/estimate.py
  }

  function onStatus(status) {
    statusSeq = status.seq;
    view = status;
    render();
  }

  function onTicketEvent(name, message) {
    if (message.seq <= statusSeq) return;  // the status already has it
    var t = message.ticket;
    if (bare) {  // a typed-in number hears only its calls
      var call = message.call;
      view.called = true;
      view.kind = call.kind;
      view.counter = call.counter;
      render();
      return;
    }
    if (!t || t.id !== view.ticket.id) return;
    view.ticket = t;
    if (message.call) view.call = message.call;
    render();
    if (message.call) signal([880, 660, 880], [400, 200, 400, 200, 400]);
    if (name === "ticket_transferred") ask(0);  // a new service: its name, queue and estimate
  }

  function onQueueMoved(summary) {
    if (bare || summary.seq < statusSeq || summary.service !== view.ticket.service) return;
    // The queue is compacted ("A201..A999" for a run): its place is counted without expanding.
    var place = PanggilQueue.ahead(summary.queue, view.ticket.number);
    if (view.ticket.status !== "waiting") {
      if (place !== null) ask();  // waiting again (a recall undone, a transfer back): missed something
      return;
    }
    if (place === null) { ask(); return; }  // called or gone without this page hearing: ask
    view.ahead = place;
    view.estimate_minutes = minutesFor(place, summary.seconds_per_place);
    render();
  }

  function setLink(ok) {
    card.classList.toggle("v-live", ok);
    card.classList.toggle("v-offline", !ok);
    document.getElementById("link").textContent = ok ? T.connected : T.disconnected;
  }

  var auth = { day: view.ticket.day, number: view.ticket.number };
  if (card.dataset.token) auth.token = card.dataset.token;
  // lane=view: a reverse proxy sends watching clients to the fan-out workers (docs/install.md).
  var socket = io("/visitor", { auth: auth, query: { lane: "view" } });
  socket.on("connect", function () { setLink(true); });
  socket.on("disconnect", function () { setLink(false); });
  socket.on("connect_error", function (error) {
    setLink(false);
    if (socket.active) return;  // a network failure: Socket.IO tries again by itself
    card.classList.remove("v-offline");
    // The hall's phones fill the server: read the status over HTTP, slowly, and say so.
    if (error && error.data && error.data.error === "too-many-phones") {
      document.getElementById("link").textContent = T.busy;
      poll();
      return;
    }
    // Refused for good (a number of an ended day): the page shows how it ended, nothing to follow.
    document.getElementById("link").textContent = "";
  });
  socket.on("ticket_status", onStatus);
  ["ticket_called", "ticket_finished", "ticket_skipped", "ticket_transferred", "ticket_cancelled",
   "ticket_expired"].forEach(function (name) {
    socket.on(name, function (message) { onTicketEvent(name, message); });
  });
  socket.on("queue_moved", onQueueMoved);
  socket.on("day_closed", function () { ask(); });
  socket.on("hall_changed", function () { ask(); });  // names, hours, the hall's status
  render();
})();
