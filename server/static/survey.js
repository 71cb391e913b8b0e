/* Panggil SKM survey form (templates/survey/form.html).
   Tablet mode: follows the read-only /display namespace and opens the form when its counter
   finishes a ticket (ticket_finished with that counter); after the answer it thanks and waits
   again, and an untouched form goes back to waiting after a while. Phone mode: the form of the
   slip's own ticket, once. Answers are posted as JSON to the URL the page names. */
(function () {
  "use strict";

  var root = document.getElementById("survey");
  var mode = root.dataset.mode;
  var T = JSON.parse(document.getElementById("texts").textContent);
  var O = JSON.parse(document.getElementById("options").textContent);
  var form = document.getElementById("form");
  var idle = document.getElementById("idle");
  var closed = document.getElementById("closed");
  var thanks = document.getElementById("thanks");
  var problem = document.getElementById("problem");
  var send = document.getElementById("send");
  var codes = ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"];
  var ticket = null;
  var idleTimer = 0;

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function show(which) {
    idle.hidden = which !== "idle";
    form.hidden = which !== "form";
    thanks.hidden = which !== "thanks";
    closed.hidden = which !== "closed";
    if (which === "form") window.scrollTo(0, 0);
  }

  function backToIdleIn(seconds) {
    clearTimeout(idleTimer);
    if (mode === "tablet") idleTimer = setTimeout(function () { ticket = null; show("idle"); }, seconds * 1000);
  }

  function open(t) {
    ticket = t;
    form.reset();
    problem.textContent = "";
    send.disabled = false;
    Array.prototype.forEach.call(form.querySelectorAll(".s-missing"), function (f) { f.classList.remove("s-missing"); });
    document.getElementById("for-ticket").textContent = fill(T.for_ticket, { number: t.number });
    show("form");
    backToIdleIn(O.idle_seconds || 180);
  }

  function chosen(name) {
    var input = form.querySelector("input[name='" + name + "']:checked");
    return input ? input.value : null;
  }

  function finish(text) {
    thanks.textContent = text;
    show("thanks");
    backToIdleIn(O.thanks_seconds || 8);
  }

  form.addEventListener("change", function (e) {
    var field = e.target.closest("fieldset");
    if (field) field.classList.remove("s-missing");
    if (!form.querySelector(".s-missing")) problem.textContent = "";
    backToIdleIn(O.idle_seconds || 180);  // someone is answering: not back to waiting yet
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!ticket) return;
    var answers = [];
    var missing = 0;
    codes.forEach(function (code) {
      var value = chosen(code);
      form.querySelector("fieldset[data-code='" + code + "']").classList.toggle("s-missing", !value);
      if (!value) missing += 1;
      answers.push(value ? parseInt(value, 10) : 0);
    });
    if (missing) {
      problem.textContent = fill(T.missing, { n: missing });
      var first = form.querySelector(".s-missing");
      if (first) first.scrollIntoView({ block: "center" });
      return;
    }
    var body = { token: O.token, answers: answers, comment: form.elements.comment.value.trim() || null };
    ["age", "sex", "education", "occupation"].forEach(function (f) { body[f] = chosen(f); });
    if (mode === "tablet") body.ticket = ticket.id;
    send.disabled = true;
    problem.textContent = T.sending;
    fetch(O.post_url, {
      method: "POST", headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().catch(function () { return { ok: false }; }); })
      .then(function (data) {
        if (data.ok) finish(T.thanks);
        else if (data.error === "survey-already-answered") finish(T.already);
        else if (data.error === "survey-not-open") finish(T.not_open);
        else { problem.textContent = T.error; send.disabled = false; }
      })
      .catch(function () { problem.textContent = T.error; send.disabled = false; });
  });

  if (mode === "phone") {
    if (O.state === "open") open(O.ticket);
    else {
      closed.textContent = O.state === "answered" ? T.already : T.not_open;
      show("closed");
    }
    return;
  }

  function setLink(ok) {
    root.classList.toggle("s-live", ok);
    root.classList.toggle("s-offline", !ok);
    document.getElementById("link").textContent = ok ? T.connected : T.disconnected;
  }

  // lane=view: a reverse proxy sends watching clients to the fan-out workers (docs/install.md).
  var socket = io("/display", { auth: { display: "survey-" + O.counter }, query: { lane: "view" } });
  socket.on("connect", function () { setLink(true); });
  socket.on("disconnect", function () { setLink(false); });
  socket.on("connect_error", function () { setLink(false); });
  PanggilProtocol.follow(socket, {
    snapshot: function () {},
    event: function (name, message) {
      var t = message.ticket;
      if (name === "ticket_finished" && t && t.counter === O.counter && t.status === "done") open(t);
    }
  });
  show("idle");
})();
