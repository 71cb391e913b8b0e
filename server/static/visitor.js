/* Panggil visitor page: follows one ticket over the read-only /display namespace.
   On the slip's (tokened) page, events about this ticket are applied at once; events about its
   service trigger one re-read of the page's status (people ahead and the estimate), spread out so
   phones do not ask together. On a bare number's page (data-mode="number") the page knows only
   whether the number was called and where to, and re-reads that when the number is called.
   protocol.js decides what each message is (apply, ignore, resync) and asks for the snapshots. */
(function () {
  "use strict";

  var card = document.getElementById("ticket");
  var T = JSON.parse(document.getElementById("texts").textContent);
  var view = JSON.parse(document.getElementById("view").textContent);
  var reloadTimer = 0;
  var quietSnapshot = false;  // the next snapshot answers a closed day or changed hall: see onEvent
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
    whenStatusChanges();
  }

  // A break ends or closing time comes without any event: re-read the status when it does.
  var statusTimer = 0;
  function whenStatusChanges() {
    clearTimeout(statusTimer);
    var status = view.service && view.service.status;
    if (bare || !status || !status.until || view.ticket.status !== "waiting") return;
    var wait = new Date(status.until).getTime() - Date.now();
    if (wait > 0 && wait < 24 * 3600 * 1000) statusTimer = setTimeout(reload, wait + 1000);
  }

  function reload(delay) {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(function () {
      fetch(card.dataset.statusUrl, { headers: { "Accept": "application/json" }, cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && data.ok) { view = data; render(); } })
        .catch(function () { /* the next event or reconnect tries again */ });
    }, delay === undefined ? 200 + Math.random() * 1500 : delay);
  }

  function touchesMyService(message) {
    var service = view.ticket.service;
    var t = message.ticket;
    return (t && (t.service === service || t.origin_service === service)) ||
      message.from_service === service || message.to_service === service ||
      (message.waiting && Object.prototype.hasOwnProperty.call(message.waiting, service));
  }

  function onEvent(name, message, step) {
    if (step.reason === "gap") {  // missed something: the snapshot re-reads the status at once
      quietSnapshot = false;
      return;
    }
    // A closed day or a changed hall is re-read below, spread out: its snapshot need not re-read.
    if (step.ask) quietSnapshot = true;
    var t = message.ticket;
    if (bare) {
      if (t && t.id === view.ticket.id) reload(0);
      return;
    }
    if (t && t.id === view.ticket.id) {
      view.ticket = t;
      if (message.call) view.call = message.call;
      render();
      if (message.call && navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
      if (t.status === "waiting") reload(0);  // transferred: a new queue, new people ahead
    } else if (message.event === "day_closed" || message.event === "hall_changed" || touchesMyService(message)) {
      if (view.ticket.status === "waiting" || message.event === "day_closed") reload();
    }
  }

  function setLink(ok) {
    card.classList.toggle("v-live", ok);
    card.classList.toggle("v-offline", !ok);
    document.getElementById("link").textContent = ok ? T.connected : T.disconnected;
  }

  var socket = io("/display", { auth: { display: "visitor-page" } });
  socket.on("connect", function () { setLink(true); });
  socket.on("disconnect", function () { setLink(false); quietSnapshot = false; });
  socket.on("connect_error", function () { setLink(false); });
  PanggilProtocol.follow(socket, {
    snapshot: function () {
      if (quietSnapshot) quietSnapshot = false;
      else reload(0);
    },
    event: onEvent
  });
  render();
})();
