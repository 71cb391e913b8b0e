/* Panggil booking confirmation: "Cancel booking", asked once more, then one JSON post with the
   code (a JSON body keeps other sites out); the page reloads and shows the cancelled booking.
   Plain ES2015; text from the template (#texts), never markup. */
(function () {
  "use strict";

  var box = document.getElementById("cancel-box");
  if (!box) return;
  var T = JSON.parse(document.getElementById("texts").textContent);

  function $(id) { return document.getElementById(id); }

  function showError(message) {
    $("cancel-error").textContent = message || "";
    $("cancel-error").hidden = !message;
  }

  function ask(open) {
    $("cancel-confirm").hidden = !open;
    $("cancel-start").hidden = open;
    showError("");
    if (open) $("cancel-no").focus();
  }

  $("cancel-start").addEventListener("click", function () { ask(true); });
  $("cancel-no").addEventListener("click", function () { ask(false); });
  $("cancel-yes").addEventListener("click", function () {
    var button = $("cancel-yes");
    button.disabled = true;
    fetch(box.dataset.cancel, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: box.dataset.code }),
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (answer) { return { status: response.status, answer: answer }; });
    }).then(function (result) {
      if (result.answer.ok) {
        window.location.reload();
        return;
      }
      button.disabled = false;
      showError(T[result.answer.error] || result.answer.message || T.network_error);
    }).catch(function () {
      button.disabled = false;
      showError(T.network_error);
    });
  });
}());
