// The door's rules, as the server decides by them: no page, no storage, no clock of its own.
// The rules themselves come from the server (with the lease, and on the door page): the checks
// in the order a refusal lists its reasons, the plausible range, the re-test wait, the site's
// time zone. tests/browser/test_offline_door_browser.py runs screen() and the server's
// admission.screen through one grid of readings and fails on any difference.
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
      return {status: "recheck", reasons: reasons};
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
    var rested = recordedAt.getTime() + rules.recheck_minutes * 60000;
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

  door.rules = {
    tenths: tenths,
    plausible: plausible,
    screen: screen,
    localDay: localDay,
    hourMinute: hourMinute,
    readyAt: readyAt,
    storable: storable,
    lastFour: lastFour,
  };
}(window.checkinDoor = window.checkinDoor || {}));
