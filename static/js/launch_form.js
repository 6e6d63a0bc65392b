// The launch form's structure rows and live name checks (templates/launches/form.html).
// No inline handlers (the CSP has no unsafe-inline): everything listens on the document,
// so it also works on a form htmx swapped in.
// - "Add ad set" / "Add ad" (hx-get launches:structure_row): the next free index is sent
//   (indices need not be contiguous; the server sorts them), the new row's first input
//   gets the focus and the change is announced in #structure-status.
// - "Remove this …": the row leaves the page, focus moves to the row before it (or the
//   add button) and the removal is announced.
// - a name input with data-name-check sends its value as "name" (the check's parameter).
(function () {
  "use strict";
  if (window.koastopsLaunchForm) return;
  window.koastopsLaunchForm = true;

  function nextIndex(container) {
    var max = -1;
    var rows = container ? container.children : [];
    for (var i = 0; i < rows.length; i++) {
      var value = parseInt(rows[i].getAttribute("data-index"), 10);
      if (!isNaN(value) && value > max) max = value;
    }
    return max + 1;
  }

  function announce(message) {
    var status = document.getElementById("structure-status");
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function renumber(container) {
    if (!container) return;
    var n = 0;
    for (var i = 0; i < container.children.length; i++) {
      var row = container.children[i];
      var number = row.querySelector("[data-row-number]");
      n += 1;
      if (number) number.textContent = String(n);
    }
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.getAttribute) return;
    var kind = elt.getAttribute("data-add-row");
    if (kind) {
      var target = document.querySelector(elt.getAttribute("hx-target"));
      if (kind === "ad_set") event.detail.parameters.set = String(nextIndex(target));
      else event.detail.parameters.ad = String(nextIndex(target));
      return;
    }
    if (elt.hasAttribute("data-name-check")) {
      var params = event.detail.parameters;
      if (elt.name) delete params[elt.name];
      params.name = elt.value;
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || !target.querySelector) return;
    var fresh = target.querySelector("[data-new-row]");
    if (!fresh) return;
    fresh.removeAttribute("data-new-row");
    fresh.querySelectorAll("[data-new-row]").forEach(function (inner) { inner.removeAttribute("data-new-row"); });
    renumber(target);
    var input = fresh.querySelector("input, select, textarea");
    if (input) input.focus();
    var legend = fresh.querySelector("legend");
    announce((legend ? legend.textContent.trim() : "A row") + " added.");
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-remove-row]");
    if (!button) return;
    var kind = button.getAttribute("data-remove-row");
    var row = button.closest('[data-row="' + kind + '"]');
    if (!row) return;
    var container = row.parentElement;
    var legend = row.querySelector("legend");
    var label = legend ? legend.textContent.trim() : "The row";
    var before = row.previousElementSibling;
    row.remove();
    renumber(container);
    var focus = before && before.querySelector("input, select, textarea");
    if (!focus) {
      var scope = container.closest("[data-row]") || document;
      focus = scope.querySelector('[data-add-row="' + kind + '"]');
    }
    if (focus) focus.focus();
    announce(label + " removed.");
  });
})();
