// A booked visitor at the door: find their booking by code (typed, or read from its QR code by
// the camera where the browser has BarcodeDetector), or by name or phone among today's, and pick
// it; the check then carries its code (offline/view.js asks door.booking for it). The answer says
// which rules the booking met, from the API's JSON. Offline (or with no answer), a paired tablet
// searches the list of today's bookings it keeps by the same rules (offline/rules.js), and the
// rest is the same: the list found, the booking picked.
(function (door) {
  "use strict";
  var finder = document.querySelector("[data-booking-find]");
  var form = document.querySelector("form.checkin");
  if (!finder || !form || !window.fetch) {
    return;
  }
  var search = finder.querySelector("#booking-search");
  var found = finder.querySelector("[data-found]");
  var picked = finder.querySelector("[data-picked]");
  var none = finder.querySelector("[data-found-none]");
  var failed = finder.querySelector("[data-find-failed]");
  var scan = finder.querySelector("[data-scan]");
  var camera = finder.querySelector("[data-camera]");
  var codeField = form.elements.booking_code;
  var lang = document.documentElement.lang || "en";
  var scanning = null;
  // The booking picked, as the search found it (with its status when found).
  var current = null;

  function dayText(isoDay) {
    return new Intl.DateTimeFormat(lang, {weekday: "short", day: "numeric", month: "short", year: "numeric",
      timeZone: "UTC"}).format(new Date(isoDay + "T00:00:00Z"));
  }

  function hourMinute(instant) {
    return new Intl.DateTimeFormat("en-GB", {hour: "2-digit", minute: "2-digit", hour12: false,
      timeZone: finder.dataset.timezone}).format(new Date(instant));
  }

  function clearFound() {
    found.textContent = "";
    none.hidden = true;
    failed.hidden = true;
  }

  // The site's today: the copy of the page kept for offline use may be of another day.
  function today() {
    return door.rules ? door.rules.localDay(new Date(), finder.dataset.timezone) : finder.dataset.today;
  }

  function pick(booking) {
    clearFound();
    current = booking;
    codeField.value = booking.code;
    picked.querySelector("[data-picked-name]").textContent = booking.name;
    picked.querySelector("[data-picked-session]").textContent = booking.session + "–" + booking.session_ends;
    picked.querySelector("[data-picked-code]").textContent = booking.code;
    var otherDay = picked.querySelector("[data-picked-other-day]");
    otherDay.hidden = booking.day === today();
    otherDay.textContent = otherDay.hidden ? "" : otherDay.dataset.words.replace("{day}", dayText(booking.day));
    var status = picked.querySelector("[data-picked-status]");
    // A video session is served from home: the door says so before anyone fills the check.
    var said = booking.kind === "video" ? status.dataset.kindVideo
      : status.dataset["status" + booking.status.charAt(0).toUpperCase() + booking.status.slice(1)];
    status.hidden = !said;
    status.textContent = said || "";
    picked.dataset.status = booking.status;
    picked.hidden = false;
    search.value = "";
  }

  function unpick() {
    current = null;
    codeField.value = "";
    picked.hidden = true;
    delete picked.dataset.status;
  }

  function listed(bookings) {
    clearFound();
    if (bookings.length === 1 && bookings[0].code === search.value.replace(/[\s-]/g, "").toUpperCase()) {
      pick(bookings[0]);  // the code itself: nothing to choose
      return;
    }
    none.hidden = bookings.length > 0;
    var template = finder.querySelector("[data-found-item]");
    bookings.forEach(function (booking) {
      var item = template.content.firstElementChild.cloneNode(true);
      item.querySelector(".name").textContent = booking.name;
      item.querySelector(".session").textContent = booking.session + "–" + booking.session_ends;
      item.querySelector(".code").textContent = booking.code;
      item.querySelector("button").addEventListener("click", function () { pick(booking); });
      found.appendChild(item);
    });
  }

  // Today's bookings as this tablet keeps them, or null (not a paired tablet, or none kept
  // for today).
  function keptList() {
    var sync = door.sync;
    if (!sync || !sync.paired || !door.store) {
      return Promise.resolve(null);
    }
    return door.store.bookings(sync.deviceId).then(function (list) {
      return list && list.day === today() ? list : null;
    });
  }

  function searchKept(typed) {
    return keptList().then(function (list) {
      if (!list) {
        throw new Error("no list kept");
      }
      return door.rules.findBookings(list, typed);
    });
  }

  function searchServer(typed) {
    var url = finder.dataset.url + "?q=" + encodeURIComponent(typed);
    return fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"}).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    }).then(function (answer) { return answer.items; });
  }

  function find(typed) {
    typed = typed.trim();
    if (!typed) {
      return Promise.resolve();
    }
    search.value = typed;
    typed = typed.slice(0, 60);
    var offline = door.sync && !door.sync.isOnline();
    return (offline ? searchKept(typed) : searchServer(typed).catch(function () {
      return searchKept(typed);
    })).then(listed, function () {
      clearFound();
      failed.hidden = false;
    });
  }

  // The camera reads the QR code a visitor shows: its text is the booking's code.
  function stopScanning() {
    if (scanning) {
      scanning.getTracks().forEach(function (track) { track.stop(); });
      scanning = null;
    }
    camera.hidden = true;
  }

  function startScanning() {
    var detector = new window.BarcodeDetector({formats: ["qr_code"]});
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}}).then(function (stream) {
      scanning = stream;
      camera.srcObject = stream;
      camera.hidden = false;
      return camera.play().then(function () {
        function look() {
          if (!scanning) {
            return;
          }
          detector.detect(camera).then(function (codes) {
            if (codes.length) {
              stopScanning();
              // The code itself, or a link ending in it.
              find(codes[0].rawValue.split(/[/=?#]/).filter(Boolean).pop() || "");
            } else {
              window.requestAnimationFrame(look);
            }
          }, function () { window.requestAnimationFrame(look); });
        }
        look();
      });
    }).catch(function () {
      stopScanning();
      search.focus();  // no camera, or no permission: type the code
    });
  }

  // What the door says of the booking the check carried, filled in from the API's answer.
  function show(booking) {
    var said = document.querySelector("#answer [data-booking-said]");
    if (!said) {
      return;
    }
    said.hidden = !booking;
    if (!booking) {
      said.textContent = "";
      return;
    }
    said.textContent = (said.dataset["said" + booking.channel.replace(/(^|_)([a-z])/g, function (_m, _s, letter) {
      return letter.toUpperCase();
    })] || "").replace("{opens}", hourMinute(booking.opens)).replace("{closes}", hourMinute(booking.closes))
      .replace("{day}", dayText(booking.day));
    said.dataset.channel = booking.channel;
  }

  finder.hidden = false;
  picked.querySelector("[data-picked-other-day]").dataset.words =
    picked.querySelector("[data-picked-other-day]").textContent;
  if ("BarcodeDetector" in window && navigator.mediaDevices) {
    scan.hidden = false;
    scan.addEventListener("click", function () {
      if (scanning) {
        stopScanning();
      } else {
        startScanning();
      }
    });
  }
  finder.querySelector("[data-find]").addEventListener("click", function () { find(search.value); });
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();  // Enter searches; it does not send the check
      find(search.value);
    }
  });
  picked.querySelector("[data-unpick]").addEventListener("click", unpick);
  if (codeField.value) {
    find(codeField.value);  // the form shown again after an error keeps the booking picked
  }

  door.booking = {
    code: function () { return codeField.value || null; },
    clear: function () {
      unpick();
      clearFound();
      stopScanning();
      search.value = "";
    },
    show: show,
    find: find,
    // The booking picked, as found: {code, name, session, session_ends, status, day}, or null.
    picked: function () { return codeField.value ? current : null; },
  };
}(window.checkinDoor = window.checkinDoor || {}));
