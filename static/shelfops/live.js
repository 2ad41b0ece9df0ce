// Reloads a changelist every data-seconds, unless staff ticked a row or are typing in a field.
(function () {
  "use strict";
  var script = document.currentScript;
  var seconds = parseInt(script && script.dataset.seconds, 10) || 30;
  function busy() {
    if (document.querySelector("#result_list input[type=checkbox]:checked")) return true;
    var el = document.activeElement;
    return !!(el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA") &&
      el.type !== "checkbox" && el.type !== "submit");
  }
  function tick() {
    if (busy() || document.hidden) { setTimeout(tick, seconds * 1000); return; }
    window.location.reload();
  }
  setTimeout(tick, seconds * 1000);
})();
