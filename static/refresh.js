// Reloads a page that asks for it (data-refresh-seconds), while the page is in view: head office
// keeps every site's figures current. A meta refresh would do it without script, but it also
// reloads a page nobody looks at, and axe counts it as a timed change (WCAG 2.2.1).
(function () {
  "use strict";
  var holder = document.querySelector("[data-refresh-seconds]");
  if (!holder) {
    return;
  }
  var seconds = parseInt(holder.dataset.refreshSeconds, 10);
  window.setInterval(function () {
    if (document.visibilityState === "visible") {
      window.location.reload();
    }
  }, seconds * 1000);
}());
