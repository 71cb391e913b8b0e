/* Panggil browser display: the waiting-room screen for smart TVs.
   State comes from the /display namespace: a snapshot on (re)connect, then events in seq order;
   a seq gap asks for a new snapshot. Each call plays the chime, then its announcement (audio file,
   or the browser's own voice when there is none), strictly one after another.
   Plain ES2015 without newer syntax: smart-TV browsers are often years old. */
(function () {
  "use strict";

  var HIGHLIGHT_SECONDS = 10;
  var WAIT_FOR_AUDIO_SECONDS = 8;   // a pending announcement gets this long to become ready
  var MAX_CLIP_SECONDS = 30;        // a clip that never ends must not block the queue
  var STALE_CALL_SECONDS = 120;     // calls older than this are shown but not spoken any more
  var MAX_RECENT = 20;              // calls kept (the list shows options.recent of them)

  var T = JSON.parse(document.getElementById("texts").textContent);
  // The words for counters on break come with the template (server/templates/tv/tv.html).
  var B = JSON.parse(document.getElementById("break-texts").textContent);
  // The words for the hall's break and closing (issue 13): the template's "hall-texts".
  var H = JSON.parse(document.getElementById("hall-texts").textContent);
  var HALL_STATES = ["open", "break", "closed"];
  var OPEN = { state: "open", reason: "open", label: null, until: null };
  var CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
  var options = JSON.parse(document.getElementById("options").textContent);
  var DAYS = T.days.split(",");
  var MONTHS = T.months.split(",");

  var state = { seq: null, hall: null, counters: [], recent: [], highlightUntil: 0, skew: 0, offset: 7 * 60,
                downSince: null, staleTimer: 0, hallStatus: OPEN };
  var debug = window.panggilTv = { played: [], state: state, options: options };

  function $(id) { return document.getElementById(id); }

  function inZone(call) {
    if (options.counters && options.counters.indexOf(call.counter.number) < 0) return false;
    return !options.services || options.services.indexOf(call.service.code) >= 0;
  }

  function counterInZone(counter) {
    if (options.counters && options.counters.indexOf(counter.number) < 0) return false;
    return !options.services || counter.services.some(function (s) { return options.services.indexOf(s) >= 0; });
  }

  // --- clock: the server's time in the hall's zone, whatever the TV's own clock says ----------

  function learnTime(iso) {
    var match = /([+-])(\d\d):(\d\d)$/.exec(iso);
    if (match) state.offset = (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
    var server = Date.parse(iso);
    if (!isNaN(server)) state.skew = server - Date.now();
  }

  // The hall's wall-clock time now, as a Date whose UTC fields are the local ones.
  function hallNow() {
    return new Date(Date.now() + state.skew + state.offset * 60000);
  }

  function hallTime(local) {
    var zone = T["zone_" + state.offset / 60] || "";
    var hh = ("0" + local.getUTCHours()).slice(-2);
    var mm = ("0" + local.getUTCMinutes()).slice(-2);
    return hh + "." + mm + (zone ? " " + zone : "");
  }

  function drawClock() {
    var local = paintClock();
    setTimeout(drawClock, 60000 - (local.getTime() % 60000) + 50);
  }

  // Also right after a snapshot: the server's time may differ from the TV's own clock.
  function paintClock() {
    var local = hallNow();
    $("time").textContent = hallTime(local);
    // getUTCDay: 0 is Sunday; DAYS starts on Monday.
    $("date").textContent = DAYS[(local.getUTCDay() + 6) % 7] + ", " + local.getUTCDate() + " " +
      MONTHS[local.getUTCMonth()] + " " + local.getUTCFullYear();
    return local;
  }

  // --- drawing -----------------------------------------------------------------------------------

  // Like the Pi display's fit_size: the largest size up to the CSS one at which the text fits
  // its box on one line (long hall or counter names on a portrait screen).
  function fit(node, text) {
    node.textContent = text;
    node.style.fontSize = "";
    var size = parseFloat(window.getComputedStyle(node).fontSize);
    var floor = size * 0.45;
    while (node.scrollWidth > node.clientWidth + 1 && size > floor) {
      size *= 0.92;
      node.style.fontSize = size + "px";
    }
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    node.textContent = text;
    return node;
  }

  // --- the hall's status: open, on a break of the whole hall (Friday prayer), or closed ---------

  // Tolerant, as the Pi display (display/state.py): no hall_status (an older server) is open, and
  // so is one that cannot be read (with a warning in the console).
  function readHallStatus(data) {
    if (data === undefined || data === null) return OPEN;
    if (typeof data !== "object" || HALL_STATES.indexOf(data.state) < 0) {
      if (window.console) console.warn("hall_status ignored, the hall is taken as open:", data);
      return OPEN;
    }
    var until = typeof data.until === "string" && /[+-]\d\d:\d\d$|Z$/.test(data.until) &&
      !isNaN(Date.parse(data.until)) ? data.until : null;
    return { state: data.state, reason: String(data.reason || data.state),
             label: typeof data.label === "string" ? data.label : null, until: until };
  }

  function onBreak() { return state.hallStatus.state === "break"; }

  // A time in the hall's zone as a Date whose UTC fields are the local ones (like hallNow).
  function wall(iso) {
    return new Date(Date.parse(iso) + state.offset * 60000);
  }

  // "pukul 13.00", "besok 07.30", "Senin 07.30", "Senin, 4 Januari 07.30": as display/texts.py.
  function formatWhen(iso) {
    var moment = wall(iso), now = hallNow();
    var clock = ("0" + moment.getUTCHours()).slice(-2) + "." + ("0" + moment.getUTCMinutes()).slice(-2);
    var days = Math.round((Date.UTC(moment.getUTCFullYear(), moment.getUTCMonth(), moment.getUTCDate()) -
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())) / 86400000);
    if (days <= 0) return fill(H.at_time, { time: clock });
    if (days === 1) return fill(H.tomorrow, { time: clock });
    var day = DAYS[(moment.getUTCDay() + 6) % 7];
    if (days >= 7) day += ", " + moment.getUTCDate() + " " + MONTHS[moment.getUTCMonth()];
    return day + " " + clock;
  }

  function closedBanner() {
    var status = state.hallStatus;
    if (status.state !== "closed") return "";
    var parts = status.label ? [status.label] : [];
    parts.push(H.hall_closed);
    if (status.until) parts.push(fill(H.hall_opens_again, { when: formatWhen(status.until) }));
    return parts.join(" \u00b7 ");
  }

  // The break screen replaces the call and the counters; the recent list, the clock, the hall's
  // name and the running text stay.
  function drawHallStatus() {
    var status = state.hallStatus;
    var breaking = onBreak();
    $("screen").classList.toggle("tv-on-break", breaking);
    $("hallbreak").hidden = !breaking;
    if (breaking) {
      fit($("hb-word"), $("hb-word").textContent);
      fit($("hb-label"), status.label || "");
      $("hb-until").textContent = status.until ? fill(H.hall_reopens, { when: formatWhen(status.until) }) : "";
      state.highlightUntil = 0;
    }
    drawHall();
  }

  function setHallStatus(status) {
    state.hallStatus = status;
    if (onBreak()) audio.queue = [];  // nothing waiting to be said is said during the break
    drawAll();
  }

  function drawHall() {
    var hall = state.hall || {};
    fit($("hall"), hall.name || "Panggil");
    document.title = hall.name || document.title;
    var logo = $("logo");
    logo.hidden = !hall.logo_url;
    if (hall.logo_url && logo.getAttribute("src") !== hall.logo_url) logo.src = hall.logo_url;
    var running = $("running");
    var banner = closedBanner();
    $("footer").classList.toggle("tv-closed", !!banner);
    if (!$("footer").classList.contains("tv-down") && banner) {
      // The hall is closed: no more numbers today. Calls of the backlog go on above.
      running.classList.remove("tv-scroll");
      running.style.animationDuration = "";
      running.textContent = banner;
    } else if (!$("footer").classList.contains("tv-down")) {
      running.classList.remove("tv-scroll");  // measure the text itself, not the scroll padding
      running.textContent = hall.running_text || "";
      // Scroll only when the text does not fit; the speed stays readable whatever its length.
      var scroll = running.scrollWidth > $("ticker").clientWidth;
      running.classList.toggle("tv-scroll", scroll);
      running.style.animationDuration = scroll ? Math.max(12, running.textContent.length / 6) + "s" : "";
    }
  }

  function drawLatest() {
    var call = state.recent[0];
    $("latest-empty").hidden = !!call;
    $("latest-call").hidden = !call;
    var highlighted = !!call && Date.now() < state.highlightUntil;
    $("latest").classList.toggle("tv-highlight", highlighted);
    if (!call) {
      $("latest-empty").textContent = state.seq === null ? T.connecting : T.no_calls;
      return;
    }
    var label = call.kind === "recall" ? T.recall : T.latest_label;
    if (call.ticket.priority) label += " \u00b7 " + T.priority;
    fit($("latest-label"), label);
    fit($("latest-number"), call.ticket.number);
    fit($("latest-counter"), call.counter.name);
    fit($("latest-service"), call.service.name);
  }

  function drawRecent() {
    var list = $("recent");
    list.textContent = "";
    // On the hall's break no call is shown big: the list starts with the latest and runs longer.
    var calls = onBreak() ? state.recent.slice(0, options.recent + 2) : state.recent.slice(1, options.recent + 1);
    calls.forEach(function (call) {
      var item = document.createElement("li");
      item.appendChild(make("span", "tv-r-number", call.ticket.number));
      item.appendChild(make("span", "tv-r-counter", call.counter.name));
      list.appendChild(item);
    });
  }

  function gridColumns(count, aspect) {
    // Tiles about 1.6:1, as on the Pi display.
    var best = 1, bestScore = null;
    for (var columns = 1; columns <= count; columns++) {
      var rows = Math.ceil(count / columns);
      var score = Math.abs((aspect * rows) / columns - 1.6) + 0.05 * (columns * rows - count);
      if (bestScore === null || score < bestScore) { best = columns; bestScore = score; }
    }
    return best;
  }

  // A counter on break, as on the Pi display (display/texts.py, break_label):
  // "Istirahat · kembali 13.00", "Istirahat (sholat)". No `state` (an older server) means open.
  function breakLabel(counter) {
    var info = counter["break"] || {};
    var label = B["break"];
    if (B["reason_" + info.reason]) label += " (" + B["reason_" + info.reason] + ")";
    if (typeof info.until === "string" && CLOCK.test(info.until)) {
      label += " \u00b7 " + fill(B.break_back, { time: info.until.replace(":", ".") });
    }
    return label;
  }

  function drawCounters() {
    var box = $("counters");
    var counters = state.counters.filter(counterInZone);
    box.textContent = "";
    if (!counters.length) return;
    var columns = gridColumns(counters.length, box.clientWidth / Math.max(1, box.clientHeight));
    box.style.gridTemplateColumns = "repeat(" + columns + ", 1fr)";
    box.style.gridTemplateRows = "repeat(" + Math.ceil(counters.length / columns) + ", 1fr)";
    counters.forEach(function (counter) {
      var idle = !counter.current || !counter.active;
      var onBreak = counter.state === "break";
      var cell = make("div", "tv-cell" + (onBreak ? " tv-break" : (idle ? " tv-idle" : "")), "");
      cell.dataset.counter = counter.number;
      var name = cell.appendChild(make("span", "tv-cell-name", ""));
      box.appendChild(cell);
      fit(name, counter.name);
      if (onBreak) {
        // Wraps onto a second line on a narrow tile instead of shrinking out of sight.
        cell.appendChild(make("span", "tv-cell-break", breakLabel(counter)));
        return;
      }
      var number = cell.appendChild(make("span", "tv-cell-number", ""));
      fit(number, counter.current ? counter.current.number : T.no_current);
    });
  }

  function drawAll() { drawHallStatus(); drawLatest(); drawRecent(); drawCounters(); }

  // After a while without the server the numbers on screen may be wrong: grey them and say so,
  // as the Pi display does.
  function markStale() {
    if (state.downSince === null) return;
    $("stale-title").textContent = fill(T.stale_banner, { time: hallTime(state.downSince) });
    $("screen").classList.add("tv-stale");
  }

  function setConnection(status) {
    var up = status === "connected";
    if (up) {
      state.downSince = null;
      clearTimeout(state.staleTimer);
      $("screen").classList.remove("tv-stale");
    } else if (status === "disconnected" && state.downSince === null) {
      state.downSince = hallNow();
      state.staleTimer = setTimeout(markStale, options.stale_after * 1000);
    }
    $("status").className = "tv-status " + (up ? "tv-up" : (status === "disconnected" ? "tv-down" : ""));
    $("status-text").textContent = up ? T.connected : "";
    var footer = $("footer");
    footer.classList.toggle("tv-down", !up);
    if (!up) {
      // Losing the server matters more than the running text: say it across the footer.
      $("running").textContent = T[status];
      $("running").classList.remove("tv-scroll");
    } else {
      drawHall();
    }
  }

  // --- protocol ----------------------------------------------------------------------------------

  function applySnapshot(snap) {
    var latest = state.recent[0];
    state.seq = snap.seq;
    state.hall = snap.hall;
    state.counters = snap.counters || [];
    state.hallStatus = readHallStatus(snap.hall_status);
    state.recent = onePerTicket((snap.recent_calls || []).filter(inZone));
    // Keep the highlight only for the very call already highlighted (a quick reconnect).
    if (!latest || !state.recent[0] || state.recent[0].call_id !== latest.call_id) state.highlightUntil = 0;
    learnTime(snap.now);
    paintClock();
    drawAll();
  }

  // Newest first, each ticket once: a recall (a new call id) moves its number to the top instead
  // of adding a second row. The same rule as the Pi display's (display/state.py, _one_per_ticket).
  function onePerTicket(calls) {
    var seen = {};
    return calls.filter(function (call) {
      var key = call.ticket.id || call.ticket.number;
      if (seen.hasOwnProperty(key)) return false;
      seen[key] = true;
      return true;
    }).slice(0, MAX_RECENT);
  }

  function updateCounter(counter) {
    if (!counter) return;
    var found = false;
    state.counters = state.counters.map(function (c) {
      if (c.number !== counter.number) return c;
      found = true;
      return counter;
    });
    if (!found) state.counters.push(counter);
  }

  // protocol.js hands over the messages to apply, and those that call for a snapshot (a gap, a
  // closed day, a changed hall): it has asked for one, and the snapshot redraws everything.
  function applyEvent(name, message, step) {
    state.seq = step.position.seq;
    // The hall's status is shown at once; the snapshot asked for (a resync) follows.
    if (name === "hall_changed" && message.what === "status") setHallStatus(readHallStatus(message.status));
    if (step.decision === PanggilProtocol.RESYNC) return;
    if (message.counter) updateCounter(message.counter);
    if (name === "ticket_called" && message.call && inZone(message.call) && onBreak()) {
      // A call during the hall's break (a clock off by a minute): listed, never chimed or spoken.
      state.recent = onePerTicket([message.call].concat(state.recent));
    } else if (name === "ticket_called" && message.call && inZone(message.call)) {
      var call = message.call;
      state.recent = onePerTicket([call].concat(state.recent));
      state.highlightUntil = Date.now() + HIGHLIGHT_SECONDS * 1000;
      setTimeout(drawLatest, HIGHLIGHT_SECONDS * 1000 + 50);
      announce(call);
    }
    drawLatest();
    drawRecent();
    drawCounters();
  }

  function announcementReady(data) {
    state.recent.forEach(function (call) {
      if (call.call_id === data.call_id && call.announcement) {
        call.announcement.audio_url = data.audio_url;
        call.announcement.status = data.audio_url ? "ready" : "none";
      }
    });
    if (audio.waiting && audio.waiting.call_id === data.call_id) audio.waiting.resolve(data.audio_url);
  }

  // --- sound: one announcement at a time ----------------------------------------------------------

  var audio = { enabled: false, queue: [], busy: false, waiting: null, player: new Audio() };

  function announce(call) {
    if (!audio.enabled) return;  // the visitor sees it; a backlog must not play after the tap
    audio.queue.push({ call: call, at: Date.now() });
    playNext();
  }

  function playNext() {
    if (audio.busy || !audio.queue.length) return;
    var item = audio.queue.shift();
    if (Date.now() - item.at > STALE_CALL_SECONDS * 1000) { playNext(); return; }
    audio.busy = true;
    var call = item.call;
    playClip(options.chime_url, "chime")
      .then(function () { return audio.enabled ? announcementUrl(call) : null; })
      .then(function (url) {
        if (url && audio.enabled) return playClip(url, "audio").then(function (ok) { return ok || speak(call); });
        return speak(call);
      })
      .then(function () { audio.busy = false; playNext(); });
  }

  function announcementUrl(call) {
    var a = call.announcement || {};
    if (a.audio_url) return Promise.resolve(a.audio_url);
    if (a.status !== "pending") return Promise.resolve(null);
    return new Promise(function (resolve) {
      var done = function (url) { audio.waiting = null; clearTimeout(timer); resolve(url); };
      var timer = setTimeout(function () { done(null); }, WAIT_FOR_AUDIO_SECONDS * 1000);
      audio.waiting = { call_id: call.call_id, resolve: done };
    });
  }

  // Resolves true when the clip played to its end, false when it could not be played.
  function playClip(url, kind) {
    return new Promise(function (resolve) {
      var player = audio.player;
      var finished = false;
      var finish = function (ok) {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        player.onended = player.onerror = null;
        debug.played.push({ kind: kind, url: url, ok: ok, at: Date.now() });
        resolve(ok);
      };
      var timer = setTimeout(function () { player.pause(); finish(false); }, MAX_CLIP_SECONDS * 1000);
      player.onended = function () { finish(true); };
      player.onerror = function () { finish(false); };
      debug.played.push({ kind: kind + "-start", url: url, at: Date.now() });
      player.src = url;
      var started = player.play();
      if (started && started.catch) {
        started.catch(function (error) {
          if (error && error.name === "NotAllowedError") soundRefused();
          finish(false);
        });
      }
    });
  }

  function speak(call) {
    var text = call.announcement && call.announcement.text;
    if (!audio.enabled || !text || !window.speechSynthesis || !window.SpeechSynthesisUtterance) return Promise.resolve(false);
    return new Promise(function (resolve) {
      var utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = "id-ID";
      var voices = window.speechSynthesis.getVoices().filter(function (v) { return /^id/i.test(v.lang); });
      if (voices.length) utterance.voice = voices[0];
      var finished = false;
      var finish = function () {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        debug.played.push({ kind: "speech", text: text, at: Date.now() });
        resolve(true);
      };
      // Some TV browsers never fire `end`: move on after a generous estimate of the duration.
      var timer = setTimeout(finish, 2000 + text.length * 120);
      utterance.onend = utterance.onerror = finish;
      debug.played.push({ kind: "speech-start", text: text, at: Date.now() });
      window.speechSynthesis.speak(utterance);
    });
  }

  // Whether the browser lets the page play sound before anyone taps: a kiosk browser started with
  // --autoplay-policy=no-user-gesture-required does (docs/display.md), a desktop one does not. A new
  // AudioContext starts "running" only where autoplay is allowed; without a way to ask, try, and
  // learn from the first refused play().
  function autoplayAllowed() {
    try {
      if (navigator.getAutoplayPolicy) return navigator.getAutoplayPolicy("mediaelement") === "allowed";
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return true;
      var context = new Context();
      var running = context.state === "running";
      if (context.close) context.close();
      return running;
    } catch (error) {
      return true;
    }
  }

  // The browser refused to play: calls stay on screen, and the corner badge asks for a tap.
  function soundRefused() {
    audio.enabled = false;
    audio.queue = [];
    showPrompt(true);
  }

  function showPrompt(show) {
    $("unlock").hidden = !show;
    if (state.hall) drawHall();  // the badge takes room from the running text: measure it again
  }

  function enableSound() {
    if (audio.enabled) return;
    audio.enabled = true;
    showPrompt(false);
    // Speaking inside the tap unlocks the voice; media elements are unlocked by the tap itself.
    if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
      window.speechSynthesis.speak(new SpeechSynthesisUtterance(""));
    }
  }

  if (autoplayAllowed()) audio.enabled = true;
  else $("unlock").hidden = false;  // the first snapshot draws the running text around it
  document.addEventListener("click", enableSound);  // a tap anywhere, the badge included
  document.addEventListener("keydown", enableSound);  // a TV remote's OK button

  // --- connection ----------------------------------------------------------------------------------

  // lane=view: a reverse proxy sends watching clients to the fan-out workers (docs/install.md).
  var socket = io("/display", { auth: { display: options.name }, query: { lane: "view" },
                                reconnectionDelayMax: 5000 });
  socket.on("connect", function () { setConnection("connected"); });
  socket.on("disconnect", function () { setConnection("disconnected"); });
  socket.on("connect_error", function () { setConnection(state.seq === null ? "connecting" : "disconnected"); });
  var stream = PanggilProtocol.follow(socket, { snapshot: applySnapshot, event: applyEvent });
  socket.on("announcement_ready", announcementReady);
  window.addEventListener("resize", drawCounters);
  debug.socket = socket;
  // Hooks for the browser tests (they drive the page the way the server would).
  debug.announce = function (call) { audio.enabled = true; announce(call); };
  debug.announcementReady = announcementReady;
  debug.applyEvent = stream.receive;  // through the sequencing, as from the socket

  setConnection("connecting");
  drawClock();
  drawLatest();
})();
