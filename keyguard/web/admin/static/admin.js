// keyguard admin page: enhancements only. Every flow works without this file.
"use strict";
(function () {
  // The one-time value: shown as a modal dialog, with a Copy button.
  document.querySelectorAll("dialog[data-modal]").forEach(function (dialog) {
    dialog.close();
    dialog.showModal();
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); });
  });
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
