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

  /* ------------------------------------------------------------ account menu (details) */
  function closeMenus(except) {
    document.querySelectorAll("details.topbar-account[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.topbar-account"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.topbar-account[open]");
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
    var lines = area.value.split("\n").length;
    if (gutter.getAttribute("data-lines") !== String(lines)) {
      var out = [];
      for (var i = 1; i <= lines; i++) out.push(i);
      gutter.textContent = out.join("\n");
      gutter.setAttribute("data-lines", String(lines));
    }
    gutter.scrollTop = area.scrollTop;
  }

  function addGutters(root) {
    root.querySelectorAll("textarea.code-editor").forEach(function (area) {
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

  /* ------------------------------------------------------------ wiring */
  function enhance(root) {
    if (!root || !root.querySelectorAll) return;
    addCopyButtons(root);
    addGutters(root);
    root.querySelectorAll("input[data-confirm-match]").forEach(syncConfirm);
    root.querySelectorAll("form").forEach(syncCounters);
    if (root.closest) syncCounters(root.closest("form"));
  }

  enhance(document);
  // htmx fires htmx:load for every piece of content it swaps in.
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
})();
