// keyguard admin page: enhancements only. Every flow works without this file.
"use strict";
(function () {
  // The one-time value: a Copy button, then the dialog as a modal, focus on Copy (so Enter
  // copies rather than leaving the only page that shows the value).
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector("[data-copied]");
    button.hidden = !navigator.clipboard;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
        if (status) { status.textContent = "The key is on your clipboard."; }
      }, function () {
        if (status) { status.textContent = "Copying failed: select the key and copy it."; }
      });
    });
  });
  document.querySelectorAll("dialog[data-modal]").forEach(function (dialog) {
    dialog.close();
    dialog.showModal();
    var copy = dialog.querySelector("[data-copy]:not([hidden])");
    if (copy) { copy.focus(); }
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); });
  });
  // A page kept in the back/forward cache must not bring the value back.
  window.addEventListener("pagehide", function () {
    document.querySelectorAll("#key-value").forEach(function (value) { value.textContent = ""; });
  });
  // The new-key form: only the list of places the chosen type has. A hidden list is also
  // disabled, so what it holds is not sent; without this script both show, and the server
  // says which one does not fit the type.
  var typed = document.querySelectorAll("[data-for-access]");
  function showPlacesFor() {
    var chosen = document.querySelector("input[name=access]:checked");
    typed.forEach(function (part) {
      var shown = !chosen || part.getAttribute("data-for-access") === chosen.value;
      part.hidden = !shown;
      part.querySelectorAll("textarea").forEach(function (area) { area.disabled = !shown; });
    });
  }
  if (typed.length > 1) {
    document.querySelectorAll("input[name=access]").forEach(function (radio) {
      radio.addEventListener("change", showPlacesFor);
    });
    showPlacesFor();
  }
  // Usage limits: typing limits chooses "These limits" (without this script, the server says to).
  document.querySelectorAll("textarea[name=rate_limits]").forEach(function (area) {
    area.addEventListener("input", function () {
      var own = area.form.querySelector("input[name=rate_mode][value=own]");
      if (own && area.value.trim()) { own.checked = true; }
    });
  });
  // Revoke and delete: ask in a dialog instead of on a page of their own.
  document.querySelectorAll("a[data-dialog]").forEach(function (link) {
    var dialog = document.getElementById(link.getAttribute("data-dialog"));
    if (!dialog) { return; }
    link.addEventListener("click", function (event) {
      event.preventDefault();
      dialog.showModal();
    });
    dialog.querySelectorAll("[data-close]").forEach(function (cancel) {
      cancel.addEventListener("click", function (event) {
        event.preventDefault();
        dialog.close();
        link.focus();
      });
    });
  });
})();
