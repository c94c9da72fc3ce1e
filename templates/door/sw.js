// The door's service worker. It keeps the door page (the copy without visitors on it) and its
// files, and serves them when the network does not answer. Nothing else is kept: the result,
// log and manager pages carry personal data and are only ever fetched from the server.
"use strict";
var CACHE = "checkin-door";
var OFFLINE_COPY = {{ offline_copy|tojson }};
var FILES = {{ files|tojson }};
var ANSWER_TIMEOUT_MS = 4000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll([OFFLINE_COPY].concat(FILES));
  }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  // Files of an older worker have other fingerprints: keep only this worker's.
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.keys().then(function (requests) {
      var wanted = [OFFLINE_COPY].concat(FILES).map(function (path) {
        return new URL(path, self.location).href;
      });
      return Promise.all(requests.filter(function (request) {
        return wanted.indexOf(request.url) < 0;
      }).map(function (request) {
        return cache.delete(request);
      }));
    });
  }).then(function () {
    return self.clients.claim();
  }));
});

// A navigation request cannot be given an abort signal: race it against a timer instead.
function fromNetwork(request) {
  var timer;
  var late = new Promise(function (resolve, reject) {
    timer = setTimeout(function () { reject(new Error("no answer")); }, ANSWER_TIMEOUT_MS);
  });
  return Promise.race([fetch(request), late]).finally(function () { clearTimeout(timer); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate" && (url.pathname === "/" || url.pathname === OFFLINE_COPY)) {
    // The door page from the server while it answers; refresh the kept copy on the way (the
    // language or the site's rules may have changed), and fall back to it offline.
    event.respondWith(fromNetwork(request).then(function (response) {
      if (response.ok && !response.redirected) {
        event.waitUntil(caches.open(CACHE).then(function (cache) {
          return cache.add(OFFLINE_COPY);
        }).catch(function () {}));
      }
      return response;
    }, function () {
      return caches.match(OFFLINE_COPY);
    }));
    return;
  }
  var wanted = FILES.some(function (path) { return new URL(path, self.location).href === url.href; });
  if (wanted) {
    event.respondWith(caches.match(request).then(function (kept) {
      return kept || fetch(request);
    }));
  }
});
