// The visual policy editor's keyboard glue (policies/visual/policy_editor.html). Everything else is htmx.
// - After a swap of #policy-editor, focus goes where the server says (data-focus) when the focused control is gone.
// - An access level's open/closed state rides along in a hidden field, so a swap doesn't fold it back.
// - "Filter actions" hides the actions that don't match as it is typed, without a request.
// - Enter in the editor's text fields doesn't submit the wizard (Next): in the service filter it picks the first
//   service listed, in an ARN part it adds the ARN.
(function () {
  "use strict";
  if (window.iamVisualEditor) { return; }  // htmx re-runs this file when the wizard is swapped
  window.iamVisualEditor = true;

  document.addEventListener("htmx:afterSwap", function () {
    var editor = document.getElementById("policy-editor");
    if (!editor) { return; }
    var active = document.activeElement;
    var lost = !active || active === document.body || !document.contains(active);
    var wanted = editor.getAttribute("data-focus");
    if (wanted && lost) {
      var target = document.getElementById(wanted);
      if (target) { target.focus(); }
    }
    editor.removeAttribute("data-focus");
  });

  function setOpen(level, open) {
    level.classList.toggle("open", open);
    var toggle = level.querySelector(".level-toggle");
    var flag = level.querySelector("input[type=hidden]");
    if (toggle) { toggle.setAttribute("aria-expanded", open ? "true" : "false"); }
    if (flag) { flag.disabled = !open; }
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("#policy-editor .level-toggle");
    if (!toggle) { return; }
    var level = toggle.closest(".access-level");
    setOpen(level, !level.classList.contains("open"));
  });

  document.addEventListener("input", function (event) {
    var field = event.target;
    var selector = field.getAttribute && field.getAttribute("data-filters");
    var scope = selector ? document.querySelector(selector) : null;
    if (!scope) { return; }
    var query = field.value.trim().toLowerCase();
    scope.querySelectorAll(".access-level").forEach(function (level) {
      var hits = 0;
      level.querySelectorAll("label[data-action]").forEach(function (label) {
        var match = !query || label.getAttribute("data-action").indexOf(query) !== -1;
        label.classList.toggle("filtered-out", !match);
        if (match) { hits += 1; }
      });
      if (query && hits) { setOpen(level, true); }
    });
  });

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !field.closest || !field.closest("#policy-editor")) { return; }
    if (field.tagName !== "INPUT" || (field.type !== "text" && field.type !== "search")) { return; }
    event.preventDefault();
    var selector = field.getAttribute("data-enter-first") || field.getAttribute("data-enter-click");
    var button = selector ? document.querySelector(selector) : null;
    if (button) { button.click(); }
  });
})();
