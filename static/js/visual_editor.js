// The visual policy editor's keyboard glue (policies/visual/policy_editor.html). Everything else is htmx.
// - After a swap of #policy-editor, focus goes where the server says (data-focus) when the focused control is gone.
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

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !field.closest || !field.closest("#policy-editor")) { return; }
    if (field.tagName !== "INPUT" || field.type !== "text") { return; }
    event.preventDefault();
    var selector = field.getAttribute("data-enter-first") || field.getAttribute("data-enter-click");
    var button = selector ? document.querySelector(selector) : null;
    if (button) { button.click(); }
  });
})();
