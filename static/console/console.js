/* IAM Classroom console behaviour: small progressive enhancements only.
   Loaded with defer; no inline script anywhere (strict CSP). Nothing here decides what a user may do:
   every action is still a plain form post or link checked by the server. */
(function () {
  "use strict";

  /* ------------------------------------------------------------ flash dismiss */
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (!button) return;
    var target = button.getAttribute("data-dismiss");
    var box = target ? document.getElementById(target) : button.closest(".flash, .alert");
    if (box) box.remove();
  });

  /* ------------------------------------------------------------ top bar menus (details): Services, account */
  function closeMenus(except) {
    document.querySelectorAll("details.topbar-menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.topbar-menu"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (event.target.closest && event.target.closest("[data-search]")) return;  // the search box handles its own
    var open = document.querySelector("details.topbar-menu[open]");
    if (open) {
      open.removeAttribute("open");
      var summary = open.querySelector("summary");
      if (summary) summary.focus();
      return;
    }
    // A page rendered as a modal closes through its own dismiss link.
    var dismiss = document.querySelector(".modal-page .modal-dismiss[href]");
    if (dismiss) window.location.assign(dismiss.getAttribute("href"));
  });

  document.addEventListener("toggle", function (event) {
    if (event.target.matches && event.target.matches("details.topbar-menu") && event.target.open) closeMenus(event.target);
  }, true);

  /* ------------------------------------------------------------ copy to clipboard */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "sr-only";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  function valueOf(el) {
    var explicit = el.getAttribute("data-copy");
    if (explicit) return explicit;
    var text = "";
    el.childNodes.forEach(function (node) {
      if (!(node.nodeType === 1 && node.classList.contains("copy-btn"))) text += node.textContent;
    });
    return text.trim();
  }

  function addCopyButtons(root) {
    var nodes = root.querySelectorAll(".kv dd.mono, [data-copy]");
    nodes.forEach(function (el) {
      if (el.hasAttribute("data-copy-ready") || el.hasAttribute("data-no-copy")) return;
      if (!valueOf(el)) return;
      el.setAttribute("data-copy-ready", "");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-btn";
      button.setAttribute("aria-label", "Copy");
      button.title = "Copy";
      el.insertBefore(button, el.firstChild);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".copy-btn");
    if (!button) return;
    event.preventDefault();
    var owner = button.parentElement;
    button.classList.remove("copied", "copy-failed");
    copyText(valueOf(owner)).then(function () {
      button.classList.add("copied");
    }, function () {
      button.classList.add("copied", "copy-failed");
    }).then(function () {
      window.setTimeout(function () { button.classList.remove("copied", "copy-failed"); }, 1500);
    });
  });

  /* ------------------------------------------------------------ code editor line numbers */
  function syncGutter(area, gutter) {
    // a textarea (editor) or a pre (read-only viewer: trust policy, event record): its text, less a final newline
    var text = area instanceof HTMLTextAreaElement ? area.value : area.textContent.replace(/\n$/, "");
    var lines = text.split("\n").length;
    if (gutter.getAttribute("data-lines") !== String(lines)) {
      var out = [];
      for (var i = 1; i <= lines; i++) out.push(i);
      gutter.textContent = out.join("\n");
      gutter.setAttribute("data-lines", String(lines));
    }
    gutter.scrollTop = area.scrollTop;
  }

  function addGutters(root) {
    root.querySelectorAll("textarea.code-editor, pre.code-editor").forEach(function (area) {
      if (area.hasAttribute("data-gutter-ready")) return;
      area.setAttribute("data-gutter-ready", "");
      var wrap = document.createElement("div");
      wrap.className = "code-editor-wrap";
      var gutter = document.createElement("div");
      gutter.className = "code-gutter";
      gutter.setAttribute("aria-hidden", "true");
      area.parentNode.insertBefore(wrap, area);
      wrap.appendChild(gutter);
      wrap.appendChild(area);
      var sync = function () { syncGutter(area, gutter); };
      area.addEventListener("input", sync);
      area.addEventListener("scroll", sync);
      sync();
    });
  }

  // Tab inserts two spaces in the JSON editor; Escape then Tab leaves it (keyboard users are not trapped).
  var tabEscape = false;
  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (!(area instanceof HTMLTextAreaElement) || !area.classList.contains("code-editor")) return;
    if (event.key === "Escape") { tabEscape = true; return; }
    if (event.key !== "Tab" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) {
      tabEscape = false;
      return;
    }
    if (tabEscape) { tabEscape = false; return; }
    event.preventDefault();
    var start = area.selectionStart;
    var end = area.selectionEnd;
    area.setRangeText("  ", start, end, "end");
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });

  /* ------------------------------------------------------------ opt-in delete confirmation */
  // <input data-confirm-match="alice"> keeps the form's submit buttons disabled until the text matches.
  // The server checks the confirmation again; this only mirrors the console's behaviour.
  function syncConfirm(input) {
    var form = input.form;
    if (!form) return;
    var ok = input.value.trim() === input.getAttribute("data-confirm-match");
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = !ok; });
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[data-confirm-match]")) syncConfirm(event.target);
  });

  /* ------------------------------------------------------------ opt-in selection counters */
  // <span data-count-checked="policies"> shows "(N selected)" for the checked boxes of that name in its form.
  function syncCounters(form) {
    if (!form) return;
    form.querySelectorAll("[data-count-checked]").forEach(function (counter) {
      var name = counter.getAttribute("data-count-checked");
      var n = form.querySelectorAll('input[name="' + name + '"]:checked').length;
      counter.textContent = "(" + n + " selected)";
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=checkbox], input[type=radio]")) syncCounters(event.target.form);
  });

  /* ------------------------------------------------------------ keyboard focus across in-place updates */
  // An htmx swap that replaces the focused control would drop focus to <body> (a keyboard user then needs ~20 Tabs
  // to get back). Before the swap we note what had focus; after it we focus its counterpart in the new content: the
  // same control (matched by name and value, so a radio group keeps working with the arrow keys), or, when a step
  // button (Next, Previous) changed the page's heading, the new heading; when it did not (the step has an error),
  // the first field with an error. data-then-focus="<selector>" on a button names what to focus after it instead
  // (the last match wins: "Add new tag" focuses the new tag's key).
  var pendingFocus = null;

  function usable(el) {
    return el && el.type !== "hidden" && !el.disabled && el.getClientRects().length > 0;
  }

  function counterpart(root, note) {
    if (!note.name) return null;
    var candidates = root.querySelectorAll('[name="' + CSS.escape(note.name) + '"]');
    for (var i = 0; i < candidates.length; i++) {
      var el = candidates[i];
      if (!usable(el)) continue;
      if (note.byValue && el.value !== note.value) continue;
      return el;
    }
    return null;
  }

  function firstError(root) {
    var alerts = root.querySelectorAll('[role="alert"]');
    for (var i = 0; i < alerts.length; i++) {
      if (!alerts[i].textContent.trim()) continue;
      var label = alerts[i].closest("label");
      var field = label && label.querySelector("input:not([type=hidden]), select, textarea");
      if (usable(field)) return field;
      alerts[i].setAttribute("tabindex", "-1");
      return alerts[i];
    }
    return null;
  }

  function focusHeading(root) {
    var heading = root.querySelector("h1");
    if (!heading) return null;
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    return heading;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var target = event.detail.target;
    pendingFocus = null;
    if (!active || active === document.body || !target || !target.contains(active)) return;
    // Content that places focus itself (data-manages-focus: the visual policy editor's data-focus) is left alone.
    if (target.closest && target.closest("[data-manages-focus]")) return;
    var heading = target.querySelector("h1");
    pendingFocus = {
      name: active.getAttribute("name"),
      value: active.value,
      byValue: active.type === "radio" || active.type === "checkbox" || active.tagName === "BUTTON",
      isButton: active.tagName === "BUTTON" || active.type === "submit",
      then: active.getAttribute("data-then-focus"),
      heading: heading ? heading.textContent.trim() : null,
    };
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var note = pendingFocus;
    pendingFocus = null;
    var root = event.target;
    // htmx itself restored focus (an element with the same id, or [autofocus]): leave it there.
    if (!note || !root || !root.querySelectorAll || (document.activeElement && document.activeElement !== document.body)) return;
    var next = null;
    if (note.then) {
      var matches = root.querySelectorAll(note.then);
      next = matches.length ? matches[matches.length - 1] : null;
    }
    if (!next && note.isButton) {
      var heading = root.querySelector("h1");
      if (heading && heading.textContent.trim() !== note.heading) next = focusHeading(root);
      else next = firstError(root);
    }
    if (!next) next = counterpart(root, note);
    if (!next) next = focusHeading(root) || root;
    if (next === root && !root.hasAttribute("tabindex")) root.setAttribute("tabindex", "-1");
    next.focus({ preventScroll: false });
  });

  /* ------------------------------------------------------------ Enter in a live filter box */
  // A filter box inside a wizard's form filters as it is typed; Enter there must not submit the form (its default
  // button would be "Previous" or "Next"), only run the filter now.
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key !== "Enter" || !(box instanceof HTMLInputElement) || box.type !== "search") return;
    if (!box.form || box.form.method !== "post" || !box.hasAttribute("hx-trigger")) return;
    // A box that says what Enter does (the visual policy editor's service filter picks the first service) is left
    // to its own handler.
    if (box.hasAttribute("data-enter-first") || box.hasAttribute("data-enter-click")) return;
    event.preventDefault();
    if (window.htmx) window.htmx.trigger(box, "search");
  });

  /* ------------------------------------------------------------ Retrieve password: warn before leaving */
  // AWS warns when a person leaves the Create user wizard's Retrieve password step without showing or downloading
  // the password: it can never be seen again. Any link out of the page opens the warning (the "Leave page" button
  // then follows it); showing the password or downloading the .csv file ends the warnings.
  function passwordStep() {
    var step = document.querySelector("[data-password-step]");
    return step && !step.dataset.passwordKept ? step : null;
  }
  document.addEventListener("toggle", function (event) {
    var step = event.target.closest && event.target.closest("[data-password-step]");
    if (step && event.target.open) step.dataset.passwordKept = "1";
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    var step = link && passwordStep();
    if (!step) return;
    if (link.hasAttribute("download")) { step.dataset.passwordKept = "1"; return; }
    var href = link.getAttribute("href");
    if (href.indexOf("mailto:") === 0 || href.charAt(0) === "#" || link.target === "_blank") return;
    if (link.closest("#leave-password-step") || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var modal = document.getElementById("leave-password-step");
    if (!modal) return;
    event.preventDefault();
    modal.querySelector("[data-leave-confirm]").setAttribute("href", href);
    modal.hidden = false;
    modal.returnFocus = link;
    modal.querySelector("[data-leave-cancel]").focus();
  });
  function closeLeaveWarning(modal) {
    modal.hidden = true;
    if (modal.returnFocus) modal.returnFocus.focus();
  }
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("[data-leave-cancel]");
    if (cancel) closeLeaveWarning(cancel.closest("#leave-password-step"));
  });
  document.addEventListener("keydown", function (event) {
    var modal = document.getElementById("leave-password-step");
    if (event.key === "Escape" && modal && !modal.hidden) closeLeaveWarning(modal);
  });

  /* ------------------------------------------------------------ top bar search (a combobox) */
  // The box keeps the focus (the ARIA combobox pattern): ArrowDown/ArrowUp move the active option
  // (aria-activedescendant), Enter opens it, Escape closes the list (a second Escape clears the box).
  function searchParts() {
    var box = document.getElementById("topbar-search");
    var list = document.getElementById("search-results");
    return box && list ? { box: box, list: list } : null;
  }
  function searchOptions(list) {
    return Array.prototype.slice.call(list.querySelectorAll('a[role="option"]'));
  }
  function setSearchOpen(parts, open) {
    parts.list.hidden = !open;
    parts.box.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) setActiveOption(parts, null);
  }
  function setActiveOption(parts, option) {
    searchOptions(parts.list).forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    if (option) {
      parts.box.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      parts.box.removeAttribute("aria-activedescendant");
    }
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var parts = searchParts();
    if (!parts || event.target !== parts.list) return;
    var hasContent = parts.box.value.trim() !== "" && parts.list.children.length > 0;
    setSearchOpen(parts, hasContent && document.activeElement === parts.box);
  });
  document.addEventListener("input", function (event) {
    var parts = searchParts();
    if (parts && event.target === parts.box && parts.box.value.trim() === "") {
      parts.list.innerHTML = "";
      setSearchOpen(parts, false);
    }
  });
  document.addEventListener("keydown", function (event) {
    var parts = searchParts();
    if (!parts || event.target !== parts.box) return;
    var options = searchOptions(parts.list);
    var active = parts.list.querySelector('a[role="option"][aria-selected="true"]');
    var index = options.indexOf(active);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!options.length) return;
      if (parts.list.hidden) setSearchOpen(parts, true);
      var next = event.key === "ArrowDown" ? index + 1 : index - 1;
      if (next >= options.length) next = 0;
      if (next < 0) next = options.length - 1;
      setActiveOption(parts, options[next]);
    } else if (event.key === "Enter") {
      event.preventDefault();
      var chosen = active || (options.length ? options[0] : null);
      if (chosen && !parts.list.hidden) window.location.assign(chosen.getAttribute("href"));
      else if (window.htmx) window.htmx.trigger(parts.box, "search");
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      if (!parts.list.hidden) setSearchOpen(parts, false);
      else parts.box.value = "";
    }
  });
  document.addEventListener("focusin", function (event) {
    var parts = searchParts();
    if (!parts) return;
    if (event.target === parts.box && parts.box.value.trim() && searchOptions(parts.list).length) setSearchOpen(parts, true);
  });
  document.addEventListener("click", function (event) {
    var parts = searchParts();
    if (parts && !event.target.closest("[data-search]")) setSearchOpen(parts, false);
  });

  /* ------------------------------------------------------------ sign-in, first step: Root user or IAM user */
  // Only the chosen kind's field is shown and submitted (the other is disabled, so its "required" does not block).
  // Without this script both fields show and the server reads the chosen kind's.
  function syncSigninKind(form) {
    var checked = form.querySelector('input[name="signin_kind"]:checked');
    var kind = checked ? checked.value : "root";
    form.querySelectorAll("[data-signin-for]").forEach(function (field) {
      var on = field.getAttribute("data-signin-for") === kind;
      field.hidden = !on;
      field.querySelectorAll("input").forEach(function (input) { input.disabled = !on; });
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-signin-who]");
    if (form && event.target.name === "signin_kind") syncSigninKind(form);
  });

  /* ------------------------------------------------------------ wiring */
  function enhance(root) {
    if (!root || !root.querySelectorAll) return;
    addCopyButtons(root);
    addGutters(root);
    root.querySelectorAll("input[data-confirm-match]").forEach(syncConfirm);
    root.querySelectorAll("form").forEach(syncCounters);
    root.querySelectorAll("form[data-signin-who]").forEach(syncSigninKind);
    if (root.closest) syncCounters(root.closest("form"));
  }

  enhance(document);
  // htmx fires htmx:load for every piece of content it swaps in.
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
})();
