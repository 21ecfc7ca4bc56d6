// Progressive enhancement: guess the reader's time zone so the next pages show their local
// times, and pre-select it in forms that ask for it. Pages work the same without this file.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  if (document.cookie.split("; ").every(function (c) { return c.indexOf("tz=") !== 0; })) {
    // Zone names ("America/Sao_Paulo") are plain cookie characters: written as they are.
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
  }
  var selects = document.querySelectorAll("select[data-guess-timezone]");
  Array.prototype.forEach.call(selects, function (select) {
    if (select.querySelector('option[value="' + zone + '"]')) { select.value = zone; }
  });
})();
