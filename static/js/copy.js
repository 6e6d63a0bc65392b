// Copy buttons and select-on-display inputs (a new API token). No inline handlers (CSP).
//
//   <input id="new-token" readonly data-select-on-display>
//   <button type="button" data-copy-target="new-token"><span data-copy-label>Copy</span></button>
//   <span class="visually-hidden" aria-live="polite" data-copy-status></span>
//
// An input with data-select-on-display is focused and its whole value selected when it
// appears (page load or htmx swap), so Ctrl+C works at once. The button copies the
// target's value to the clipboard, says "Copied" (data-copied-label) for 2 s and
// announces it in the nearest data-copy-status live region.
(function () {
  "use strict";

  var COPIED_MS = 2000;

  function selectOnDisplay(root) {
    var input = (root || document).querySelector("input[data-select-on-display]:not([data-selected])");
    if (!input) return;
    input.setAttribute("data-selected", "1");
    input.focus();
    input.select();
  }

  // Selecting again whenever the field gets the focus (click, Tab) keeps it one keystroke away.
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-select-on-display")) {
      target.select();
    }
  });

  function fallbackCopy(input) {
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function announce(button, text) {
    var scope = button.closest("[role=status], .notice, form, section") || document;
    var status = scope.querySelector("[data-copy-status]");
    if (status) status.textContent = text;
  }

  function showCopied(button) {
    var label = button.querySelector("[data-copy-label]") || button;
    if (!button.hasAttribute("data-copy-original")) {
      button.setAttribute("data-copy-original", label.textContent);
    }
    label.textContent = button.getAttribute("data-copied-label") || "Copied";
    button.classList.add("is-copied");
    announce(button, "Copied to the clipboard.");
    clearTimeout(button._copyTimer);
    button._copyTimer = setTimeout(function () {
      label.textContent = button.getAttribute("data-copy-original");
      button.classList.remove("is-copied");
      announce(button, "");
    }, COPIED_MS);
  }

  function showFailed(button, input) {
    input.focus();
    input.select();
    announce(button, "Copying failed: the token is selected, press Ctrl+C (or ⌘C) to copy it.");
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var button = target ? target.closest("[data-copy-target]") : null;
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!(input instanceof HTMLInputElement || input instanceof HTMLTextAreaElement)) return;
    event.preventDefault();
    var value = input.value;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(
        function () { showCopied(button); },
        function () { if (fallbackCopy(input)) showCopied(button); else showFailed(button, input); }
      );
    } else if (fallbackCopy(input)) {
      showCopied(button);
    } else {
      showFailed(button, input);
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { selectOnDisplay(document); });
  } else {
    selectOnDisplay(document);
  }
  // After an htmx swap (the token region comes back with the new token): the marker
  // keeps an input from being selected twice.
  document.addEventListener("htmx:afterSettle", function () { selectOnDisplay(document); });
})();
