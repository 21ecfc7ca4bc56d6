// Progressive enhancement of the organiser's checkable lists (templates/organiser/_checklist.html):
// a search box above each list hides the options that do not match what is typed. Without
// JavaScript every option shows, in a list that scrolls on its own. Ticked options stay shown.
(function () {
  "use strict";
  document.querySelectorAll("[data-filter-list]").forEach(function (list, index) {
    var options = Array.prototype.slice.call(list.querySelectorAll(".checklist-options li"));
    if (options.length < 2) return;
    var legend = list.querySelector("legend");
    var id = "filter-list-" + index;
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = "Search " + (legend ? legend.textContent.trim() : "the list");
    var box = document.createElement("input");
    box.type = "search";
    box.id = id;
    box.className = "checklist-search";
    box.autocomplete = "off";
    var count = document.createElement("p");
    count.className = "checklist-count";
    count.setAttribute("aria-live", "polite");
    var ul = list.querySelector(".checklist-options");
    list.insertBefore(label, ul);
    list.insertBefore(box, ul);
    list.insertBefore(count, ul);
    box.addEventListener("input", function () {
      var words = box.value.trim().toLowerCase();
      var shown = 0;
      options.forEach(function (option) {
        var ticked = option.querySelector("input").checked;
        var match = !words || ticked || option.textContent.toLowerCase().indexOf(words) !== -1;
        option.hidden = !match;
        if (match) shown += 1;
      });
      count.textContent = words ? shown + " of " + options.length + " shown" : "";
    });
  });
})();
