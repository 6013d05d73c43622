// cab site: reload this page when `cab site serve --live` has rebuilt the site (cab_site/live.py).
// Polls /_cab/live every 2 s and reloads when its version changes, only when the page came over http(s) from cab's server and that server
// says it is live; from file://, or from a server without --live, it does nothing after one look.
// The status line (#cab-live) is set with textContent only: an error message is never markup.
(function () {
  "use strict";
  var ENDPOINT = "/_cab/live";
  var INTERVAL_MS = 2000;
  var RETRY_MS = 10000; // the server is gone (stopped, restarting): look again now and then
  if (!/^https?:$/.test(window.location.protocol) || typeof window.fetch !== "function") {
    return;
  }
  var badge = document.getElementById("cab-live");
  var seen = null;

  function show(text, title) {
    if (!badge) {
      return;
    }
    badge.textContent = text;
    badge.title = title || "";
    badge.hidden = false;
  }

  function next(ms) {
    window.setTimeout(poll, ms);
  }

  function update(status) {
    if (!status || status.live !== true || typeof status.version !== "number") {
      return; // not a live server: stop polling
    }
    if (seen === null) {
      seen = status.version;
    } else if (status.version !== seen) {
      // grown, or reset by a restarted server: either way a different build
      window.location.reload();
      return;
    }
    if (status.error) {
      show("live: rebuild failed", String(status.error));
    } else if (status.building) {
      show("live: rebuilding\u2026", "");
    } else {
      show("live", String(status.cells) + " stored attempts");
    }
    next(INTERVAL_MS);
  }

  function poll() {
    window
      .fetch(ENDPOINT, { cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(update, function () {
        if (seen !== null) {
          show("live: server unreachable", "");
          next(RETRY_MS);
        }
      });
  }

  poll();
})();
