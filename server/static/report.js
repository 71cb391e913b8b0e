// The Laporan page: the print button of the printable view, and the dates follow "Custom".
"use strict";
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
(() => {
  const range = document.getElementById("range");
  if (!range) return;
  document.querySelectorAll('#report-filter input[type="date"]').forEach((input) => {
    input.addEventListener("change", () => { range.value = "custom"; });
  });
})();
