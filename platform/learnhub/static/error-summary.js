// Moves focus to the error summary of a refused form, so it is read first and its links
// lead to each field. Without this file the summary is still first in <main>.
(function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
})();
