// The door when the connection drops. The tablet holds a lease: a few of today's slot numbers,
// with the site's rules. Offline it decides each check by those rules, gives a passing visitor
// the next leased slot (none left: refused, never admitted on hope), and keeps the check in an
// IndexedDB outbox, which survives a reload or a restart. When the server answers again the
// outbox is sent in order; each check's client reference makes a repeated send harmless.
(function () {
  "use strict";
  var ANSWER_TIMEOUT_MS = 4000;
  var PROBE_EVERY_MS = 5000;
  var DEVICE_KEY = "checkin.device";
  var status = document.getElementById("connection");
  var tokenField = document.querySelector("input[name=csrf_token]");
  if (!status || !tokenField || !window.indexedDB || !window.fetch || !window.Intl) {
    return;
  }
  var form = document.querySelector("form.checkin");
  var answer = document.getElementById("offline-answer");
  var actions = document.getElementById("offline-actions");
  var online = true;
  var sending = false;
  var retestOf = null;

  function newId() {
    if (window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    // Plain HTTP on an office network has no randomUUID: build a version 4 UUID by hand.
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // A paired tablet is the device the server made when it was paired: its leases are that one's.
  var deviceId = status.dataset.device || window.localStorage.getItem(DEVICE_KEY);
  if (!deviceId) {
    deviceId = newId();
  }
  window.localStorage.setItem(DEVICE_KEY, deviceId);

  // IndexedDB, kept small: one database, the outbox in order of recording, and the lease.
  var opened = null;
  function database() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var request = window.indexedDB.open("checkin-door", 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore("outbox", {autoIncrement: true});
          request.result.createObjectStore("lease", {keyPath: "device_id"});
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opened;
  }

  // Run `work(stores)` in one transaction; resolve with what it returned once it is committed.
  function transact(mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(["outbox", "lease"], mode);
        var result = work({outbox: tx.objectStore("outbox"), lease: tx.objectStore("lease")});
        tx.oncomplete = function () { resolve(result && "value" in result ? result.value : result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function localDay(instant, zone) {
    // en-CA writes dates as YYYY-MM-DD, the form the server gives the lease's day in.
    return new Intl.DateTimeFormat("en-CA", {timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit"})
      .format(instant);
  }

  function read(request, into) {
    request.onsuccess = function () { into.value = request.result; };
  }

  function storedLease() {
    return transact("readonly", function (stores) {
      var found = {value: null};
      read(stores.lease.get(deviceId), found);
      return found;
    });
  }

  function waiting() {
    return transact("readonly", function (stores) {
      var found = {value: []};
      var cursor = stores.outbox.openCursor();
      cursor.onsuccess = function () {
        if (cursor.result) {
          found.value.push({key: cursor.result.key, check: cursor.result.value});
          cursor.result.continue();
        }
      };
      return found;
    });
  }

  // --- Talking to the server: every request gives up after a few seconds. ---

  function request(url, options) {
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, ANSWER_TIMEOUT_MS);
    options = options || {};
    options.credentials = "same-origin";
    options.signal = controller.signal;
    options.headers = Object.assign({Accept: "application/json", "X-CSRFToken": tokenField.value},
      options.headers || {});
    return fetch(url, options).finally(function () { window.clearTimeout(timer); });
  }

  function postJSON(url, body) {
    return request(url, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)});
  }

  // Offline, the counter shows what this tablet can still admit: the slots it holds today.
  // A tablet holding slots of today can still admit: then the "quota used up" banner is not true here.
  function showHeldSlots() {
    var left = document.querySelector("#counter [data-left]");
    var banner = document.getElementById("quota-full");
    return storedLease().then(function (lease) {
      var held = lease && lease.day === localDay(new Date(), lease.policy.timezone) ? lease.slots.length : 0;
      if (left && lease && !online) {
        left.textContent = held;
      }
      if (banner) {
        banner.hidden = held > 0;
      }
    });
  }

  function showStatus() {
    showHeldSlots();
    return waiting().then(function (checks) {
      var count = checks.length;
      var form_ = new Intl.PluralRules(document.documentElement.lang).select(count);
      var words = form_ === "one" ? status.dataset.waitingOne : status.dataset.waitingOther;
      status.querySelector("[data-state]").textContent = online ? status.dataset.online : status.dataset.offline;
      status.querySelector("[data-waiting]").textContent = count ? "· " + words.replace("{n}", count) : "";
      status.classList.toggle("offline", !online);
      status.hidden = online && count === 0;
    });
  }

  // The outbox is sent and the lease topped up when the connection comes back (and on each page
  // load), not on every probe: an idle tablet would otherwise write to the server every 5 s.
  function setOnline(now) {
    var returned = now && !online;
    if (online !== now) {
      online = now;
      document.documentElement.classList.toggle("offline", !online);
      var counter = document.getElementById("counter");
      if (counter) {
        counter.classList.toggle("stale", !online);
      }
    }
    showStatus();
    if (returned) {
      sendWaiting();
    }
  }

  function takeLease() {
    return postJSON(status.dataset.leases || "/api/v1/leases", {device_id: deviceId})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (lease) {
        return transact("readwrite", function (stores) { stores.lease.put(lease); });
      });
  }

  // Send the outbox in order. A stored check (201), one already stored (200) and one the server
  // keeps for the manager (409) leave the tablet; a refusal of the input stays, shown as waiting.
  function sendWaiting() {
    if (sending) {
      return;
    }
    sending = true;
    waiting().then(function (checks) {
      return checks.reduce(function (previous, item) {
        return previous.then(function () {
          return postJSON(status.dataset.upload, item.check).then(function (response) {
            if (response.ok || response.status === 409) {
              return transact("readwrite", function (stores) { stores.outbox.delete(item.key); });
            }
            if (response.status === 401 || response.status === 403) {
              throw new Error("logged out");
            }
          });
        });
      }, Promise.resolve());
    }).then(takeLease).then(function () {
      sending = false;
      return showStatus();
    }, function () {
      sending = false;
      return showStatus();
    });
  }

  function probe() {
    if (document.hidden) {
      return;
    }
    request(status.dataset.probe).then(function (response) {
      setOnline(response.ok || response.status < 500);
    }, function () {
      setOnline(false);
    });
  }

  status.dataset.leases = form ? form.dataset.leases : "/api/v1/leases";
  status.dataset.upload = form ? form.dataset.upload : "/api/v1/checkins";
  status.dataset.probe = (document.getElementById("counter") || {dataset: {}}).dataset.url || "/api/v1/quota/today";
  window.addEventListener("online", probe);
  window.addEventListener("offline", function () { setOnline(false); });
  window.setInterval(probe, PROBE_EVERY_MS);
  if ("serviceWorker" in navigator && form) {
    navigator.serviceWorker.register(form.dataset.worker).catch(function () {
      // No worker (plain HTTP on the office network): the door works online only.
    });
  }
  showStatus();
  if (navigator.onLine) {
    sendWaiting();
  } else {
    setOnline(false);
  }

  // Every door form says which tablet sent it: an admission online takes a slot it holds.
  Array.prototype.forEach.call(document.querySelectorAll("input[name=device_id]"), function (field) {
    field.value = deviceId;
  });
  if (!form || !answer) {
    return;
  }
  // The page may be the copy the service worker keeps, made with one reference for ever:
  // each page load is a new check.
  form.elements.client_ref.value = newId();

  // --- Deciding on the tablet: the rules of checkin/admission.py, with the leased policy. ---

  // A reading in tenths of a degree, rounded half-up like the server; NaN if unreadable.
  function tenths(typed) {
    var match = /^(\d{1,3})(?:[.,](\d*))?$/.exec(typed.trim());
    if (!match) {
      return NaN;
    }
    var decimals = (match[2] || "") + "00";
    return Number(match[1]) * 10 + Number(decimals[0]) + (Number(decimals[1]) >= 5 ? 1 : 0);
  }

  function screen(reading, policy, isRetest) {
    var reasons = [];
    if (reading.temperature >= Math.round(policy.fever_cutoff_c * 10)) { reasons.push("fever"); }
    if (!reading.hand_sanitiser) { reasons.push("no_hand_sanitiser"); }
    if (!reading.mask) { reasons.push("no_mask"); }
    if (!reading.distancing) { reasons.push("no_distancing"); }
    if (!reasons.length) {
      return {status: "admitted", reasons: []};
    }
    if (reasons.length === 1 && reasons[0] === "fever" && !isRetest) {
      return {status: "recheck", reasons: reasons};
    }
    return {status: "refused", reasons: reasons};
  }

  function hourMinute(instant, zone) {
    return new Intl.DateTimeFormat("en-GB", {timeZone: zone, hour: "2-digit", minute: "2-digit"}).format(instant);
  }

  function markInvalid(field, invalid) {
    field.closest(".field").classList.toggle("invalid", invalid);
    field.setAttribute("aria-invalid", invalid ? "true" : "false");
    return invalid;
  }

  // The checks the server's form makes; a wrong field is marked and nothing is kept.
  function readForm(lease) {
    var elements = form.elements;
    var temperature = tenths(elements.temperature.value);
    var policy = lease.policy;
    var wrong = [
      markInvalid(elements.temperature, !(temperature >= policy.plausible_min_c * 10 &&
        temperature <= policy.plausible_max_c * 10)),
      markInvalid(elements.phone, !new RegExp(elements.phone.dataset.pattern).test(elements.phone.value.trim())),
      markInvalid(elements.id_number, !new RegExp(elements.id_number.dataset.pattern).test(elements.id_number.value.trim())),
    ].some(Boolean);
    form.querySelector("[data-invalid]").hidden = !wrong;
    if (wrong) {
      form.querySelector("[aria-invalid=true]").focus();
      return null;
    }
    function text(name) { return elements[name].value.trim() || null; }
    return {
      temperature: temperature,
      hand_sanitiser: elements.hand_sanitiser.checked,
      mask: elements.mask.checked,
      distancing: elements.distancing.checked,
      visitor_name: text("visitor_name"),
      phone: text("phone"),
      id_number: text("id_number"),
      purpose: text("purpose"),
    };
  }

  function decideOffline() {
    return storedLease().then(function (lease) {
      if (!lease) {
        // Never online on this tablet: no rules to decide by. Say why nothing was recorded.
        form.querySelector("[data-no-lease]").hidden = false;
        return;
      }
      var reading = readForm(lease);
      if (!reading) {
        return;
      }
      var now = new Date();
      var zone = lease.policy.timezone;
      var decided = screen(reading, lease.policy, retestOf !== null);
      var slot = null;
      if (decided.status === "admitted") {
        if (lease.day === localDay(now, zone) && lease.slots.length) {
          slot = lease.slots.shift();
        } else {
          decided = {status: "refused", reasons: ["no_offline_slot"]};
        }
      }
      var check = {
        temperature_c: reading.temperature / 10,
        hand_sanitiser: reading.hand_sanitiser,
        mask: reading.mask,
        distancing: reading.distancing,
        visitor_name: reading.visitor_name,
        phone: reading.phone,
        id_number: reading.id_number,
        purpose: reading.purpose,
        client_ref: form.elements.client_ref.value,
        device_id: deviceId,
        recheck_of_ref: retestOf ? retestOf.client_ref : null,
        offline: {recorded_at: now.toISOString(), status: decided.status, reasons: decided.reasons, slot: slot},
      };
      // The slot leaves the lease in the same transaction that keeps the check.
      return transact("readwrite", function (stores) {
        stores.outbox.add(check);
        stores.lease.put(lease);
      }).then(function () {
        showAnswer(check, lease);
        return showStatus();
      });
    });
  }

  function showAnswer(check, lease) {
    var decided = check.offline;
    var zone = lease.policy.timezone;
    var recorded = new Date(decided.recorded_at);
    // As the server: ready on the next whole minute, so the minute shown is never too early.
    var readyAt = new Date(Math.ceil((recorded.getTime() + lease.policy.recheck_minutes * 60000) / 60000) * 60000);
    answer.className = "verdict offline " + decided.status;
    Array.prototype.forEach.call(answer.querySelectorAll("[data-status]"), function (part) {
      part.hidden = part.dataset.status !== decided.status;
    });
    Array.prototype.forEach.call(answer.querySelectorAll("[data-reason]"), function (item) {
      item.hidden = decided.reasons.indexOf(item.dataset.reason) < 0;
    });
    answer.querySelector("[data-slot]").textContent = decided.slot || "";
    answer.querySelector("[data-time]").textContent = hourMinute(readyAt, zone);
    answer.querySelector("[data-facts]").textContent = [hourMinute(recorded, zone),
      check.temperature_c.toFixed(1).replace(".", document.documentElement.lang === "id" ? "," : ".") + " °C",
      check.visitor_name].filter(Boolean).join(" · ");
    var retest = actions.querySelector("[data-retest]");
    retest.hidden = decided.status !== "recheck";
    retest.disabled = true;
    if (decided.status === "recheck") {
      var wait = window.setInterval(function () {
        if (new Date() >= readyAt) {
          retest.disabled = false;
          window.clearInterval(wait);
        }
      }, 1000);
      retest.onclick = function () {
        window.clearInterval(wait);
        startRetest(check, recorded, zone);
      };
    }
    form.closest(".door").hidden = true;
    answer.hidden = false;
    actions.hidden = false;
    window.scrollTo(0, 0);
  }

  function nextVisitor() {
    retestOf = null;
    form.reset();
    form.elements.client_ref.value = newId();
    form.elements.device_id.value = deviceId;
    form.querySelector("[data-retesting]").hidden = true;
    delete form.dataset.sent;
    form.classList.remove("sending");
    answer.hidden = true;
    actions.hidden = true;
    form.closest(".door").hidden = false;
    form.elements.temperature.focus();
  }

  // A re-test is a new check of the same visitor: the first one's ticks and details, a new reading.
  function startRetest(first, recorded, zone) {
    nextVisitor();
    retestOf = first;
    ["hand_sanitiser", "mask", "distancing"].forEach(function (name) {
      form.elements[name].checked = first[name];
    });
    ["visitor_name", "phone", "id_number", "purpose"].forEach(function (name) {
      form.elements[name].value = first[name] || "";
    });
    var note = form.querySelector("[data-retesting]");
    note.querySelector("[data-time]").textContent = hourMinute(recorded, zone);
    note.hidden = false;
  }

  // An admission online took the lowest slot the tablet holds: drop it from the kept lease now,
  // or the next offline visitor could be given the same number before the lease is read again.
  function forgetSlotShown(page) {
    var slot = new DOMParser().parseFromString(page, "text/html").getElementById("slot");
    if (!slot) {
      return Promise.resolve();
    }
    var number = Number(slot.textContent);
    return storedLease().then(function (lease) {
      if (lease && lease.slots.indexOf(number) >= 0) {
        lease.slots = lease.slots.filter(function (held) { return held !== number; });
        return transact("readwrite", function (stores) { stores.lease.put(lease); });
      }
    });
  }

  actions.querySelector("[data-next]").addEventListener("click", nextVisitor);

  // Online, the form is sent as usual; no answer within a few seconds means offline, and the
  // tablet decides. Should the server have stored it after all, the upload changes nothing.
  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) {
      return;  // door.js stopped a second tap: this check is on its way already
    }
    event.preventDefault();
    if (!online || retestOf) {
      // A re-test of a visitor measured offline is decided here too: the server's form only
      // knows visitors it has stored. The outbox sends it at once when online.
      decideOffline().then(function () {
        if (online) {
          sendWaiting();
        }
      });
      return;
    }
    var body = new URLSearchParams(new FormData(form));
    request(form.action, {method: "POST", body: body, headers: {Accept: "text/html"}})
      .then(function (response) {
        if (response.status >= 500) {
          throw new Error("HTTP " + response.status);  // nothing was stored: decide here
        }
        if (response.redirected && response.ok) {
          return response.text().then(function (page) {
            return forgetSlotShown(page);
          }).then(function () {
            window.location.assign(response.url);
          });
        }
        // Refused input or a lost session: let the server's own page say so (nothing was stored).
        HTMLFormElement.prototype.submit.call(form);
      }).catch(function () {
        setOnline(false);
        return decideOffline();
      });
  });
}());
