// koastops front-end glue. No inline handlers anywhere (CSP); everything hooks in here.
// Toasts, the confirm dialog, menus (row menus and the top bar's), focus after swaps.
(function () {
  "use strict";

  var TOAST_MS = 6000;
  var LEVELS = { success: 1, info: 1, warning: 1, error: 1 };

  // --- toasts ------------------------------------------------------------------------
  function iconFor(name) {
    var tpl = document.getElementById("toast-icons");
    if (!tpl) return null;
    var holder = tpl.content.querySelector('[data-level="' + name + '"]');
    var svg = holder ? holder.querySelector("svg") : null;
    return svg ? svg.cloneNode(true) : null;
  }

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    if (!region || !message) return null;
    level = LEVELS[level] ? level : "info";
    var toast = document.createElement("div");
    toast.className = "toast toast-" + level;
    var icon = iconFor(level);
    if (icon) toast.appendChild(icon);
    var text = document.createElement("div");
    text.className = "toast-message";
    text.textContent = message; // text only: never HTML from the server
    toast.appendChild(text);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-ghost btn-sm btn-icon toast-close";
    close.setAttribute("aria-label", "Dismiss");
    var x = iconFor("close");
    if (x) close.appendChild(x); else close.textContent = "×";
    close.addEventListener("click", function () { toast.remove(); });
    toast.appendChild(close);
    region.appendChild(toast);

    // Auto-dismiss, but never while the pointer is on it or focus is in it.
    var timer = null;
    function start() { stop(); timer = setTimeout(function () { toast.remove(); }, TOAST_MS); }
    function stop() { if (timer) { clearTimeout(timer); timer = null; } }
    toast.addEventListener("mouseenter", stop);
    toast.addEventListener("focusin", stop);
    toast.addEventListener("mouseleave", function () { if (!toast.contains(document.activeElement)) start(); });
    toast.addEventListener("focusout", function (event) {
      if (!toast.contains(event.relatedTarget) && !toast.matches(":hover")) start();
    });
    start();
    return toast;
  }
  window.koastops = window.koastops || {};
  window.koastops.toast = showToast;

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

  // <button data-toast="Saved." data-toast-level="success"> (the style guide's samples).
  document.addEventListener("click", function (event) {
    var trigger = event.target instanceof Element ? event.target.closest("[data-toast]") : null;
    if (trigger) showToast(trigger.getAttribute("data-toast"), trigger.getAttribute("data-toast-level"));
  });

  // --- confirm dialog ----------------------------------------------------------------
  // <form data-confirm="Question?" data-confirm-button="Archive" data-confirm-tone="danger">:
  // the submit is stopped in the capture phase (before htmx sees it), the dialog asks, and
  // on confirm the form is submitted again with a flag so it passes this time.
  var confirming = null; // {form, submitter, trigger}

  function visibleText(element) {
    if (!element) return "";
    var copy = element.cloneNode(true);
    copy.querySelectorAll(".visually-hidden, svg").forEach(function (n) { n.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function openConfirm(form, submitter) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return false;
    var ok = dialog.querySelector("[data-dialog-ok]");
    var danger = form.getAttribute("data-confirm-tone") === "danger";
    var buttonText = form.getAttribute("data-confirm-button") || visibleText(submitter) || "Confirm";
    dialog.querySelector("[data-dialog-title]").textContent =
      form.getAttribute("data-confirm-title") || "Please confirm";
    dialog.querySelector("[data-dialog-text]").textContent = form.getAttribute("data-confirm");
    ok.textContent = buttonText;
    ok.className = "btn " + (danger ? "btn-danger" : "btn-primary");
    dialog.classList.toggle("dialog-danger", danger);
    dialog.returnValue = "";
    confirming = { form: form, submitter: submitter, trigger: submitter || document.activeElement };
    dialog.showModal();
    var cancel = dialog.querySelector("[data-dialog-cancel]");
    if (cancel) cancel.focus();
    return true;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (form.dataset.confirmed === "1") { delete form.dataset.confirmed; return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    if (!openConfirm(form, event.submitter || null)) {
      // No <dialog> support: the browser's own confirm is still better than none.
      if (window.confirm(form.getAttribute("data-confirm"))) {
        form.dataset.confirmed = "1";
        form.requestSubmit(event.submitter || undefined);
      }
    }
  }, true);

  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (!(dialog instanceof HTMLDialogElement) || dialog.id !== "confirm-dialog" || !confirming) return;
    var pending = confirming;
    confirming = null;
    var trigger = pending.trigger;
    if (trigger && document.contains(trigger) && typeof trigger.focus === "function") trigger.focus();
    if (dialog.returnValue === "confirm" && document.contains(pending.form)) {
      var menu = pending.form.closest("details[open]");
      if (menu) menu.open = false;
      pending.form.dataset.confirmed = "1";
      if (pending.submitter && pending.form.contains(pending.submitter)) {
        pending.form.requestSubmit(pending.submitter);
      } else {
        pending.form.requestSubmit();
      }
      if (menu && menu.querySelector("summary")) menu.querySelector("summary").focus();
    }
  }, true);

  // --- menus (details.row-menu, details.dropdown) ------------------------------------
  var MENU = "details.row-menu, details.dropdown";

  function closeMenu(menu, refocus) {
    if (!menu.open) return;
    menu.open = false;
    if (refocus) { var s = menu.querySelector("summary"); if (s) s.focus(); }
  }

  function placeRowMenu(menu) {
    // A row menu sits inside a scrolling table box that would clip it: pin it to the
    // viewport next to its button (CSSOM styles are allowed by the CSP).
    var list = menu.querySelector(".menu");
    var summary = menu.querySelector("summary");
    if (!list || !summary) return;
    list.classList.add("menu-fixed");
    var r = summary.getBoundingClientRect();
    var w = list.offsetWidth, h = list.offsetHeight;
    var left = Math.max(8, Math.min(r.right - w, window.innerWidth - w - 8));
    var top = r.bottom + 4;
    if (top + h > window.innerHeight - 8 && r.top - h - 4 > 8) top = r.top - h - 4;
    list.style.left = left + "px";
    list.style.top = top + "px";
  }

  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (!(menu instanceof HTMLDetailsElement) || !menu.matches(MENU) || !menu.open) return;
    document.querySelectorAll(MENU).forEach(function (other) {
      if (other !== menu && other.open && !other.contains(menu)) other.open = false;
    });
    if (menu.matches(".row-menu")) placeRowMenu(menu);
  }, true);

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var target = event.target instanceof Element ? event.target : null;
    var menu = target ? target.closest(MENU) : null;
    if (menu && menu.open) { event.preventDefault(); closeMenu(menu, true); }
  });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    document.querySelectorAll(MENU).forEach(function (menu) {
      if (menu.open && !(target && menu.contains(target))) closeMenu(menu, false);
    });
  });

  function placeOpenRowMenus() {
    document.querySelectorAll("details.row-menu[open]").forEach(placeRowMenu);
  }
  // Scrolling the page or a table box moves the button: the pinned menu follows it (closing
  // it instead would take the menu away from a keyboard user whose focus scrolled the box).
  window.addEventListener("resize", placeOpenRowMenus);
  document.addEventListener("scroll", function (event) {
    var open = document.querySelector("details.row-menu[open] .menu");
    if (open && !(event.target instanceof Node && open.contains(event.target))) placeOpenRowMenus();
  }, true);

  // A chosen menu item (a link, an htmx editor, a plain submit) closes its menu once the
  // click has done its work; forms that ask first close it from the confirm dialog.
  document.addEventListener("click", function (event) {
    var item = event.target instanceof Element ? event.target.closest("details.row-menu .menu-item") : null;
    if (!item) return;
    var form = item.closest("form");
    if (form && form.dataset.confirm) return;
    var menu = item.closest("details.row-menu");
    setTimeout(function () { if (menu) menu.open = false; }, 0);
  });

  // --- focus after loads and swaps ---------------------------------------------------
  function focusErrorSummary(root) {
    var summary = (root || document).querySelector("[data-error-summary]:not([data-focused])");
    if (!summary) return false;
    summary.setAttribute("data-focused", "1");
    summary.focus();
    return true;
  }

  var focusAfterSwap = null; // the id of the region a pagination link swaps

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt instanceof Element && elt.hasAttribute("data-focus-after-swap")) {
      var target = elt.getAttribute("hx-target") || "";
      focusAfterSwap = target.charAt(0) === "#" ? target.slice(1) : null;
    }
  });

  document.body.addEventListener("htmx:afterSettle", function () {
    if (focusErrorSummary(document)) { focusAfterSwap = null; return; }
    if (focusAfterSwap) {
      var region = document.getElementById(focusAfterSwap);
      focusAfterSwap = null;
      if (region) {
        if (!region.hasAttribute("tabindex")) region.setAttribute("tabindex", "-1");
        region.focus();
        region.scrollIntoView({ block: "nearest" });
      }
    }
  });

  function onReady() { focusErrorSummary(document); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", onReady);
  else onReady();
})();
