// Progressive enhancement: the reader's time zone from the browser. Pages work the same
// without this file (they say "Times in UTC" and offer a zone field).
// - Remembers it in the "tz" cookie (zone names are plain cookie characters).
// - On the first page where it runs, a page that marked its times as UTC for want of a zone
//   ([data-zone-unknown]: only GET pages do) is loaded once more, in the reader's zone.
// - Fills zone fields left empty ([data-guess-timezone]: a text field or a select).
// - Offers every zone as suggestions in zone fields ([data-zone-search]), read from the
//   /timezones page the first time one is focused (the list is not on every page).
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  function hasZoneCookie() {
    return document.cookie.split("; ").some(function (c) { return c.indexOf("tz=") === 0; });
  }
  if (!hasZoneCookie()) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    if (zone !== "UTC" && hasZoneCookie() && document.querySelector("[data-zone-unknown]")) {
      window.location.replace(window.location.href);
      return;
    }
  }
  var fields = document.querySelectorAll("[data-guess-timezone]");
  Array.prototype.forEach.call(fields, function (field) {
    if (field.tagName === "SELECT") {
      if (field.querySelector('option[value="' + zone + '"]')) { field.value = zone; }
    } else if (!field.value) {
      field.value = zone;
    }
  });
  function offerZones(field) {
    if (document.getElementById("zone-suggestions")) {
      field.setAttribute("list", "zone-suggestions");
      return;
    }
    fetch("/timezones", { credentials: "omit" }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      var names = new DOMParser().parseFromString(html, "text/html").querySelectorAll(".zone-list code");
      if (!names.length || document.getElementById("zone-suggestions")) { return; }
      var list = document.createElement("datalist");
      list.id = "zone-suggestions";
      Array.prototype.forEach.call(names, function (name) {
        var option = document.createElement("option");
        option.value = name.textContent;
        list.appendChild(option);
      });
      document.body.appendChild(list);
      Array.prototype.forEach.call(document.querySelectorAll("[data-zone-search]"), function (f) {
        f.setAttribute("list", "zone-suggestions");
      });
    }).catch(function () {});
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-zone-search]"), function (field) {
    field.addEventListener("focus", function () { offerZones(field); }, { once: true });
  });
})();
