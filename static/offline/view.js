// The door's form and its answer. Online, a check is posted as JSON to the API and the answer is
// shown from the JSON it returns; with no answer within a few seconds (or none expected: the
// tablet is offline) a paired tablet decides by its lease's rules and keeps the check in its
// outbox; a browser no manager paired checks online only and says so. Visitors this tablet sent
// to rest are listed from its own storage, so they survive "next visitor" and a reload. A booked
// visitor offline is admitted to their booked place by the list of today's bookings the tablet
// keeps, once on this tablet; the server gives their queue number when the check is sent.
(function (door) {
  "use strict";
  var form = document.querySelector("form.checkin");
  var answer = document.getElementById("answer");
  var actions = document.getElementById("answer-actions");
  if (!form || !answer || !actions || !door.sync || !door.rules) {
    return;
  }
  var sync = door.sync;
  var rules = door.rules;
  var store = sync.paired ? door.store : null;
  var pageRules = JSON.parse(form.dataset.rules);
  var tabletList = document.querySelector("[data-tablet-retests]");
  // The first reading of the visitor being re-tested: {id, client_ref, checked_at, ...} or null.
  var retestOf = null;
  var waitTimer = null;

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

  function markInvalid(field, invalid) {
    field.closest(".field").classList.toggle("invalid", invalid);
    field.setAttribute("aria-invalid", invalid ? "true" : "false");
    return invalid;
  }

  function matches(field) {
    return new RegExp(field.dataset.pattern).test(field.value.trim());
  }

  // The reading and details as typed, or null when a field is wrong: the field is marked, and
  // nothing is kept.
  function readForm() {
    var elements = form.elements;
    var temperature = rules.tenths(elements.temperature.value);
    var wrong = [
      markInvalid(elements.temperature, !rules.plausible(temperature, pageRules)),
      markInvalid(elements.visitor_name, !rules.storable(elements.visitor_name.value)),
      markInvalid(elements.phone, !matches(elements.phone)),
      markInvalid(elements.id_number, !matches(elements.id_number)),
    ].some(Boolean);
    form.querySelector("[data-invalid]").hidden = !wrong;
    if (wrong) {
      form.querySelector("[aria-invalid=true]").focus();
      return null;
    }
    function text(name) { return elements[name].value.trim() || null; }
    return {
      temperature_dc: temperature,
      hand_sanitiser: elements.hand_sanitiser.checked,
      mask: elements.mask.checked,
      distancing: elements.distancing.checked,
      visitor_name: text("visitor_name"),
      phone: text("phone"),
      // Only the last four digits leave this page for the tablet's storage or the server.
      nik_last4: rules.lastFour(text("id_number")) || (retestOf && retestOf.nik_last4) || null,
      purpose: text("purpose"),
    };
  }

  // A check as the API takes it.
  function checkOf(reading) {
    var check = {
      temperature_c: reading.temperature_dc / 10,
      hand_sanitiser: reading.hand_sanitiser,
      mask: reading.mask,
      distancing: reading.distancing,
      visitor_name: reading.visitor_name,
      phone: reading.phone,
      nik_last4: reading.nik_last4,
      purpose: reading.purpose,
      client_ref: form.elements.client_ref.value,
    };
    var booking = door.booking && door.booking.code();
    if (booking) {
      check.booking_code = booking;
    }
    // recheck_of and recheck_of_ref: the API's names, which checks kept in the outbox carry too.
    if (retestOf && retestOf.id) {
      check.recheck_of = retestOf.id;
    } else if (retestOf) {
      check.recheck_of_ref = retestOf.client_ref;
    }
    return check;
  }

  function releaseForm() {
    delete form.dataset.sent;
    form.classList.remove("sending");
  }

  // --- Deciding on the tablet, with the rules of its lease. ---

  function decideOffline(reading) {
    if (!store) {
      return Promise.resolve(noLease());
    }
    var picked = door.booking ? door.booking.picked() : null;
    // Read the lease and the bookings kept, take the slot (or the booked place) and keep the
    // check in one transaction: a slot given back meanwhile can never be given to this
    // visitor too, and a booking is admitted once on this tablet.
    return store.transact("readwrite", function (stores, found) {
      var read = stores.lease.get(sync.deviceId);
      read.onsuccess = function () {
        var lease = read.result;
        if (!lease) {
          return;
        }
        var readList = stores.bookings.get(sync.deviceId);
        readList.onsuccess = function () {
          var now = new Date();
          var list = readList.result;
          var kept = picked && keptBooking(list, picked.code, now);
          var booked = kept ? rules.doorChannel(kept, list, now, pageRules.timezone) : null;
          if (booked && booked.channel === "already_admitted") {
            found.value = {admittedAlready: true};  // as online: a booking admits once
            return;
          }
          var decided = decide(reading, lease, now, booked);
          if (decided.asBooked) {
            kept.status = "admitted";
            stores.bookings.put(list);
          }
          stores.outbox.add(decided.check);
          stores.lease.put(lease);
          keepRetest(stores, decided.check, decided.shown, null);
          found.value = decided.shown;
        };
      };
    }).then(function (shown) {
      if (!shown) {
        return noLease();  // never leased: no rules to decide by, it checks online only
      }
      if (shown.admittedAlready) {
        form.querySelector("[data-booking-used]").hidden = false;
        releaseForm();
        return null;
      }
      showAnswer(shown, pageRules.timezone);
      return sync.showStatus();
    });
  }

  // The booking of today's list kept here with this code, or null.
  function keptBooking(list, code, now) {
    if (!list || list.day !== rules.localDay(now, pageRules.timezone)) {
      return null;
    }
    return list.items.filter(function (booking) { return booking.code === code; })[0] || null;
  }

  function noLease() {
    form.querySelector("[data-no-lease]").hidden = false;  // online only: nothing was kept
    releaseForm();
  }

  // Decide a check by the lease's rules: a passing visitor takes their booked place when their
  // booking's window is open (`booked`, its channel by the list kept), else the lease's next
  // slot (the lease given loses it); return the check to send and what the answer shows.
  function decide(reading, lease, now, booked) {
    var decided = rules.screen(reading, lease.rules, retestOf !== null);
    var slot = null;
    var asBooked = false;
    if (decided.status === "admitted") {
      if (booked && booked.channel === "booked") {
        asBooked = true;  // no walk-in slot: the server numbers the visitor when it is sent
      } else if (lease.day === rules.localDay(now, lease.rules.timezone) && lease.slots.length) {
        slot = lease.slots.shift();
      } else {
        decided = {status: "refused", reasons: ["no_offline_slot"]};
      }
    }
    var check = Object.assign(checkOf(reading), {
      device_id: sync.deviceId,
      offline: {recorded_at: now.toISOString(), status: decided.status, reasons: decided.reasons, slot: slot},
    });
    // A re-test made offline names its first reading by reference: the server may not know it
    // by id yet.
    if (check.recheck_of) {
      check.recheck_of_ref = retestOf.client_ref;
      delete check.recheck_of;
    }
    return {
      check: check,
      asBooked: asBooked,
      shown: {
        status: decided.status,
        reasons: decided.reasons,
        slot: slot,
        booked_code: asBooked ? check.booking_code : null,
        booking: booked,
        checked_at: check.offline.recorded_at,
        temperature_c: check.temperature_c,
        visitor_name: check.visitor_name,
        retest_ready_at: decided.status === "recheck" ? rules.readyAt(now, lease.rules).toISOString() : null,
        offline: true,
      },
    };
  }

  // Remember a visitor sent to rest, and forget the one just re-tested.
  function keepRetest(stores, check, shown, id) {
    if (retestOf) {
      stores.retests.delete(retestOf.client_ref);
    }
    if (shown.status === "recheck") {
      stores.retests.put({
        client_ref: check.client_ref,
        id: id,
        checked_at: shown.checked_at,
        ready_at: shown.retest_ready_at,
        temperature_c: check.temperature_c,
        hand_sanitiser: check.hand_sanitiser,
        mask: check.mask,
        distancing: check.distancing,
        visitor_name: check.visitor_name,
        phone: check.phone,
        nik_last4: check.nik_last4,
        purpose: check.purpose,
        booking_code: check.booking_code || null,
      });
    }
  }

  // --- Asking the server. ---

  // Post the check; resolve with the server's answer, or null when it refused the input.
  function checkOnline(check) {
    return sync.postJSON(form.dataset.upload, check).then(function (response) {
      if (response.status >= 500) {
        throw new Error("HTTP " + response.status);  // nothing was stored: decide here
      }
      return response.ok ? response.json() : null;
    });
  }

  // Refused input, a re-test the server cannot take, or a lost session: nothing was stored.
  // The server's own pages say why, in the page's language: its form's errors, or the first
  // reading's page (re-tested already, gone, voided).
  function refusedInput() {
    if (retestOf && retestOf.id) {
      window.location.assign(visitUrl(retestOf.id));
    } else if (retestOf) {
      form.querySelector("[data-retest-refused]").hidden = false;
      releaseForm();
    } else {
      HTMLFormElement.prototype.submit.call(form);
    }
  }

  function visitUrl(id) {
    return form.dataset.visit.replace(/0$/, String(id));
  }

  function answered(check, result) {
    var kept = Promise.resolve();
    if (store) {
      kept = store.transact("readwrite", function (stores) {
        // The admission took the lowest slot this tablet holds: it leaves the kept lease now,
        // or the next offline visitor could be given the same number.
        var read = stores.lease.get(sync.deviceId);
        read.onsuccess = function () {
          var lease = read.result;
          if (lease && result.slot && lease.slots.indexOf(result.slot) >= 0) {
            lease.slots = lease.slots.filter(function (held) { return held !== result.slot; });
            stores.lease.put(lease);
          }
        };
        keepRetest(stores, check, result, result.id);
      });
    }
    return kept.then(function () {
      showAnswer(Object.assign({offline: false}, result), pageRules.timezone);
      return sync.answered(result.quota);
    });
  }

  // --- The answer, filled in from the server's JSON or the tablet's decision. ---

  function showAnswer(shown, zone) {
    var recorded = new Date(shown.checked_at);
    var readyAt = shown.retest_ready_at ? new Date(shown.retest_ready_at) : null;
    answer.className = "verdict " + shown.status + (shown.offline ? " offline" : "");
    Array.prototype.forEach.call(answer.querySelectorAll("[data-status]"), function (part) {
      part.hidden = part.dataset.status !== shown.status;
    });
    Array.prototype.forEach.call(answer.querySelectorAll("[data-reason]"), function (item) {
      item.hidden = shown.reasons.indexOf(item.dataset.reason) < 0;
    });
    answer.querySelector("[data-slot]").textContent = shown.slot || "";
    // Admitted offline to a booked place: no number yet, the booking's code instead.
    var bookedOffline = answer.querySelector("[data-booked-offline]");
    bookedOffline.hidden = !shown.booked_code;
    bookedOffline.querySelector("[data-booked-code]").textContent = shown.booked_code || "";
    answer.querySelector("[data-slot-label]").hidden = Boolean(shown.booked_code);
    answer.querySelector("[data-time]").textContent = readyAt ? rules.hourMinute(readyAt, zone) : "";
    var online = answer.querySelector("[data-online-service]");
    if (online) {
      // The reasons after which the visitor cannot come in today, as the server lists them.
      var turnedAway = online.dataset.onlineService.split(" ");
      online.hidden = shown.status !== "refused" || !shown.reasons.some(function (reason) {
        return turnedAway.indexOf(reason) >= 0;
      });
    }
    var decimal = document.documentElement.lang === "id" ? "," : ".";
    answer.querySelector("[data-facts]").textContent = [rules.hourMinute(recorded, zone),
      shown.temperature_c.toFixed(1).replace(".", decimal) + " °C",
      shown.visitor_name].filter(Boolean).join(" · ");
    answer.querySelector("[data-offline-note]").hidden = !shown.offline;
    if (door.booking) {
      door.booking.show(shown.booking || null);
    }
    // Refused for the quota alone: a manager's link to the check (a browser no one paired), or
    // on a paired tablet the supervisor's form, which needs the server: offline, one line says so.
    var overridable = shown.status === "refused" && shown.reasons.join() === "quota_full";
    var override = answer.querySelector("[data-override]");
    if (override) {
      override.hidden = shown.offline || !overridable;
      var link = override.querySelector("a");
      link.href = link.href.replace(/\/[0-9]+$/, "/" + shown.id);
    }
    var supervisor = answer.querySelector("[data-supervisor-override]");
    if (supervisor) {
      supervisor.reset();
      supervisor.hidden = shown.offline || !overridable;
      if (!supervisor.hidden) {
        supervisor.action = supervisor.action.replace(/\/[0-9]+\/override$/, "/" + shown.id + "/override");
      }
      // Offline the tablet refuses for want of a slot of its own: the server could admit past
      // the quota, and is out of reach.
      var noSlot = shown.status === "refused" && ["quota_full", "no_offline_slot"].indexOf(shown.reasons.join()) >= 0;
      answer.querySelector("[data-override-offline]").hidden = !(shown.offline && noSlot);
    }
    var retest = actions.querySelector("[data-retest]");
    retest.hidden = shown.status !== "recheck";
    retest.disabled = true;
    window.clearInterval(waitTimer);
    if (readyAt) {
      var firstRef = form.elements.client_ref.value;
      waitTimer = window.setInterval(function () {
        if (new Date() >= readyAt) {
          retest.disabled = false;
          window.clearInterval(waitTimer);
        }
      }, 1000);
      retest.onclick = function () {
        window.clearInterval(waitTimer);
        if (store) {
          startRetest(firstRef);
        } else {
          window.location.assign(visitUrl(shown.id));  // online only: the server's re-test form
        }
      };
    }
    form.closest(".door").hidden = true;
    answer.hidden = false;
    actions.hidden = false;
    door.arm(actions.querySelector("[data-next]"));
    window.scrollTo(0, 0);
  }

  function nextVisitor() {
    retestOf = null;
    form.reset();
    form.elements.client_ref.value = newId();
    form.querySelector("[data-retesting]").hidden = true;
    form.querySelector("[data-no-lease]").hidden = true;
    form.querySelector("[data-retest-refused]").hidden = true;
    form.querySelector("[data-booking-used]").hidden = true;
    if (door.booking) {
      door.booking.clear();
    }
    releaseForm();
    answer.hidden = true;
    actions.hidden = true;
    form.closest(".door").hidden = false;
    showRetests();
    form.elements.temperature.focus();
  }

  // A re-test is a new check of the same visitor: the first one's ticks and details, a new reading.
  function startRetest(clientRef) {
    return store.retests().then(function (kept) {
      var found = kept.filter(function (entry) { return entry.key === clientRef; })[0];
      if (!found) {
        return;
      }
      var first = found.value;
      nextVisitor();
      retestOf = first;
      ["hand_sanitiser", "mask", "distancing"].forEach(function (name) {
        form.elements[name].checked = first[name];
      });
      ["visitor_name", "phone", "purpose"].forEach(function (name) {
        form.elements[name].value = first[name] || "";
      });
      if (first.booking_code && door.booking) {
        door.booking.find(first.booking_code);  // the same booking, picked again
      }
      var note = form.querySelector("[data-retesting]");
      note.querySelector("[data-time]").textContent = rules.hourMinute(new Date(first.checked_at), pageRules.timezone);
      note.hidden = false;
    });
  }

  // --- Visitors resting for a re-test, as this tablet kept them. ---

  function showRetests() {
    if (!store || !tabletList) {
      return Promise.resolve();
    }
    return store.retests().then(function (kept) {
      var today = rules.localDay(new Date(), pageRules.timezone);
      var onServer = {};
      Array.prototype.forEach.call(document.querySelectorAll("[data-server-retests] li"), function (item) {
        onServer[item.dataset.clientRef] = item;
      });
      tabletList.textContent = "";
      kept.forEach(function (entry) {
        var first = entry.value;
        if (rules.localDay(new Date(first.checked_at), pageRules.timezone) !== today) {
          return;
        }
        var listed = onServer[first.client_ref];
        if (listed) {
          // The server lists it too: tapping it re-tests from here, offline as well.
          listed.querySelector("a").addEventListener("click", function (event) {
            event.preventDefault();
            startRetest(first.client_ref);
          });
          listed.querySelector("a").removeAttribute("data-needs-server");
          return;
        }
        tabletList.appendChild(retestItem(first));
      });
      var section = tabletList.closest(".waiting");
      section.hidden = !section.querySelector("li");
      markReady();
    });
  }

  function retestItem(first) {
    var item = document.querySelector("[data-retest-item]").content.firstElementChild.cloneNode(true);
    var decimal = document.documentElement.lang === "id" ? "," : ".";
    item.dataset.readyAt = first.ready_at;
    item.querySelector(".temp").textContent = first.temperature_c.toFixed(1).replace(".", decimal) + " °C";
    item.querySelector(".name").textContent = first.visitor_name || "";
    item.querySelector("[data-waiting]").textContent = tabletList.dataset.from.replace("{time}",
      rules.hourMinute(new Date(first.ready_at), pageRules.timezone));
    item.querySelector("button").addEventListener("click", function () { startRetest(first.client_ref); });
    return item;
  }

  // Visitors resting turn "ready now" at their minute, and may be recorded as gone after a while.
  function markReady() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll(".waiting li[data-ready-at]"), function (item) {
      var ready = now >= new Date(item.dataset.readyAt).getTime();
      var gone = item.querySelector("[data-gone]");
      item.classList.toggle("ready", ready);
      item.querySelector("[data-ready]").hidden = !ready;
      item.querySelector("[data-waiting]").hidden = ready;
      if (gone) {
        gone.hidden = now < new Date(item.dataset.goneAt).getTime();
      }
    });
  }

  // Once the server's lists are fresh, a visitor it no longer lists (re-tested or gone on
  // another tablet) is forgotten here too, unless its first reading is still to be sent.
  function forgetSettled() {
    if (!store) {
      return;
    }
    Promise.all([store.retests(), store.outbox()]).then(function (found) {
      var onServer = Array.prototype.map.call(document.querySelectorAll("[data-server-retests] li"),
        function (item) { return item.dataset.clientRef; });
      var unsent = found[1].map(function (entry) { return entry.value.client_ref; });
      var settled = found[0].filter(function (entry) {
        return onServer.indexOf(entry.key) < 0 && unsent.indexOf(entry.key) < 0;
      });
      if (!settled.length) {
        return showRetests();
      }
      return store.transact("readwrite", function (stores) {
        settled.forEach(function (entry) { stores.retests.delete(entry.key); });
      }).then(showRetests);
    });
  }

  // What the tablet keeps of visitors (resting, refused or kept by the server, today's
  // bookings) goes with their day.
  function forgetPastDays() {
    if (!store) {
      return Promise.resolve();
    }
    var today = rules.localDay(new Date(), pageRules.timezone);
    function of(stored) {
      return rules.localDay(new Date(stored.checked_at || stored.offline.recorded_at), pageRules.timezone);
    }
    return Promise.all([store.retests(), store.refused(), store.kept(), store.bookings(sync.deviceId)])
      .then(function (found) {
        return store.transact("readwrite", function (stores) {
          [["retests", found[0]], ["refused", found[1]], ["kept", found[2]]].forEach(function (named) {
            named[1].forEach(function (entry) {
              if (of(entry.value) !== today) { stores[named[0]].delete(entry.key); }
            });
          });
          if (found[3] && found[3].day !== today) {
            stores.bookings.delete(sync.deviceId);
          }
        });
      });
  }

  // --- Wiring. ---

  actions.querySelector("[data-next]").addEventListener("click", nextVisitor);
  document.addEventListener("checkin:lists", forgetSettled);
  window.setInterval(markReady, 1000);
  // The page may be the copy the service worker keeps, made with one reference for ever:
  // each page load is a new check.
  form.elements.client_ref.value = newId();
  forgetPastDays().then(showRetests);

  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) {
      return;  // door.js stopped a second tap: this check is on its way already
    }
    event.preventDefault();
    var reading = readForm();
    if (sync.isOnline() && !reading) {
      refusedInput();  // the server's page says what is wrong, in its words
      return;
    }
    if (!reading) {
      releaseForm();
      return;
    }
    if (!sync.isOnline()) {
      decideOffline(reading);
      return;
    }
    // Checks recorded offline go first, in order, so that a slot is never used twice.
    var check = checkOf(reading);
    sync.sync().then(function () {
      if (!sync.isOnline()) {
        throw new Error("offline");
      }
      return sync.serial(function () { return checkOnline(check); });
    }).then(function (result) {
      return result ? answered(check, result) : refusedInput();
    }, function () {
      sync.setOnline(false);
      return decideOffline(reading);
    });
  });
}(window.checkinDoor = window.checkinDoor || {}));
