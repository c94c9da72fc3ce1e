// The door talking to the server: the one poller of the day's counter, the outbox sent in order
// when the connection returns ("N sent", then the lists refreshed), and, on a paired tablet, its
// lease: topped up after checks, and slots given back when the server asks (no slot left for
// the others, the day closed, the tablet stopped or unpaired); and today's bookings of its
// site, kept for finding and admitting booked visitors offline (refreshed with each top-up and
// every few minutes, sent again only when changed, dropped when the tablet is unpaired). A slot given back is dropped
// from the tablet's own lease first, then the server is told, again until it answers: the
// tablet never gives out a slot it has said it will not use.
(function (door) {
  "use strict";
  var ANSWER_TIMEOUT_MS = 4000;
  // How often the door asks whether today's bookings changed, besides after each check.
  var BOOKINGS_EVERY_MS = 120000;
  var status = document.getElementById("connection");
  var counter = document.getElementById("counter");
  var tokenField = document.querySelector("input[name=csrf_token]");
  if (!status || !counter || !window.fetch || !window.Intl) {
    return;
  }
  var deviceId = status.dataset.device || null;
  var paired = Boolean(deviceId && door.store);
  var online = true;
  var syncing = null;
  var lastQuota = null;
  var bookingsHeard = 0;
  // What the tablet exchanges with the server about its slots (checks, top-ups, slots given
  // back) runs one at a time, in order: a top-up answered across a check would leave the
  // tablet believing it holds a slot already given.
  var queue = Promise.resolve();

  function serial(task) {
    var run = queue.then(task);
    queue = run.catch(function () {});
    return run;
  }

  function request(url, options) {
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, ANSWER_TIMEOUT_MS);
    options = options || {};
    options.credentials = "same-origin";
    options.signal = controller.signal;
    options.headers = Object.assign({Accept: "application/json"},
      tokenField ? {"X-CSRFToken": tokenField.value} : {}, options.headers || {});
    return fetch(url, options).finally(function () { window.clearTimeout(timer); });
  }

  function postJSON(url, body) {
    return request(url, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)});
  }

  function json(response) {
    if (!response.ok) {
      throw new Error("HTTP " + response.status);
    }
    return response.json();
  }

  function plural(element, name, count) {
    var form = new Intl.PluralRules(document.documentElement.lang).select(count);
    return element.dataset[name + (form === "one" ? "One" : "Other")].replace("{n}", count);
  }

  // --- The tablet's own lease: the slots it may give out. ---

  function heldToday() {
    if (!paired) {
      return Promise.resolve(0);
    }
    return door.store.lease(deviceId).then(function (lease) {
      var today = lease && lease.day === door.rules.localDay(new Date(), lease.rules.timezone);
      return today ? lease.slots.length : 0;
    });
  }

  // Keep the lease the server answered, but the slots of that day given to visitors whose
  // checks are still on the tablet (to send, or refused by the server).
  function keepLease(lease) {
    return door.store.transact("readwrite", function (stores) {
      var given = [];
      function collect(store, then) {
        var cursor = store.openCursor();
        cursor.onsuccess = function () {
          if (!cursor.result) {
            return then();
          }
          var offline = cursor.result.value.offline;
          if (door.rules.localDay(new Date(offline.recorded_at), lease.rules.timezone) === lease.day) {
            given.push(offline.slot);
          }
          cursor.result.continue();
        };
      }
      collect(stores.outbox, function () {
        collect(stores.refused, function () {
          lease.slots = lease.slots.filter(function (slot) { return given.indexOf(slot) < 0; });
          stores.lease.put(lease);
        });
      });
    });
  }

  // Drop every slot held, then tell the server (the message waits in storage until heard).
  function giveBackAll() {
    return door.store.transact("readwrite", function (stores) {
      var read = stores.lease.get(deviceId);
      read.onsuccess = function () {
        var lease = read.result;
        if (lease && lease.slots.length) {
          stores.giving.add({day: lease.day, slots: lease.slots});
          lease.slots = [];
          stores.lease.put(lease);
        }
      };
    }).then(sendGiving);
  }

  function sendGiving() {
    return door.store.giving().then(function (messages) {
      return messages.reduce(function (previous, message) {
        return previous.then(function () {
          return postJSON(status.dataset.return, message.value).then(json).then(function (answer) {
            lastQuota = answer.quota;
            return door.store.transact("readwrite", function (stores) {
              stores.giving.delete(message.key);
            });
          });
        });
      }, Promise.resolve());
    });
  }

  function topUp() {
    return postJSON(status.dataset.leases, {device_id: deviceId}).then(json).then(function (lease) {
      if (lease.stopped || lease.quota.return_held) {
        // Stopped by a manager, or no slot left for the others: what it holds goes back, and
        // it keeps none the server still lists.
        return giveBackAll().then(function () {
          lease.slots = [];
          return keepLease(lease);
        });
      }
      return keepLease(lease);
    });
  }

  // --- Today's bookings of the site, as the tablet keeps them. ---

  function zone() {
    return JSON.parse(document.querySelector("form.checkin").dataset.rules).timezone;
  }

  // The list is the lease's companion, asked for after each top-up, but outside the queue of
  // slot exchanges: it holds no slot, and a failed refresh leaves the list kept as it was.
  function refreshBookingsSoon() {
    refreshBookings().catch(function () {});
  }

  // Ask for the list, naming the one kept by its ETag: unchanged, the server answers 304 and
  // sends nothing. A booking this tablet admitted offline, its check not yet sent, stays
  // claimed in the list kept: it is never admitted twice here.
  function refreshBookings() {
    if (!status.dataset.bookings || !document.querySelector("form.checkin")) {
      return Promise.resolve();
    }
    return door.store.bookings(deviceId).then(function (kept) {
      var today = door.rules.localDay(new Date(), zone());
      var headers = kept && kept.day === today && kept.etag ? {"If-None-Match": kept.etag} : {};
      return request(status.dataset.bookings, {headers: headers});
    }).then(function (response) {
      bookingsHeard = Date.now();
      if (response.status === 304) {
        return null;
      }
      return json(response).then(function (list) {
        list.device_id = deviceId;
        list.etag = response.headers.get("ETag");
        return door.store.transact("readwrite", function (stores) {
          var claimed = [];
          var cursor = stores.outbox.openCursor();
          cursor.onsuccess = function () {
            if (cursor.result) {
              if (claimsBookedPlace(cursor.result.value)) {
                claimed.push(cursor.result.value.booking_code);
              }
              cursor.result.continue();
              return;
            }
            list.items.forEach(function (booking) {
              if (claimed.indexOf(booking.code) >= 0) {
                booking.status = "admitted";
              }
            });
            stores.bookings.put(list);
          };
        });
      });
    });
  }

  // Whether a check admitted its visitor offline to their booked place (no walk-in slot).
  function claimsBookedPlace(check) {
    return Boolean(check.booking_code && check.offline && check.offline.status === "admitted" &&
      check.offline.slot === null);
  }

  // What the server made of an upload: "stored"; "kept" for the manager (a 409
  // kept_for_manager: e.g. a booking another tablet admitted first); or "refused", nothing
  // stored, as input (400, 422) or by a rule (any other 409). Anything else throws, for the
  // round to stop until the next one.
  function uploadAnswer(response) {
    if (response.ok) {
      return "stored";
    }
    if (response.status === 409) {
      return response.json().then(function (body) {
        return body.code === "kept_for_manager" ? "kept" : "refused";
      });
    }
    if (response.status === 400 || response.status === 422) {
      return "refused";
    }
    throw new Error("HTTP " + response.status);
  }

  // Send the outbox in order, each check once the one before has its final answer: a re-test
  // follows its first reading. Stored (201) and stored already (200) leave the outbox; kept
  // for the manager (409 kept_for_manager) and refused, the check moves aside, counted on the
  // page, so that the rest go on; anything else stops the round until the next one.
  function sendOutbox() {
    return door.store.outbox().then(function (checks) {
      var sent = 0;
      return checks.reduce(function (previous, item) {
        return previous.then(function () {
          return postJSON(status.dataset.upload, item.value).then(uploadAnswer).then(function (answer) {
            sent += answer === "refused" ? 0 : 1;
            return door.store.transact("readwrite", function (stores) {
              stores.outbox.delete(item.key);
              if (answer === "refused") {
                stores.refused.put(item.value);
              } else if (answer === "kept") {
                // Told, without the visitor's details: the manager sees the check on the
                // tablets page; the booking it showed stays admitted in the list kept here.
                stores.kept.put({client_ref: item.value.client_ref, booking_code: item.value.booking_code || null,
                  offline: item.value.offline});
              }
            });
          });
        });
      }, Promise.resolve()).then(function () { return sent; });
    });
  }

  // --- What the page shows: online or not, the counter, what this tablet can admit. ---

  // The last figures heard, for the copy of the page kept for offline use, which has its own
  // from when it was kept.
  var LAST_QUOTA = "checkin.quota";

  function showQuota(quota) {
    window.localStorage.setItem(LAST_QUOTA, JSON.stringify(quota));
    counter.querySelector("[data-left]").textContent = quota.left;
    counter.querySelector("[data-limit]").textContent = quota.limit;
    if (quota.inside_now !== undefined) {
      counter.querySelector("[data-inside]").textContent = quota.inside_now;
    }
    counter.classList.toggle("full", quota.left === 0);
  }

  function showStatus() {
    var stored = paired ? [door.store.outbox(), door.store.refused(), door.store.kept()] : [[], [], []];
    return Promise.all([heldToday()].concat(stored)).then(function (found) {
      var held = found[0];
      var waiting = found[1].length;
      var refused = found[2].length;
      var kept = found[3].length;
      var holds = counter.querySelector("[data-holds]");
      if (holds) {
        holds.textContent = plural(holds, "holds", held);
        holds.hidden = false;
      }
      var banner = document.getElementById("quota-full");
      if (banner && lastQuota) {
        banner.hidden = lastQuota.left > 0 || held > 0;
      }
      status.querySelector("[data-state]").textContent = online ? status.dataset.online : status.dataset.offline;
      if (!status.dataset.sent) {
        status.querySelector("[data-waiting]").textContent = [
          waiting ? "· " + plural(status, "waiting", waiting) : "",
          refused ? "· " + plural(status, "refused", refused) : "",
          kept ? "· " + plural(status, "kept", kept) : "",
        ].join(" ").trim();
      }
      status.classList.toggle("offline", !online);
      status.hidden = online && waiting === 0 && refused === 0 && kept === 0 && !status.dataset.sent;
      counter.classList.toggle("stale", !online);
      Array.prototype.forEach.call(document.querySelectorAll("[data-needs-server]"), function (element) {
        element.classList.toggle("needs-server", !online);
        element.setAttribute("aria-disabled", online ? "false" : "true");
        if (element.tagName === "BUTTON") {
          element.disabled = !online;
        }
      });
    });
  }

  // Offline, a link to a page of the server would open the browser's error page: not followed.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-needs-server]");
    if (link && !online) {
      event.preventDefault();
    }
  });

  function sayHowManySent(count) {
    status.dataset.sent = "1";
    status.querySelector("[data-waiting]").textContent = "· " + plural(status, "sent", count);
    status.hidden = false;
    window.setTimeout(function () {
      delete status.dataset.sent;
      showStatus();
    }, 8000);
  }

  // Swap in the server's lists, which now know what the outbox held.
  function refreshLists() {
    var lists = document.getElementById("lists");
    if (!lists) {
      return Promise.resolve();
    }
    return request(lists.dataset.url, {headers: {Accept: "text/html"}}).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.text();
    }).then(function (html) {
      lists.innerHTML = html;
      document.dispatchEvent(new CustomEvent("checkin:lists"));
      return showStatus();
    });
  }

  // Everything the tablet owes the server, in order: its checks, the slots it gave back, then
  // a fresh lease. Resolves when done; a second call meanwhile waits for the same run.
  function sync() {
    if (!paired) {
      return Promise.resolve();
    }
    if (!syncing) {
      syncing = serial(function () {
        return sendOutbox().then(function (sent) {
          return sendGiving().then(topUp).then(function () { return sent; });
        });
      }).then(function (sent) {
        refreshBookingsSoon();
        if (sent) {
          sayHowManySent(sent);
          return refreshLists();
        }
      }).catch(function () {
        // Still offline, or logged out: the next poll tries again.
      }).then(function () {
        syncing = null;
        return showStatus();
      });
    }
    return syncing;
  }

  // A round that stopped half-way (an answer that never came) goes on at the next poll.
  function sendWhatWaits() {
    if (!paired || syncing) {
      return null;
    }
    return Promise.all([door.store.outbox(), door.store.giving()]).then(function (found) {
      return found[0].length || found[1].length ? sync() : null;
    });
  }

  function setOnline(now) {
    // An answer that arrives after the browser went offline (a poll in flight) does not bring
    // the tablet back online: the next check would be posted to a network that is gone.
    now = now && navigator.onLine;
    var returned = now && !online;
    online = now;
    document.documentElement.classList.toggle("offline", !online);
    if (returned) {
      sync();
    }
    return showStatus();
  }

  // A session that ends while the tablet is paired is staff logging out: the slots stay. An
  // unpaired tablet gives back what it holds, then asks to be paired again.
  function loggedOut() {
    return request(status.dataset.tablet).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (tablet) {
      if (tablet && !tablet.paired && paired) {
        return serial(giveBackAll).then(forgetBookings).then(function () {
          window.location.assign(status.dataset.pair);
        });
      }
      window.location.reload();
    });
  }

  // An unpaired tablet keeps no visitor's booking.
  function forgetBookings() {
    return door.store.transact("readwrite", function (stores) { stores.bookings.clear(); });
  }

  // The one poller: the counter, the probe of the connection, and the server's requests.
  function poll() {
    if (document.hidden) {
      return;
    }
    request(counter.dataset.url).then(function (response) {
      if (response.status === 401) {
        return loggedOut();
      }
      if (!response.ok) {
        return setOnline(response.status < 500);
      }
      return response.json().then(function (quota) {
        return heldToday().then(function (held) {
          if (quota.return_held && held) {
            // The door never says none is left while it holds some: it gives them back, and
            // the next answer counts them among those left.
            return serial(giveBackAll).then(poll);
          }
          lastQuota = quota;
          showQuota(quota);
          if (paired && Date.now() - bookingsHeard > BOOKINGS_EVERY_MS) {
            refreshBookingsSoon();
          }
          return setOnline(true).then(sendWhatWaits);
        });
      });
    }).catch(function () {
      setOnline(false);
    });
  }

  var heard = JSON.parse(window.localStorage.getItem(LAST_QUOTA) || "null");
  var form = document.querySelector("form.checkin");
  if ("kept" in counter.dataset && heard && form &&
      heard.day === door.rules.localDay(new Date(), JSON.parse(form.dataset.rules).timezone)) {
    showQuota(heard);
  }
  if (paired && "serviceWorker" in navigator && status.dataset.worker) {
    navigator.serviceWorker.register(status.dataset.worker).catch(function () {
      // No worker (plain HTTP on the office network): the door works online only.
    });
  }
  window.addEventListener("online", poll);
  window.addEventListener("offline", function () { setOnline(false); });
  document.addEventListener("visibilitychange", poll);
  window.setInterval(poll, Math.max(Number(counter.dataset.every) || 5, 0.2) * 1000);
  if (navigator.onLine) {
    sync();
  } else {
    setOnline(false);
  }

  door.sync = {
    deviceId: deviceId,
    paired: paired,
    isOnline: function () { return online; },
    setOnline: setOnline,
    postJSON: postJSON,
    sync: sync,
    serial: serial,
    // A check was answered online: show its quota, then top the lease up (or give it back).
    answered: function (quota) {
      lastQuota = quota;
      showQuota(quota);
      var next = paired ? serial(quota.return_held ? giveBackAll : topUp) : Promise.resolve();
      return next.catch(function () {}).then(function () {
        if (paired) {
          refreshBookingsSoon();
        }
        return Promise.all([showStatus(), refreshLists().catch(function () {})]);
      });
    },
    showStatus: showStatus,
  };
}(window.checkinDoor = window.checkinDoor || {}));
