/* Panggil ticket kiosk: agency -> service -> take a number (optionally priority).
   The server's answer to each tap is authoritative; the tiles only say in advance what it will be.
   Plain ES2015 for the older Chromium builds found in kiosk PCs. */
(function () {
  "use strict";

  var RESULT_SECONDS = 20;   // the number stays on screen this long
  var ERROR_SECONDS = 12;
  var IDLE_SECONDS = 45;     // back to the start when nobody touches the screen
  var REFRESH_SECONDS = 15;  // opening hours and quotas change without any event

  var root = document.getElementById("kiosk");
  // On a visitor's own phone (/ambil): no printer, no idle reset; the number opens its page.
  var phone = root.dataset.phone === "yes";
  var T = JSON.parse(document.getElementById("texts").textContent);
  var catalogue = JSON.parse(document.getElementById("catalogue").textContent);
  var state = { agency: null, priority: null, busy: false };
  var timers = { result: 0, error: 0, idle: 0 };
  var resultLabel = document.getElementById("result-label").textContent;

  function $(id) { return document.getElementById(id); }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function agencyServices(code) {
    return catalogue.services.filter(function (s) { return s.agency === code; });
  }

  function blockedReason(service) {
    if (service.state !== "open") return service.state;
    if (state.priority && !service.priority_allowed) return "priority-not-allowed";
    return null;
  }

  function explain(code, service) {
    var hours = service && service.hours_today;
    if (code === "service-closed") return T.closed_message;
    if (code === "outside-hours" && service && service.closed_text) return service.closed_text;
    if (code === "outside-hours") return fill(T.outside_message, { hours: hours || T.no_hours_today });
    if (code === "quota-reached") return T.quota_message;
    if (code === "priority-not-allowed") return T.priority_message;
    if (code === "printer-error") return T.printer_error;
    if (T[code] && (code === "already-holding" || code === "device-required" || code === "phone-tickets-off")) return T[code];
    return null;
  }

  function stateLabel(reason, service) {
    if (!reason) return T.open;
    if (reason === "outside-hours" && service.status) return T["reason_" + service.status.reason] || T[reason];
    return T[reason];
  }

  // --- drawing ---------------------------------------------------------------------------------

  function drawAgencies() {
    var box = $("agencies");
    box.textContent = "";
    catalogue.agencies.forEach(function (agency) {
      var services = agencyServices(agency.code);
      var open = services.filter(function (s) { return s.state === "open"; }).length;
      var tile = make("button", "k-tile k-agency" + (open ? "" : " k-off"));
      tile.type = "button";
      tile.appendChild(make("span", "k-tile-name", agency.name));
      tile.appendChild(make("span", "k-tile-note", fill(T.services_open, { n: open, total: services.length })));
      tile.addEventListener("click", function () { openAgency(agency.code); });
      box.appendChild(tile);
    });
  }

  function drawServices() {
    var agency = catalogue.agencies.filter(function (a) { return a.code === state.agency; })[0];
    if (!agency) { showStep("agency"); return; }
    $("agency-name").textContent = agency.name;
    var box = $("services");
    box.textContent = "";
    agencyServices(agency.code).forEach(function (service) {
      var reason = blockedReason(service);
      var tile = make("button", "k-tile k-service" + (reason ? " k-off" : ""));
      tile.type = "button";
      tile.dataset.service = service.code;
      var head = make("span", "k-tile-head");
      head.appendChild(make("span", "k-prefix", service.prefix));
      head.appendChild(make("span", "k-tile-name", service.name));
      tile.appendChild(head);
      var foot = make("span", "k-tile-foot");
      foot.appendChild(make("span", "k-state " + (reason ? "k-state-off" : "k-state-open"), stateLabel(reason, service)));
      foot.appendChild(make("span", "k-waiting", fill(T.waiting, { n: service.waiting })));
      tile.appendChild(foot);
      if (service.hours_today !== null) {
        var hours = make("span", "k-hours", service.hours_today ? "" : T.no_hours_today);
        if (service.hours_today) {
          // The times themselves must not break across lines ("07.30-" / "16.00").
          var parts = T.hours.split("{hours}");
          hours.appendChild(document.createTextNode(parts[0]));
          hours.appendChild(make("b", "", service.hours_today.replace(/-/g, "\u2013").replace(/,/g, ", ")));
          hours.appendChild(document.createTextNode(parts[1] || ""));
        }
        tile.appendChild(hours);
      }
      // Why it takes no numbers now and when it opens: "Layanan X sedang istirahat ... Buka lagi pukul 13.00."
      if (reason === "outside-hours" && service.closed_text) {
        tile.appendChild(make("span", "k-why", service.closed_text));
      }
      tile.addEventListener("click", function () { take(service); });
      box.appendChild(tile);
    });
  }

  function showStep(step) {
    // The whole hall closed (a holiday, its break): one message instead of a card per service.
    var closed = catalogue.hall_closed;
    $("hall-closed").hidden = !closed;
    $("hall-closed-text").textContent = closed || "";
    $("priority").hidden = !!closed;
    $("step-agency").hidden = !!closed || step !== "agency";
    $("step-service").hidden = !!closed || step !== "service";
    // One agency: its services are the first screen, and there is nowhere to go back to.
    $("back").hidden = catalogue.agencies.length < 2;
  }

  function openAgency(code) {
    state.agency = code;
    drawServices();
    showStep("service");
  }

  function home() {
    setPriority(null);
    if (catalogue.agencies.length === 1) {
      openAgency(catalogue.agencies[0].code);
    } else {
      state.agency = null;
      drawAgencies();
      showStep("agency");
    }
  }

  function setPriority(kind) {
    state.priority = kind;
    var choices = $("priority-choices");
    var toggle = $("priority-toggle");
    root.classList.toggle("k-priority-mode", !!kind || !choices.hidden);
    Array.prototype.forEach.call(choices.querySelectorAll("[data-priority]"), function (b) {
      b.classList.toggle("k-chosen", b.dataset.priority === kind);
      b.setAttribute("aria-pressed", b.dataset.priority === kind ? "true" : "false");
    });
    if (!kind) {
      choices.hidden = true;
      toggle.hidden = false;
      toggle.setAttribute("aria-expanded", "false");
      root.classList.remove("k-priority-mode");
    }
    if (state.agency) drawServices();
  }

  // --- taking a number -------------------------------------------------------------------------

  function take(service) {
    if (state.busy) return;
    var reason = blockedReason(service);
    if (reason) { showError(explain(reason, service)); return; }
    state.busy = true;
    $("busy").hidden = false;
    fetch(root.dataset.api, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ service: service.code, priority: state.priority })
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false }; });
    }).then(function (answer) {
      if (answer.ok && phone) {
        window.location.assign(answer.visitor_url);  // the ticket's live page
        return;
      }
      if (answer.ok) {
        showResult(answer, service);
      } else {
        var mine = answer.error === "already-holding" && answer.visitor_url ?
          { href: answer.visitor_url, text: fill(T.show_mine, { number: answer.number }) } : null;
        showError(answer.closed_text || explain(answer.error, service) || answer.message || T.network_error, mine);
      }
      refresh();
    }).catch(function () {
      showError(T.network_error);
    }).then(function () {
      state.busy = false;
      $("busy").hidden = true;
    });
  }

  function showResult(answer, service) {
    var ticket = answer.ticket;
    $("result-number").textContent = ticket.number;
    $("result-service").textContent = service.name;
    $("result-ahead").textContent = answer.ahead ? fill(T.ahead, { n: answer.ahead }) : T.none_ahead;
    var tag = $("result-priority");
    tag.hidden = !ticket.priority;
    tag.textContent = ticket.priority ? T.priority_tag + ": " + T[ticket.priority] : "";
    var note = $("result-print");
    note.textContent = answer.printed ? T.printing : (answer.print_error ? answer.print_error + " " : "") + T.not_printed;
    note.classList.toggle("k-warn", !answer.printed && !!answer.print_error);
    $("result-qr").src = answer.qr_image;  // a data: URL of the server's QR code, never markup
    $("result").hidden = false;
    $("result-done").focus();
    clearTimeout(timers.result);
    timers.result = setTimeout(closeResult, RESULT_SECONDS * 1000);
  }

  function closeResult() {
    clearTimeout(timers.result);
    $("result-label").textContent = resultLabel;
    $("result").hidden = true;
    if (!backToIndonesian()) home();
  }

  // The language choice is a cookie: the next visitor must not find the kiosk in English.
  function backToIndonesian() {
    if (document.documentElement.lang === "id") return false;
    window.location.replace(window.location.pathname + "?lang=id");
    return true;
  }

  function showError(message, link) {
    $("error-message").textContent = message;
    var go = $("error-link");
    go.hidden = !link;
    if (link) { go.href = link.href; go.textContent = link.text; }
    $("error").hidden = false;
    $("error-ok").focus();
    clearTimeout(timers.error);
    timers.error = setTimeout(closeError, ERROR_SECONDS * 1000);
  }

  function closeError() {
    clearTimeout(timers.error);
    $("error").hidden = true;
  }

  // --- bookings: check-in with the QR (camera) or the code typed --------------------------------

  var CODE_KEYS = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";  // server/bookings.py CODE_ALPHABET
  var SCAN_MS = 250;
  var RETRY_SAME_MS = 4000;  // a refused code held up to the camera is not sent again at once
  var camera = { stream: null, timer: 0, detector: null, canvas: null, last: "", lastAt: 0 };

  function openCheckin() {
    if (state.busy) return;
    $("checkin-code").value = "";
    $("checkin").hidden = false;
    startCamera();
  }

  function closeCheckin() {
    stopCamera();
    $("checkin").hidden = true;
  }

  function startCamera() {
    var note = $("camera-note");
    note.textContent = T.camera_off;
    var canDecode = ("BarcodeDetector" in window) || typeof window.jsQR === "function";
    if (!canDecode || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false }).then(function (stream) {
      if ($("checkin").hidden) { stream.getTracks().forEach(function (t) { t.stop(); }); return; }
      camera.stream = stream;
      $("camera").srcObject = stream;
      $("camera-box").hidden = false;
      note.textContent = T.camera_on;
      if ("BarcodeDetector" in window) {
        try { camera.detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { camera.detector = null; }
      }
      scanSoon();
    }).catch(function () { note.textContent = T.camera_off; });
  }

  function stopCamera() {
    clearTimeout(camera.timer);
    if (camera.stream) camera.stream.getTracks().forEach(function (t) { t.stop(); });
    camera.stream = null;
    $("camera").srcObject = null;
    $("camera-box").hidden = true;
  }

  function scanSoon() {
    clearTimeout(camera.timer);
    camera.timer = setTimeout(scan, SCAN_MS);
  }

  function scan() {
    var video = $("camera");
    if (!camera.stream || state.busy) { if (camera.stream) scanSoon(); return; }
    if (video.readyState < 2 || !video.videoWidth) { scanSoon(); return; }
    if (camera.detector) {
      camera.detector.detect(video).then(function (codes) {
        if (codes.length) { found(codes[0].rawValue); } else { scanSoon(); }
      }).catch(function () { camera.detector = null; scanSoon(); });
      return;
    }
    if (typeof window.jsQR !== "function") return;
    // Read a smaller copy: a QR held up to the kiosk fills much of the frame, and it is faster.
    var scale = Math.min(1, 480 / video.videoWidth);
    var w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
    camera.canvas = camera.canvas || document.createElement("canvas");
    camera.canvas.width = w;
    camera.canvas.height = h;
    var context = camera.canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, w, h);
    var code = window.jsQR(context.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
    if (code && code.data) { found(code.data); } else { scanSoon(); }
  }

  function found(text) {
    if (text === camera.last && Date.now() - camera.lastAt < RETRY_SAME_MS) { scanSoon(); return; }
    camera.last = text;
    camera.lastAt = Date.now();
    $("checkin-code").value = String(text).slice(-6).toUpperCase();
    checkIn(text);
  }

  function checkIn(code) {
    if (state.busy || !code) return;
    state.busy = true;
    $("busy").hidden = false;
    fetch(root.dataset.checkin, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ code: code })
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false }; });
    }).then(function (answer) {
      if (answer.ok) {
        closeCheckin();
        var service = catalogue.services.filter(function (s) { return s.code === answer.ticket.service; })[0];
        showResult(answer, service || { name: answer.ticket.service });
        $("result-label").textContent = T.checked_in;
      } else {
        showError(T[answer.error] || answer.message || T.network_error);
        if (camera.stream) scanSoon();
      }
      refresh();
    }).catch(function () {
      showError(T.network_error);
    }).then(function () {
      state.busy = false;
      $("busy").hidden = true;
    });
  }

  function wireCheckin() {
    if (!$("checkin")) return;
    var keys = $("checkin-keys");
    CODE_KEYS.split("").forEach(function (letter) {
      var key = make("button", "", letter);
      key.type = "button";
      key.addEventListener("click", function () {
        var input = $("checkin-code");
        if (input.value.length < 6) input.value += letter;
      });
      keys.appendChild(key);
    });
    $("booking-toggle").addEventListener("click", openCheckin);
    $("checkin-cancel").addEventListener("click", closeCheckin);
    $("checkin-delete").addEventListener("click", function () {
      var input = $("checkin-code");
      input.value = input.value.slice(0, -1);
    });
    $("checkin-submit").addEventListener("click", function () { checkIn($("checkin-code").value); });
    $("checkin-code").addEventListener("keydown", function (e) {
      if (e.key === "Enter") checkIn($("checkin-code").value);
    });
  }

  function refresh() {
    fetch(root.dataset.services, { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (!data.ok) return;
        catalogue = data;
        if (state.agency) { drawServices(); showStep("service"); } else { drawAgencies(); showStep("agency"); }
      })
      .catch(function () { /* the next refresh tries again; a tap still gets the server's answer */ });
  }

  function touched() {
    if (phone) return;  // a phone is the visitor's own: nothing to reset for the next one
    clearTimeout(timers.idle);
    timers.idle = setTimeout(function () {
      if ($("result").hidden && !state.busy && !backToIndonesian()) {
        closeError();
        if ($("checkin")) closeCheckin();
        home();
      }
    }, IDLE_SECONDS * 1000);
  }

  // --- wiring ----------------------------------------------------------------------------------

  $("back").addEventListener("click", function () { state.agency = null; drawAgencies(); showStep("agency"); });
  $("result-done").addEventListener("click", closeResult);
  $("error-ok").addEventListener("click", closeError);
  $("priority-toggle").addEventListener("click", function () {
    $("priority-choices").hidden = false;
    $("priority-toggle").hidden = true;
    $("priority-toggle").setAttribute("aria-expanded", "true");
    root.classList.add("k-priority-mode");
  });
  $("priority-cancel").addEventListener("click", function () { setPriority(null); });
  Array.prototype.forEach.call(document.querySelectorAll("[data-priority]"), function (button) {
    button.addEventListener("click", function () { setPriority(button.dataset.priority); });
  });
  document.addEventListener("pointerdown", touched, true);
  // A kiosk must not zoom, select text or open a context menu on a long press.
  if (!phone) document.addEventListener("contextmenu", function (e) { e.preventDefault(); });

  wireCheckin();
  home();
  touched();
  setInterval(refresh, REFRESH_SECONDS * 1000);
})();
