// koastops front-end glue. No inline handlers anywhere (CSP); everything hooks in here.
(function () {
  "use strict";

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    if (!region || !message) return;
    var toast = document.createElement("div");
    toast.className = "toast toast-" + (level || "success");
    toast.textContent = message; // text only: never HTML from the server
    region.appendChild(toast);
    setTimeout(function () { toast.remove(); }, 6000);
  }

  // Server answers carry {"toast": {"message": ..., "level": ...}} in HX-Trigger.
  document.body.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    showToast(detail.message, detail.level);
  });

  // Failed htmx requests must not fail silently.
  document.body.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    // The server already said what happened (an HX-Trigger toast): one message, not two.
    if (xhr && /"toast"/.test(xhr.getResponseHeader("HX-Trigger") || "")) return;
    var status = xhr ? xhr.status : "";
    showToast("The server could not do that (" + status + "). Nothing was changed.", "error");
  });
  document.body.addEventListener("htmx:sendError", function () {
    showToast("The server cannot be reached. Check your connection and try again.", "error");
  });

  // Confirmation before destructive actions: <form data-confirm="..."> (works with and
  // without htmx, since htmx honours a cancelled submit event).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }
  }, true);
})();
