/* borgersag: the first answers at once.
 *
 * On the lookup form: adds respond=async, so the POST answers at once with a pending
 * overview instead of waiting for the slowest system. On a pending overview: asks the
 * status endpoint (data-status-url) what has arrived, puts the body the server rendered
 * in place and writes the progress, and at the end the final state, into the polite
 * live region; not while the reader is in the body's search form (the status URL
 * carries the page's query, so the body comes narrowed as the page is). Without this file the POST waits and the page comes whole, as always. */
(function () {
  "use strict";

  var POLL_MS = 600;
  var GIVE_UP_MS = 120000; // the server gives a lost lookup up well before this

  var form = document.querySelector("form[data-respond-async]");
  if (form) {
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "respond";
    field.value = "async";
    form.appendChild(field);
  }

  var body = document.getElementById("overview-body");
  var live = document.getElementById("overview-live");
  var url = body && body.getAttribute("data-status-url");
  if (!url || !live || !window.fetch) {
    return;
  }
  var started = Date.now();

  function say(text) {
    if (text && live.textContent !== text) {
      live.textContent = text;
    }
  }

  function typing() {
    // someone in the search form keeps what they typed: the update waits for them
    var active = document.activeElement;
    return Boolean(active && active.form && body.contains(active.form));
  }

  function show(state) {
    // the fragment is server-rendered HTML, escaped by the templates
    body.innerHTML = state.html;
    say(state.announce);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json();
      })
      .then(function (state) {
        if ((state.state === "pending" || state.state === "complete") && typing()) {
          window.setTimeout(poll, POLL_MS);
        } else if (state.state === "pending") {
          show(state);
          if (Date.now() - started < GIVE_UP_MS) {
            window.setTimeout(poll, POLL_MS);
          }
        } else if (state.state === "complete") {
          show(state);
          body.removeAttribute("data-status-url");
          live.classList.add("overview-live-done");
        } else {
          window.location.reload(); // failed or expired: the page says so
        }
      })
      .catch(function () {
        if (Date.now() - started < GIVE_UP_MS) {
          window.setTimeout(poll, POLL_MS * 3); // a dropped connection: try again, slower
        }
      });
  }

  window.setTimeout(poll, POLL_MS / 2);
})();
