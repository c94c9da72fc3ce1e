// Keep the officer's console current: the queue's numbers every few seconds, and the whole
// page when a booth changed elsewhere (another officer, a void). The poll sends the ETag it
// holds, so an unchanged floor costs a 304 with no body.
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue || !window.fetch) {
    return;
  }
  var waiting = queue.querySelector("[data-waiting]");
  var longest = queue.querySelector("[data-longest]");
  var unit = queue.querySelector("[data-unit]");
  var every = Math.max(Number(queue.dataset.every) || 2.5, 0.2) * 1000;
  var etag = null;

  function show(state) {
    if (state.booths !== queue.dataset.booths) {
      window.location.reload();
      return;
    }
    waiting.textContent = state.waiting;
    longest.textContent = state.longest_wait_minutes === null ? "–" : state.longest_wait_minutes;
    unit.hidden = state.longest_wait_minutes === null;
    // A free booth can call once somebody waits; a busy one keeps its button off.
    Array.prototype.forEach.call(document.querySelectorAll(".booth-card.free [data-call]"), function (button) {
      button.disabled = state.waiting === 0;
    });
    queue.classList.remove("stale");
  }

  function refresh() {
    if (document.hidden) {
      return;
    }
    var headers = {Accept: "application/json"};
    if (etag) {
      headers["If-None-Match"] = etag;
    }
    fetch(queue.dataset.url, {credentials: "same-origin", cache: "no-store", headers: headers})
      .then(function (response) {
        if (response.status === 304) {
          queue.classList.remove("stale");
          return null;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (state) {
        if (state) {
          show(state);
        }
      })
      .catch(function () {
        // Offline or logged out: keep the last numbers but show they may be old.
        queue.classList.add("stale");
      });
  }

  window.setInterval(refresh, every);
  document.addEventListener("visibilitychange", refresh);
  refresh();
}());

// A second tap on a slow connection would call two numbers or skip a step: send each press once.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll(".booth-card form, .other-booths form"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
    });
  });
}());
