// What a paired door tablet keeps in IndexedDB, so that a reload or a restart loses nothing:
// the outbox (checks recorded offline, in order), the lease (slots held and the rules), the
// visitors it measured who rest for a re-test, the slots it gave back and has not yet heard
// the server take, checks the server refused as input and checks it kept for the manager (kept
// to be told, until the day after), and today's bookings of its site (what the door shows of
// each, and a phone's last four digits). Nothing here holds a whole NIK: only its last four
// digits.
(function (door) {
  "use strict";
  if (!window.indexedDB) {
    return;
  }
  var STORES = ["outbox", "lease", "retests", "giving", "refused", "kept", "bookings"];
  var opened = null;

  function database() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var request = window.indexedDB.open("checkin-door", 4);
        request.onupgradeneeded = function () {
          var db = request.result;
          if (!db.objectStoreNames.contains("outbox")) {
            db.createObjectStore("outbox", {autoIncrement: true});
          }
          if (!db.objectStoreNames.contains("lease")) {
            db.createObjectStore("lease", {keyPath: "device_id"});
          }
          if (!db.objectStoreNames.contains("retests")) {
            db.createObjectStore("retests", {keyPath: "client_ref"});
          }
          if (!db.objectStoreNames.contains("giving")) {
            db.createObjectStore("giving", {autoIncrement: true});
          }
          if (!db.objectStoreNames.contains("refused")) {
            db.createObjectStore("refused", {keyPath: "client_ref"});
          }
          if (!db.objectStoreNames.contains("kept")) {
            db.createObjectStore("kept", {keyPath: "client_ref"});
          }
          if (!db.objectStoreNames.contains("bookings")) {
            db.createObjectStore("bookings", {keyPath: "device_id"});
          }
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opened;
  }

  // Run work(stores) in one transaction; resolve with what it put in `found.value` once committed.
  function transact(mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORES, mode);
        var stores = {};
        STORES.forEach(function (name) { stores[name] = tx.objectStore(name); });
        var found = {value: undefined};
        work(stores, found);
        tx.oncomplete = function () { resolve(found.value); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  // Every entry of a store, each as {key, value}, in key order.
  function entries(store, found) {
    found.value = [];
    var cursor = store.openCursor();
    cursor.onsuccess = function () {
      if (cursor.result) {
        found.value.push({key: cursor.result.key, value: cursor.result.value});
        cursor.result.continue();
      }
    };
  }

  door.store = {
    lease: function (deviceId) {
      return transact("readonly", function (stores, found) {
        var request = stores.lease.get(deviceId);
        request.onsuccess = function () { found.value = request.result || null; };
      });
    },
    outbox: function () {
      return transact("readonly", function (stores, found) { entries(stores.outbox, found); });
    },
    retests: function () {
      return transact("readonly", function (stores, found) { entries(stores.retests, found); });
    },
    giving: function () {
      return transact("readonly", function (stores, found) { entries(stores.giving, found); });
    },
    refused: function () {
      return transact("readonly", function (stores, found) { entries(stores.refused, found); });
    },
    kept: function () {
      return transact("readonly", function (stores, found) { entries(stores.kept, found); });
    },
    // Today's bookings as last heard ({day, etag, items, and the rules to find and admit by}).
    bookings: function (deviceId) {
      return transact("readonly", function (stores, found) {
        var request = stores.bookings.get(deviceId);
        request.onsuccess = function () { found.value = request.result || null; };
      });
    },
    transact: transact,
  };
}(window.checkinDoor = window.checkinDoor || {}));
