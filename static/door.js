// A second tap on a slow connection would record the visitor twice: send each form once.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form.checkin, form.retest"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      form.classList.add("sending");
    });
  });
}());

// The second tap of a double tap on "check visitor" lands on "next visitor", which takes that
// button's place: ignore it for a moment, so the answer stays up for the visitor to see. The
// result page arms its link at once; the door's own answer (offline/view.js) each time it shows.
(function (door) {
  "use strict";
  var ARMING_MS = 1000;

  function arm(next) {
    next.classList.add("arming");
    next.setAttribute("aria-disabled", "true");
    window.setTimeout(function () {
      next.classList.remove("arming");
      next.removeAttribute("aria-disabled");
    }, ARMING_MS);
  }

  document.addEventListener("click", function (event) {
    var next = event.target.closest && event.target.closest(".next.arming");
    if (next) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  door.arm = arm;
  var next = document.getElementById("next");
  if (next) {
    arm(next);
  }
}(window.checkinDoor = window.checkinDoor || {}));

// The on-screen keypad: big keys for gloved fingers, and no device keyboard covering the
// toggles and the submit button. Typing on a real keyboard still works.
(function () {
  "use strict";
  var MAX_LENGTH = 5;
  Array.prototype.forEach.call(document.querySelectorAll(".keypad"), function (keypad) {
    var input = document.getElementById(keypad.dataset.for);
    if (!input) {
      return;
    }
    keypad.hidden = false;
    input.setAttribute("inputmode", "none");
    keypad.addEventListener("click", function (event) {
      var key = event.target.closest("button[data-key]");
      if (!key) {
        return;
      }
      if (key.dataset.key === "back") {
        input.value = input.value.slice(0, -1);
      } else if (input.value.length < (Number(keypad.dataset.max) || MAX_LENGTH)) {
        input.value += key.dataset.key;
      }
    });
  });
}());

// After a form error the field to correct has the focus; bring it and its error line into view
// above the sticky button ourselves: Chrome does not always scroll an autofocused field.
(function () {
  "use strict";
  var field = document.querySelector("form.checkin [autofocus]");
  if (field) {
    (field.closest(".field") || field).scrollIntoView({block: "nearest"});
  }
}());

// A visitor resting for a re-test: count down to the minute shown, then offer the second reading.
(function () {
  "use strict";
  var notice = document.getElementById("retest-at");
  var form = document.querySelector("form.retest");
  if (!notice || !form || form.querySelector("[aria-invalid=true]")) {
    return;
  }
  var readyAt = new Date(notice.dataset.readyAt).getTime();
  var countdown = notice.querySelector("[data-countdown]");

  function tick() {
    var left = Math.ceil((readyAt - Date.now()) / 1000);
    if (left <= 0) {
      countdown.textContent = "· " + notice.dataset.ready;
      form.hidden = false;
      window.clearInterval(timer);
      return;
    }
    form.hidden = true;
    countdown.textContent = "(" + Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") + ")";
  }
  var timer = window.setInterval(tick, 1000);
  tick();
}());

// Logging out of a shared door tablet ends the shift: ask first, a stray tap should not do it.
(function () {
  "use strict";
  var logout = document.querySelector("form.logout[data-confirm]");
  if (logout) {
    logout.addEventListener("submit", function (event) {
      if (!window.confirm(logout.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }
}());

// Opening the visitor details brings their last field into view above the sticky button.
(function () {
  "use strict";
  var details = document.querySelector("details.visitor");
  if (details) {
    details.addEventListener("toggle", function () {
      if (details.open) {
        details.querySelector(".details-grid").lastElementChild.scrollIntoView({block: "nearest"});
      }
    });
  }
}());
