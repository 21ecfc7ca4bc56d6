// The catalogue's filters apply as soon as one changes; without this file the form's
// "Filter" button sends them.
(function () {
  var forms = document.querySelectorAll("form[data-submit-on-change]");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("change", function () { form.submit(); });
    var button = form.querySelector("button[type=submit]");
    if (button) { button.hidden = true; }
  });
})();
