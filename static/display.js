// The waiting-room display: asks every 1-2 s whether the board changed (ETag / 304), redraws it,
// and announces each new call aloud: the browser's voice for the display's language when it has
// one, else (Indonesian) the bundled word clips in order, else a chime. Nothing leaves the office.
(function () {
  "use strict";
  var body = document.body;
  var boardUrl = body.dataset.boardUrl;
  var pollMs = parseInt(body.dataset.poll, 10) || 1500;
  var language = body.dataset.language;
  var clipUrls = JSON.parse(body.dataset.clips);
  var chimeUrl = body.dataset.chime;
  var monitorWord = body.dataset.monitorWord;
  var noCalls = body.dataset.noCalls;
  var seen = new Set(body.dataset.seen.split(" ").filter(Boolean));
  var etag = null;
  var queue = [];
  var speaking = false;
  var revoked = false;

  var shown = {
    waiting: document.querySelector("[data-waiting]"),
    number: document.querySelector("[data-current-number]"),
    monitor: document.querySelector("[data-current-monitor]"),
    label: document.querySelector("[data-current-label]"),
    previous: document.querySelector("[data-previous]"),
    status: document.querySelector("[data-status]"),
    revoked: document.querySelector("[data-revoked]"),
    enable: document.querySelector("[data-enable-sound]"),
    current: document.querySelector(".now-calling")
  };

  // TVs let a page make sound only after a first tap; the tap also plays the chime, so whoever
  // sets the TV up hears that sound works.
  shown.enable.addEventListener("click", function () {
    shown.enable.hidden = true;
    new Audio(chimeUrl).play().catch(function () {});
  });

  function voiceFor(lang) {
    if (!("speechSynthesis" in window)) { return null; }
    var voices = window.speechSynthesis.getVoices();
    for (var i = 0; i < voices.length; i++) {
      if (voices[i].lang.replace("_", "-").toLowerCase().indexOf(lang) === 0) { return voices[i]; }
    }
    return null;
  }
  // Browsers list their voices a moment after the page loads.
  if ("speechSynthesis" in window) { window.speechSynthesis.getVoices(); }

  function playInOrder(urls, done) {
    if (!urls.length) { done(); return; }
    var audio = new Audio(urls[0]);
    var next = function () { playInOrder(urls.slice(1), done); };
    audio.addEventListener("ended", next);
    audio.addEventListener("error", next);
    audio.play().catch(next);
  }

  function say(call, done) {
    var voice = voiceFor(language);
    if (voice) {
      try {
        var utterance = new SpeechSynthesisUtterance(call.text);
        utterance.voice = voice;
        utterance.lang = voice.lang;
        utterance.rate = 0.9;
        utterance.onend = done;
        utterance.onerror = done;
        window.speechSynthesis.speak(utterance);
        return;
      } catch (error) {
        // A browser whose speech fails outright: the clips or the chime still call the number.
      }
    }
    var clips = call.clips.map(function (name) { return clipUrls[name]; });
    if (clips.length && clips.every(Boolean)) {
      playInOrder([chimeUrl].concat(clips), done);
    } else {
      playInOrder([chimeUrl], done);
    }
  }

  function announceNext() {
    if (speaking || !queue.length) { return; }
    speaking = true;
    say(queue.shift(), function () { speaking = false; announceNext(); });
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function draw(board) {
    shown.waiting.textContent = board.waiting_text;
    var current = board.calls[0];
    shown.number.textContent = current ? current.number : "–";
    shown.monitor.textContent = current ? monitorWord + " " + current.monitor : noCalls;
    shown.label.textContent = current ? current.label : "";
    var rows = document.createDocumentFragment();
    board.calls.slice(1).forEach(function (call) {
      var row = document.createElement("tr");
      cell(row, call.number);
      cell(row, call.monitor);
      cell(row, call.time);
      rows.appendChild(row);
    });
    shown.previous.replaceChildren(rows);
  }

  function announceNew(calls) {
    // Oldest first, so the room hears the calls in the order they were made.
    var fresh = calls.filter(function (call) { return !seen.has(call.key); }).reverse();
    fresh.forEach(function (call) { seen.add(call.key); queue.push(call); });
    if (fresh.length) {
      shown.current.classList.remove("fresh");
      void shown.current.offsetWidth; // restart the highlight for a call right after another
      shown.current.classList.add("fresh");
      announceNext();
    }
  }

  function poll() {
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(boardUrl, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        shown.status.hidden = true;
        if (response.status === 304) { return null; }
        if (response.status === 403) {
          revoked = true; // a revoked token never works again: stop asking
          shown.revoked.hidden = false;
          return null;
        }
        if (!response.ok) { throw new Error(String(response.status)); }
        etag = response.headers.get("ETag");
        shown.revoked.hidden = true;
        return response.json();
      })
      .then(function (board) {
        if (board) {
          draw(board);
          announceNew(board.calls);
        }
      })
      .catch(function () { shown.status.hidden = false; })
      .then(function () { if (!revoked) { window.setTimeout(poll, pollMs); } });
  }

  window.setTimeout(poll, pollMs);
}());
