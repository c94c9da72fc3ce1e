// The door's rules, as the server decides by them: no page, no storage, no clock of its own.
// The rules themselves come from the server (with the lease, and on the door page): the checks
// in the order a refusal lists its reasons, the plausible range, the re-test wait, the site's
// time zone; and, with the list of today's bookings, the booking window's minutes and the shape
// of a code. tests/browser/test_offline_door_browser.py runs screen() and the server's
// admission.screen through one grid of readings, and findBookings() and doorChannel() beside
// bookings.find and booking_rules.door_channel, and fails on any difference.
(function (door) {
  "use strict";

  // A reading as typed, in tenths of a degree rounded half-up like the server; NaN if unreadable.
  function tenths(typed) {
    var match = /^(\d{1,3})(?:[.,](\d*))?$/.exec(String(typed).trim());
    if (!match) {
      return NaN;
    }
    var decimals = (match[2] || "") + "00";
    return Number(match[1]) * 10 + Number(decimals[0]) + (Number(decimals[1]) >= 5 ? 1 : 0);
  }

  function plausible(temperatureDc, rules) {
    return temperatureDc >= rules.plausible_min_dc && temperatureDc <= rules.plausible_max_dc;
  }

  // reading: {temperature_dc, hand_sanitiser, mask, distancing}. Every failing reason is listed;
  // a first reading failing only what asks for a re-test asks for one.
  function screen(reading, rules, isRetest) {
    var reasons = rules.checks.filter(function (check) {
      var value = reading[check.field];
      return check.at_least_dc === null ? !value : value >= check.at_least_dc;
    }).map(function (check) { return check.reason; });
    if (!reasons.length) {
      return {status: "admitted", reasons: []};
    }
    if (!isRetest && reasons.join(",") === rules.retest_when_only.join(",")) {
      return {status: "recheck", reasons: reasons};  // a re-test, by the status the server stores
    }
    return {status: "refused", reasons: reasons};
  }

  // The site's calendar day at an instant, as YYYY-MM-DD (en-CA writes dates so).
  function localDay(instant, zone) {
    return new Intl.DateTimeFormat("en-CA", {timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit"})
      .format(instant);
  }

  function hourMinute(instant, zone) {
    return new Intl.DateTimeFormat("en-GB", {timeZone: zone, hour: "2-digit", minute: "2-digit"}).format(instant);
  }

  // As the server: a visitor rests the site's minutes, then may be measured again from the next
  // whole minute, so that the minute staff are shown is never too early.
  function readyAt(recordedAt, rules) {
    var rested = recordedAt.getTime() + rules.recheck_minutes * 60000;  // the lease's name for it
    return new Date(Math.ceil(rested / 60000) * 60000);
  }

  // What the server can store of a typed text: no control characters, no lone surrogates.
  function storable(text) {
    return !/[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])[\udc00-\udfff]/.test(text);
  }

  // All that is kept of a NIK, on the tablet as on the server.
  function lastFour(nik) {
    return nik ? nik.slice(-4) : null;
  }

  // --- Booked visitors, by the rules that come with the tablet's list of today's bookings. ---

  // A code as the server reads one typed ("abcd-ef 2345" is ABCDEF2345), or null.
  function bookingCode(typed, list) {
    var code = String(typed).replace(/[\s-]/g, "").toUpperCase();
    var shape = new RegExp("^[" + list.code_alphabet + "]{" + list.code_length + "}$");
    return shape.test(code) ? code : null;
  }

  // A phone as bookings compare it: digits only, +62 written as 0.
  function phoneKey(text) {
    var digits = String(text).replace(/[^0-9]/g, "");
    return digits.indexOf("62") === 0 ? "0" + digits.slice(2) : digits;
  }

  // A name as searches compare it: spaces collapsed, lower case (the server folds case, which
  // differs from lower case only in letters such as "ß" that Indonesian names do not have).
  function nameKey(name) {
    return String(name).split(/\s+/).filter(Boolean).join(" ").toLowerCase();
  }

  // The bookings of today's list a search at the door finds, as the server's bookings.find:
  // the code itself, else by phone (the last four of the digits typed) or by part of the name,
  // in the list's order, at most as many as the server lists. Each comes with its day.
  function findBookings(list, typed) {
    var code = bookingCode(typed, list);
    var matches = null;
    if (code) {
      matches = function (booking) { return booking.code === code; };
      if (!list.items.some(matches)) {
        matches = null;
      }
    }
    var digits = phoneKey(typed);
    if (!matches && digits.length >= 4 && !/\p{L}/u.test(typed)) {
      var last = digits.slice(-4);
      matches = function (booking) { return booking.phone_last4 === last; };
    } else if (!matches) {
      var key = nameKey(typed);
      if (!key) {
        return [];
      }
      matches = function (booking) { return nameKey(booking.name).indexOf(key) >= 0; };
    }
    return list.items.filter(matches).slice(0, list.found_at_most).map(function (booking) {
      return Object.assign({day: list.day}, booking);
    });
  }

  // Milliseconds since the site's midnight at an instant (a wall clock, as the server compares).
  function sinceMidnight(instant, zone) {
    var parts = new Intl.DateTimeFormat("en-GB", {timeZone: zone, hour: "2-digit", minute: "2-digit",
      second: "2-digit", hourCycle: "h23"}).format(instant).split(":").map(Number);
    return ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + instant.getUTCMilliseconds();
  }

  function minutesOf(hourMinute) {
    var parts = hourMinute.split(":").map(Number);
    return parts[0] * 60 + parts[1];
  }

  // Which rules a booking of today's list meets at the door at `now`, as the server's
  // booking_rules.door_channel: its booked place inside its window (the list's minutes before
  // its session starts to after it ends), else the walk-in rules and why; with the window's
  // ends, as instants, for the door to say.
  function doorChannel(booking, list, now, zone) {
    var at = sinceMidnight(now, zone);
    var opens = (minutesOf(booking.session) - list.window_minutes) * 60000;
    var closes = (minutesOf(booking.session_ends) + list.window_minutes) * 60000;
    var channel = "booked";
    if (booking.status !== "booked") {
      channel = {admitted: "already_admitted", cancelled: "cancelled"}[booking.status] || "released";
    } else if (localDay(now, zone) !== list.day) {
      channel = "wrong_day";
    } else if (at < opens) {
      channel = "early";
    } else if (at > closes) {
      channel = "late";
    }
    // The list's day's midnight, counted from now's (a day is 24 hours on the wall clock).
    var midnight = now.getTime() - at +
      (Date.parse(list.day + "T00:00:00Z") - Date.parse(localDay(now, zone) + "T00:00:00Z"));
    return {
      channel: channel,
      day: list.day,
      opens: new Date(midnight + opens).toISOString(),
      closes: new Date(midnight + closes).toISOString(),
    };
  }

  door.rules = {
    tenths: tenths,
    plausible: plausible,
    screen: screen,
    localDay: localDay,
    hourMinute: hourMinute,
    readyAt: readyAt,
    storable: storable,
    lastFour: lastFour,
    findBookings: findBookings,
    doorChannel: doorChannel,
  };
}(window.checkinDoor = window.checkinDoor || {}));
