// Layout checks run in the page under test by tests/browser/test_layout_a11y.py.
// Returns {overflow, cutoff}: page-level horizontal overflow (with the elements that stick
// out of the viewport) and elements cut off by an ancestor that clips them.
() => {
  const TOLERANCE = 1; // sub-pixel rounding
  const doc = document.documentElement;
  const viewportWidth = doc.clientWidth; // innerWidth minus a vertical scrollbar

  function selectorPath(el) {
    const parts = [];
    for (let node = el; node && node.nodeType === 1 && node !== doc; node = node.parentElement) {
      if (node.id) {
        parts.unshift(`#${CSS.escape(node.id)}`);
        break;
      }
      let part = node.localName;
      const classes = [...node.classList].slice(0, 2);
      if (classes.length) part += "." + classes.map((c) => CSS.escape(c)).join(".");
      const parent = node.parentElement;
      if (parent && node.localName !== "body") {
        const same = [...parent.children].filter((c) => c.localName === node.localName);
        if (same.length > 1) part += `:nth-of-type(${same.indexOf(node) + 1})`;
      }
      parts.unshift(part);
      if (node.localName === "body") break;
    }
    return parts.join(" > ");
  }

  function label(el) {
    const text = (el.getAttribute("aria-label") || el.textContent || "").trim().replace(/\s+/g, " ");
    return text.length > 60 ? text.slice(0, 57) + "..." : text;
  }

  const hiddenMemo = new Map();
  function visuallyHidden(el) {
    // The usual .visually-hidden / .sr-only patterns: clipped to nothing, or a 1px box
    // that hides its overflow; they hide their whole subtree.
    if (!el || el === doc) return false;
    if (hiddenMemo.has(el)) return hiddenMemo.get(el);
    const cs = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    let hidden =
      cs.clip === "rect(0px, 0px, 0px, 0px)" ||
      cs.clipPath === "inset(50%)" ||
      (rect.width <= 1 && rect.height <= 1 && cs.overflow !== "visible");
    if (!hidden) hidden = visuallyHidden(el.parentElement);
    hiddenMemo.set(el, hidden);
    return hidden;
  }

  function skip(el) {
    if (["script", "style", "template", "option", "optgroup", "br", "wbr"].includes(el.localName)) return true;
    const svg = el.closest("svg");
    if (svg && svg !== el) return true; // the svg box is checked, not its shapes
    // Closed <details> content, content-visibility: hidden, display: none subtrees.
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return true;
    const cs = getComputedStyle(el);
    if (cs.visibility !== "visible" || cs.display === "contents" || Number(cs.opacity) === 0) return true;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return true;
    return visuallyHidden(el);
  }

  // Whether an ancestor that scrolls or clips on x holds ``el`` in, or it is fixed: then
  // ``el`` does not widen the page. An absolutely positioned box escapes every ancestor up to its
  // containing block (a visually-hidden label inside a scrolling table can widen the page).
  function insideOverflowBox(el) {
    let position = getComputedStyle(el).position;
    if (position === "fixed") return true;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (position === "fixed") return true; // fixed boxes never widen the page
      const cs = getComputedStyle(a);
      const containing = cs.position !== "static" || cs.transform !== "none";
      if (position === "absolute" && !containing) continue;
      if (cs.overflowX !== "visible") return true;
      position = cs.position === "absolute" || cs.position === "fixed" ? cs.position : "static";
    }
    return false;
  }

  function rendered(el) {
    if (["script", "style", "template", "option", "optgroup", "br", "wbr"].includes(el.localName)) return false;
    const svg = el.closest("svg");
    if (svg && svg !== el) return false;
    return el.getClientRects().length > 0 && el.checkVisibility();
  }

  // (a) page-level horizontal overflow, and the outermost elements that stick out.
  let overflow = null;
  if (doc.scrollWidth > window.innerWidth) {
    const sticking = new Set();
    for (const el of document.body.querySelectorAll("*")) {
      // Invisible boxes widen the page too (a visually-hidden label): only unrendered skip.
      if (!rendered(el)) continue;
      if (el.getBoundingClientRect().right <= viewportWidth + TOLERANCE) continue;
      if (insideOverflowBox(el)) continue; // scrolled or clipped there: not the page's width
      sticking.add(el);
    }
    const culprits = [];
    for (const el of sticking) {
      let outer = true;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (sticking.has(p)) outer = false;
      }
      if (!outer) continue;
      const hidden = visuallyHidden(el) ? "visually hidden, " : "";
      const right = Math.round(el.getBoundingClientRect().right);
      culprits.push({ selector: selectorPath(el), right, text: hidden + label(el) });
    }
    overflow = {
      scrollWidth: doc.scrollWidth,
      innerWidth: window.innerWidth,
      culprits: culprits.slice(0, 8),
    };
  }

  // (b) elements cut off by an ancestor that clips them. Only ancestors that clip this
  // element count: an absolutely positioned box escapes non-positioned ancestors, a fixed
  // one everything but the viewport. A scroll container (overflow auto/scroll) the user
  // can scroll ends the check on that axis: what is inside can be scrolled to.
  const cutoff = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (skip(el)) continue;
    const rect = el.getBoundingClientRect();
    let position = getComputedStyle(el).position;
    let checkX = true;
    let checkY = true;
    let found = null;
    for (let a = el.parentElement; a && (checkX || checkY); a = a.parentElement) {
      if (position === "fixed") break;
      const cs = getComputedStyle(a);
      const containing = cs.position !== "static" || cs.transform !== "none";
      if (position === "absolute" && !containing) continue;
      position = cs.position === "absolute" || cs.position === "fixed" ? cs.position : "static";
      if (a === doc || a === document.body) {
        // Overflow on the root scrolls the page and (a) reports it, unless the root hides
        // it: then whatever sticks out of the viewport cannot be reached.
        const hides = cs.overflowX === "hidden" || cs.overflowX === "clip";
        if (checkX && hides && rect.right > viewportWidth + TOLERANCE) {
          found = { clipper: a, axis: "x" };
          break;
        }
        continue;
      }
      const box = a.getBoundingClientRect();
      const left = box.left + a.clientLeft;
      const top = box.top + a.clientTop;
      const right = left + a.clientWidth;
      const bottom = top + a.clientHeight;
      for (const axis of ["x", "y"]) {
        const value = axis === "x" ? cs.overflowX : cs.overflowY;
        if ((axis === "x" && !checkX) || (axis === "y" && !checkY)) continue;
        if (value === "auto" || value === "scroll") {
          if (axis === "x") checkX = false;
          else checkY = false;
          continue;
        }
        if (value !== "hidden" && value !== "clip") continue;
        // Deliberate truncation (an ellipsis, a line clamp) is a design choice, not a cut.
        if (axis === "x" && cs.textOverflow === "ellipsis") continue;
        if (axis === "y" && cs.webkitLineClamp && cs.webkitLineClamp !== "none") continue;
        const out =
          axis === "x"
            ? rect.left < left - TOLERANCE || rect.right > right + TOLERANCE
            : rect.top < top - TOLERANCE || rect.bottom > bottom + TOLERANCE;
        if (out && !found) found = { clipper: a, axis };
      }
      if (found) break;
    }
    // The viewport: nothing can be scrolled to left of 0, and a fixed box (or what is in
    // it) does not scroll at all. Boxes wholly off-screen are hidden on purpose (a skip
    // link until focused, a closed drawer); those partly on screen are cut.
    const onScreenX = rect.right > 0 && rect.left < viewportWidth;
    if (!found && onScreenX && rect.left < -TOLERANCE) {
      found = { clipper: null, axis: "x" };
    }
    if (!found && position === "fixed") {
      const onScreenY = rect.bottom > 0 && rect.top < doc.clientHeight;
      if (onScreenX && onScreenY && rect.right > viewportWidth + TOLERANCE) {
        found = { clipper: null, axis: "x" };
      } else if (onScreenX && onScreenY && (rect.top < -TOLERANCE || rect.bottom > doc.clientHeight + TOLERANCE)) {
        found = { clipper: null, axis: "y" };
      }
    }
    // Its own text, cut by its own overflow: hidden (a label wider than its button).
    if (!found) {
      const cs = getComputedStyle(el);
      const clipsX = (cs.overflowX === "hidden" || cs.overflowX === "clip") && cs.textOverflow !== "ellipsis";
      const clipsY = (cs.overflowY === "hidden" || cs.overflowY === "clip") && (!cs.webkitLineClamp || cs.webkitLineClamp === "none");
      if (clipsX || clipsY) {
        const left = rect.left + el.clientLeft;
        const top = rect.top + el.clientTop;
        for (const node of el.childNodes) {
          if (node.nodeType !== 3 || !node.textContent.trim()) continue;
          const range = document.createRange();
          range.selectNodeContents(node);
          for (const r of range.getClientRects()) {
            const outX = clipsX && (r.left < left - TOLERANCE || r.right > left + el.clientWidth + TOLERANCE);
            // Vertically only a line that is mostly hidden counts: glyphs often overhang a
            // tight line box by a pixel or two, which hides nothing.
            const middle = (r.top + r.bottom) / 2;
            const outY = clipsY && (middle < top || middle > top + el.clientHeight);
            if (outX || outY) found = { clipper: el, axis: outX ? "x" : "y", text: true };
          }
          if (found) break;
        }
      }
    }
    if (found) cutoff.push({ el, ...found });
  }

  // Report the outermost element cut by each clipper, not every descendant of it.
  const reported = new Set(cutoff.map((c) => c.el));
  const outermost = cutoff.filter((c) => {
    for (let p = c.el.parentElement; p; p = p.parentElement) {
      if (p === c.clipper) return true;
      if (reported.has(p)) return false;
    }
    return true;
  });
  return {
    overflow,
    cutoff: outermost.slice(0, 12).map((c) => {
      const rect = c.el.getBoundingClientRect();
      const box = c.clipper ? c.clipper.getBoundingClientRect() : null;
      return {
        selector: selectorPath(c.el),
        text: label(c.el),
        clipper: c.text ? "its own overflow (text cut)" : c.clipper ? selectorPath(c.clipper) : "viewport",
        axis: c.axis,
        box: [Math.round(rect.left), Math.round(rect.top), Math.round(rect.right), Math.round(rect.bottom)],
        clip: box ? [Math.round(box.left), Math.round(box.top), Math.round(box.right), Math.round(box.bottom)] : null,
      };
    }),
    cutoffTotal: outermost.length,
  };
}
