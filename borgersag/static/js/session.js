/* borgersag: warn a signed-in person before their idle session ends.
 *
 * Runs only when <body> has data-session-idle-seconds, data-session-warning-seconds and
 * data-session-csrf, and the page includes templates/_session_timeout.html. The server
 * decides when a session ends; this script only asks it (GET /session/status does not
 * count as activity) and lets the person stay (POST /session/forny). Before the warning
 * shows, and every 30 seconds while it shows, it asks again: another tab may have kept
 * the session alive. No inline script anywhere (strict Content-Security-Policy). */
(function () {
  "use strict";

  const STATUS_URL = "/session/status";
  const FORNY_URL = "/session/forny";
  const LOGOUT_URL = "/log-ud";
  const EXPIRED_URL = "/log-ind?udloebet=1";
  const ANNOUNCE_EVERY_MS = 15000; // screen readers hear the time left at most this often
  const RECHECK_EVERY_MS = 30000;
  const SLACK_SECONDS = 2; // the server rounds down; clocks and timers drift a little

  const body = document.body;
  const root = document.getElementById("session-timeout");
  const names = ["data-session-idle-seconds", "data-session-warning-seconds", "data-session-csrf"];
  if (!root || !names.every((name) => body.hasAttribute(name))) {
    return;
  }
  const idleSeconds = Number(body.getAttribute(names[0]));
  const warningSeconds = Number(body.getAttribute(names[1]));
  const csrf = body.getAttribute(names[2]);
  if (!(idleSeconds > 0) || !(warningSeconds >= 0) || !csrf) {
    return;
  }

  const dialog = root.querySelector("[role=alertdialog]");
  const clock = root.querySelector("[data-session-clock]");
  const announcer = root.querySelector("[data-session-announce]");
  const error = root.querySelector("[data-session-error]");
  const stayButton = root.querySelector("[data-session-stay]");
  const logoutButton = root.querySelector("[data-session-logout]");

  let deadline = 0; // when the session ends (ms since the epoch), as last heard
  let timer = 0;
  let ticker = 0;
  let shown = false;
  let checking = false;
  let leaving = false;
  let returnFocus = null;
  let lastAnnounced = 0;

  function secondsLeft() {
    return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
  }

  function clockText(seconds) {
    const rest = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function spokenText(seconds) {
    const minutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    const parts = [];
    if (minutes) {
      parts.push(minutes + (minutes === 1 ? " minut" : " minutter"));
    }
    if (rest || !minutes) {
      parts.push(rest + (rest === 1 ? " sekund" : " sekunder"));
    }
    return "Du bliver logget ud om " + parts.join(" og ") + ".";
  }

  function schedule(remainingSeconds) {
    deadline = Date.now() + remainingSeconds * 1000;
    window.clearTimeout(timer);
    const wait = Math.max(0, remainingSeconds - warningSeconds) * 1000;
    timer = window.setTimeout(check, wait);
  }

  function expire() {
    // The server rounds the time left down: give it a moment to really have ended.
    window.clearTimeout(timer);
    window.clearInterval(ticker);
    leaving = true;
    window.setTimeout(() => window.location.assign(EXPIRED_URL), 1500);
  }

  function remainingFrom(status) {
    if (!status || !status.active) {
      return 0;
    }
    return Math.min(status.idle_remaining_seconds, status.absolute_remaining_seconds);
  }

  function fetchJson(url, options) {
    return window.fetch(url, options).then((response) => {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function check() {
    if (checking || leaving) {
      return;
    }
    checking = true;
    fetchJson(STATUS_URL, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then((status) => {
        const left = remainingFrom(status);
        if (left <= 0) {
          expire();
        } else if (left > warningSeconds + SLACK_SECONDS) {
          hide(); // kept alive elsewhere, e.g. in another tab
          schedule(left);
        } else {
          deadline = Date.now() + left * 1000;
          show();
        }
      })
      .catch(() => {
        // No answer: go by what we last heard, and ask again soon.
        if (Date.now() >= deadline) {
          expire();
        } else {
          show();
        }
      })
      .then(() => {
        checking = false;
        if (shown && !leaving) {
          window.clearTimeout(timer);
          timer = window.setTimeout(check, Math.min(RECHECK_EVERY_MS, secondsLeft() * 1000));
        }
      });
  }

  function render() {
    clock.textContent = clockText(secondsLeft());
  }

  function tick() {
    render();
    if (Date.now() - lastAnnounced >= ANNOUNCE_EVERY_MS) {
      announcer.textContent = spokenText(secondsLeft());
      lastAnnounced = Date.now();
    }
    if (secondsLeft() <= 0) {
      check();
    }
  }

  function show() {
    render();
    if (shown) {
      return;
    }
    shown = true;
    returnFocus = document.activeElement;
    announcer.textContent = "";
    lastAnnounced = Date.now(); // the dialog itself is read out when it gets focus
    root.hidden = false;
    dialog.focus();
    ticker = window.setInterval(tick, 1000);
    document.addEventListener("keydown", onKeydown, true);
  }

  function hide() {
    if (!shown) {
      return;
    }
    shown = false;
    window.clearInterval(ticker);
    document.removeEventListener("keydown", onKeydown, true);
    root.hidden = true;
    error.hidden = true;
    if (returnFocus && document.contains(returnFocus) && returnFocus.focus) {
      returnFocus.focus();
    }
    returnFocus = null;
  }

  function stay() {
    if (stayButton.disabled) {
      return;
    }
    stayButton.disabled = true;
    fetchJson(FORNY_URL, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRF-Token": csrf,
      },
      // The form field too, for the site-wide form-token check.
      body: "csrf_token=" + encodeURIComponent(csrf),
    })
      .then((status) => {
        const left = remainingFrom(status);
        if (left <= 0) {
          expire();
          return;
        }
        hide();
        schedule(left);
      })
      .catch(() => {
        error.hidden = false;
        check(); // leaves for the sign-in page if the session has already ended
      })
      .then(() => {
        stayButton.disabled = false;
      });
  }

  function logOut() {
    const form = document.getElementById("logout-form");
    if (form) {
      if (typeof form.requestSubmit === "function") {
        form.requestSubmit();
      } else {
        form.submit();
      }
      return;
    }
    const fallback = document.createElement("form");
    fallback.method = "post";
    fallback.action = LOGOUT_URL;
    const token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = csrf;
    fallback.appendChild(token);
    document.body.appendChild(fallback);
    fallback.submit();
  }

  function onKeydown(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      stay();
      return;
    }
    if (event.key !== "Tab") {
      return;
    }
    // Keep keyboard focus inside the dialog while it is open.
    const buttons = [stayButton, logoutButton];
    const first = buttons[0];
    const last = buttons[buttons.length - 1];
    const active = document.activeElement;
    if (event.shiftKey && (active === first || active === dialog)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    } else if (!dialog.contains(active)) {
      event.preventDefault();
      first.focus();
    }
  }

  stayButton.addEventListener("click", stay);
  logoutButton.addEventListener("click", logOut);
  document.addEventListener("visibilitychange", () => {
    // Timers in a background tab may run late: ask as soon as the tab is back.
    if (document.visibilityState === "visible" && !leaving) {
      if (Date.now() >= deadline - warningSeconds * 1000) {
        check();
      }
    }
  });

  schedule(idleSeconds);
})();
