// Back / forward on list pages: the filter form (form[role=search], see
// templates/components/list_filters.html) and the table must both match the URL.
//
// How: htmx keeps no page snapshots (historyCacheSize = 0). A snapshot is the page's HTML,
// in which an <input>'s value is the one the server rendered, not the one typed since (and a
// <select>'s the same), while the table is whatever was last swapped in: restoring one shows
// a search box that disagrees with the table. Without a snapshot, htmx loads the URL from
// the server on back / forward (HX-History-Restore-Request, answered with the whole page:
// koastops.core.htmx.wants_fragment), so the form and the table come from one rendering of
// that URL. It also keeps page content out of sessionStorage.
//
// The browser can still put other values into the fields: its form restore of what was
// typed (on a reload or a back without bfcache), and a bfcache restore of a page whose
// search was typed after its last pushed URL. So on htmx:historyRestore, popstate and
// pageshow every list filter form is also set from location.search (without firing input /
// change, so no request is sent).
(function () {
  "use strict";

  if (window.htmx) {
    window.htmx.config.historyCacheSize = 0;
    window.htmx.config.refreshOnHistoryMiss = false; // fetch the page with htmx, no full reload
    try {
      window.sessionStorage.removeItem("htmx-history-cache"); // snapshots of an older visit
    } catch (error) {
      // storage disabled: nothing cached either
    }
  }

  // A field the URL names takes the URL's value; one it does not name takes the value the
  // server rendered into the page (defaultValue / defaultSelected: the server's default,
  // which may be a saved preference rather than the first option).
  function setField(field, params) {
    var name = field.name;
    if (!name || field.disabled) return;
    var named = params.has(name);
    var values = params.getAll(name);
    var tag = field.tagName;
    var type = (field.type || "").toLowerCase();
    if (tag === "SELECT") {
      var i;
      var wanted = [];
      for (i = 0; i < field.options.length; i++) {
        var option = field.options[i];
        if (named ? values.indexOf(option.value) >= 0 : option.defaultSelected) {
          wanted.push(option.value);
        }
      }
      if (!field.multiple && !wanted.length && field.options.length) {
        wanted = [field.options[0].value]; // a value the list lacks: the server's fallback
      }
      if (field.tomselect) {
        field.tomselect.setValue(field.multiple ? wanted : wanted[0], true); // silent
        return;
      }
      for (i = 0; i < field.options.length; i++) {
        field.options[i].selected = wanted.indexOf(field.options[i].value) >= 0;
      }
    } else if (type === "checkbox" || type === "radio") {
      field.checked = named ? values.indexOf(field.value || "on") >= 0 : field.defaultChecked;
    } else if (type !== "hidden" && type !== "submit" && type !== "button" && tag !== "BUTTON") {
      field.value = named ? values[0] : field.defaultValue;
    }
  }

  function syncFilterForms() {
    var params = new URLSearchParams(window.location.search);
    var forms = document.querySelectorAll("form[role=search]");
    for (var i = 0; i < forms.length; i++) {
      var elements = forms[i].elements;
      for (var j = 0; j < elements.length; j++) setField(elements[j], params);
    }
  }

  document.addEventListener("htmx:historyRestore", syncFilterForms);
  window.addEventListener("popstate", function () {
    // htmx swaps the restored page in after this event; sync now (bfcache-free plain
    // pushState entries) and once more when htmx says it restored.
    syncFilterForms();
  });
  window.addEventListener("pageshow", syncFilterForms); // after the browser's form restore
  if (document.readyState !== "loading") syncFilterForms();
  else document.addEventListener("DOMContentLoaded", syncFilterForms);
})();
