/* Panggil booking page: the sessions of the chosen service and day with their places left, then
   one JSON post; the answer's confirmation page (code and QR) replaces this one.
   Plain ES2015; text from the template (#texts), never markup. */
(function () {
  "use strict";

  var form = document.getElementById("booking");
  if (!form) return;
  var T = JSON.parse(document.getElementById("texts").textContent);
  var openDays = JSON.parse(document.getElementById("open-days").textContent);
  var chosen = null;

  function $(id) { return document.getElementById(id); }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showError(message) {
    $("error").textContent = message || "";
    $("error").hidden = !message;
  }

  function label(state, left) {
    if (state === "open") return T.left.replace("{n}", left);
    return T[state] || state;
  }

  function drawSessions(rows) {
    var box = $("sessions");
    box.textContent = "";
    chosen = null;
    if (!rows.length || rows.every(function (r) { return r.state === "closed"; })) {
      box.appendChild(make("p", "b-optional", T.none));
      return;
    }
    rows.forEach(function (row) {
      var open = row.state === "open";
      var item = make("label", "b-session" + (open ? "" : " b-off"));
      item.dataset.session = row.session;
      var radio = make("input");
      radio.type = "radio";
      radio.name = "session";
      radio.value = row.session;
      radio.disabled = !open;
      radio.addEventListener("change", function () {
        chosen = row.session;
        Array.prototype.forEach.call(box.children, function (c) { c.classList.toggle("b-chosen", c === item); });
        showError("");
      });
      item.appendChild(radio);
      item.appendChild(make("span", "", row.session.replace(/:/g, ".").replace("-", "\u2013")));
      item.appendChild(make("small", "", label(row.state, row.left)));
      box.appendChild(item);
    });
  }

  function loadSessions() {
    var query = "?service=" + encodeURIComponent($("service").value) + "&day=" + encodeURIComponent($("day").value);
    fetch(form.dataset.sessions + query, { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (answer.ok) { drawSessions(answer.sessions); } else { showError(answer.message); }
      })
      .catch(function () { showError(T.network_error); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!chosen) { showError(T.choose_session); return; }
    $("submit").disabled = true;
    fetch(form.dataset.book, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({
        service: $("service").value, day: $("day").value, session: chosen,
        name: $("name").value, phone: $("phone").value, id_last4: $("id_last4").value,
        notify: !!($("notify") && $("notify").checked)
      })
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false }; });
    }).then(function (answer) {
      if (answer.ok) { window.location.assign(answer.url); return; }
      showError(answer.message || T.network_error);
      loadSessions();  // a session that filled up meanwhile shows as full
    }).catch(function () {
      showError(T.network_error);
    }).then(function () {
      $("submit").disabled = false;
    });
  });

  // Only the days the chosen service opens (the server's schedule); the first of them chosen.
  function showDays() {
    var open = openDays[$("service").value] || [];
    var select = $("day");
    var first = null;
    Array.prototype.forEach.call(select.options, function (option) {
      var on = open.indexOf(option.value) >= 0;
      option.hidden = !on;
      option.disabled = !on;
      if (on && first === null) first = option.value;
    });
    if (open.indexOf(select.value) < 0 && first !== null) select.value = first;
  }

  $("service").addEventListener("change", function () { showDays(); loadSessions(); });
  $("day").addEventListener("change", loadSessions);
  showDays();
  loadSessions();
})();
