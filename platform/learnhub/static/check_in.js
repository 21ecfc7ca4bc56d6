// Self check-in page: refresh the arrivals list every 10 seconds while the page is in view,
// so the organiser sees people arrive without reloading (and without losing what they type in
// the form above). Without JavaScript the "Refresh the list" link does the same.
(function () {
  "use strict";
  var INTERVAL_MS = 10000;

  function arrivals(doc) {
    return doc.getElementById("arrivals");
  }

  function refresh() {
    if (document.hidden) return;
    fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = arrivals(new DOMParser().parseFromString(html, "text/html"));
        var current = arrivals(document);
        if (fresh && current) {
          current.replaceWith(fresh);
          enhance();
        }
      })
      .catch(function () { /* keep the list shown; the next round tries again */ });
  }

  function enhance() {
    var section = arrivals(document);
    if (!section) return;
    var hint = section.querySelector("[data-live-hint]");
    var link = section.querySelector("[data-refresh-link]");
    if (hint) hint.hidden = false;
    if (link) link.hidden = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!arrivals(document) || !window.fetch || !window.DOMParser) return;
    enhance();
    window.setInterval(refresh, INTERVAL_MS);
  });
})();
