// Searchable pickers: enhances every <select data-picker> (koastops.core.widgets) with Tom
// Select. Without this file the server-rendered <select> works as it is, and the server
// validates the value either way.
//
// Accessibility notes (Tom Select 2.6):
// - The input you type in is a role=combobox with aria-controls / aria-activedescendant on
//   its listbox; Tom Select moves the <label for> to it. We also hand it the select's
//   aria-describedby (help text, error list) and aria-invalid, which it does not copy.
// - Chips (multi-select): Backspace in the empty input removes the last chip; ArrowLeft /
//   ArrowRight move between chips and Backspace / Delete removes the active one. Each chip's
//   remove button is named "Remove <value>". A polite live region says what was added or
//   removed, since the chips themselves are not announced.
// - No inline style attributes or eval: Tom Select sets element.style properties from
//   script (CSSOM), which a strict style-src allows.
(function () {
  "use strict";

  var status;

  function liveRegion() {
    if (!status || !document.body.contains(status)) {
      status = document.createElement("div");
      status.className = "visually-hidden picker-status";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      document.body.appendChild(status);
    }
    return status;
  }

  function announce(message) {
    var region = liveRegion();
    region.textContent = "";
    // A new text node after a tick is announced even when the message repeats.
    window.setTimeout(function () { region.textContent = message; }, 50);
  }

  // Case and accent insensitive ("cote" finds Côte d'Ivoire).
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // Score: every word typed must occur; a match at the start of a word (or of the code) ranks
  // above one inside a word, so "ger" puts "DE — Germany" before "NE — Niger" and Algeria.
  function score(search) {
    var tokens = fold(search).split(/\s+/).filter(Boolean);
    return function (item) {
      if (!tokens.length) return 1;
      var text = fold(item.text + " " + item.value);
      var total = 0;
      for (var i = 0; i < tokens.length; i++) {
        var at = text.indexOf(tokens[i]);
        if (at < 0) return 0;
        var wordStart = at === 0 || /[\s/\-—_(.,']/.test(text.charAt(at - 1));
        if (!wordStart) {
          // A later occurrence may start a word ("america/argentina/..." for "arg").
          var re = new RegExp("(^|[\\s/\\-—_(.,'])" + tokens[i].replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
          wordStart = re.test(text);
        }
        total += (wordStart ? 2 : 1) - Math.min(at, 500) / 1000;
      }
      return total;
    };
  }

  function optionText(ts, value) {
    var option = ts.options[value];
    return option ? option.text : String(value);
  }

  function nameRemoveButtons(ts) {
    var items = ts.control.querySelectorAll(".item");
    for (var i = 0; i < items.length; i++) {
      var button = items[i].querySelector(".remove");
      if (button) {
        var label = "Remove " + optionText(ts, items[i].getAttribute("data-value"));
        button.setAttribute("aria-label", label);
        button.setAttribute("title", label);
      }
    }
  }

  // The input one types in is empty once values are picked, and the chips are not part of
  // the combobox: its description starts with "Selected: …", then the field's own help and
  // error (the select's aria-describedby, which Tom Select does not copy).
  function describe(select, ts) {
    var id = select.id + "-ts-selected";
    var node = document.getElementById(id);
    if (!node) {
      node = document.createElement("span");
      node.id = id;
      node.className = "visually-hidden";
      ts.wrapper.appendChild(node);
    }
    var names = ts.items.map(function (value) { return optionText(ts, value); });
    node.textContent = names.length ? "Selected: " + names.join(", ") + "." : "Nothing selected.";
    var own = (select.getAttribute("aria-describedby") || "").trim();
    ts.control_input.setAttribute("aria-describedby", own ? id + " " + own : id);
    if (select.getAttribute("aria-invalid")) {
      ts.control_input.setAttribute("aria-invalid", select.getAttribute("aria-invalid"));
    }
    if (select.required) ts.control_input.setAttribute("aria-required", "true");
  }

  function enhance(select) {
    if (select.tomselect || typeof window.TomSelect !== "function") return;
    var multiple = select.multiple;
    var settings = {
      create: false,
      maxOptions: null, // every match is reachable (time zones: about 600)
      // Filter at once (Tom Select waits 300 ms by default): typing "berlin" and Enter
      // straight away must pick Berlin, not whatever was first before the filter ran.
      refreshThrottle: 0,
      searchField: ["text", "value"],
      score: score,
      allowEmptyOption: false, // the "Choose …" option is the placeholder, not a choice
      closeAfterSelect: !multiple,
      clearAfterSelect: true, // multi: the list stays open, the search starts over
      hidePlaceholder: !multiple, // a picked value replaces the hint; chips keep it after them
      plugins: multiple ? { remove_button: { title: "Remove" } } : {},
      // In a scrolling table box (a row's role editor) the list would be clipped: hang it
      // on <body>, where Tom Select positions it under the control.
      dropdownParent: select.closest(".table-wrap") ? "body" : null,
      render: {
        no_results: function () {
          return '<div class="no-results">No match. Try another spelling or fewer letters.</div>';
        },
      },
      onInitialize: function () {
        describe(select, this);
        // The native select stays in the page (the form submits it) but is no control for
        // anyone now: out of the accessibility tree, so it is not a second, unlabelled one.
        select.setAttribute("aria-hidden", "true");
        // A link to the field (the error summary's "#id_currency") lands on the hidden
        // select: hand the focus on to the input one types in.
        var ts = this;
        select.addEventListener("focus", function () { ts.focus(); });
        nameRemoveButtons(this);
      },
      onChange: function () {
        describe(select, this);
      },
      onItemAdd: function (value) {
        nameRemoveButtons(this);
        if (multiple) {
          announce(optionText(this, value) + " added, " + this.items.length + " selected.");
        }
      },
      onItemRemove: function (value) {
        if (multiple) {
          announce(optionText(this, value) + " removed, " + this.items.length + " selected.");
        }
      },
    };
    try {
      new window.TomSelect(select, settings);
    } catch (error) {
      // The plain <select> still works; say why in the console for whoever looks.
      if (window.console) window.console.warn("picker not enhanced", error);
    }
  }

  function enhanceWithin(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("select[data-picker]")) enhance(scope);
    var selects = scope.querySelectorAll("select[data-picker]");
    for (var i = 0; i < selects.length; i++) enhance(selects[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhanceWithin(document); });
  } else {
    enhanceWithin(document);
  }
  // Content swapped in by htmx (a re-rendered form with errors, a history restore, a row
  // editor loaded on demand).
  document.addEventListener("htmx:load", function (event) { enhanceWithin(event.target); });
  // A picker htmx swaps out: drop its document listeners and a list hung on <body> (its id
  // would clash with the picker that replaces it). After the swap, not while htmx walks
  // the old element's children.
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var ts = event.target && event.target.tomselect;
    if (ts) window.setTimeout(function () { ts.destroy(); }, 0);
  });
})();
