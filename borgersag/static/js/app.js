/* borgersag: start Det Fælles Designsystem's components and small page helpers.
 * No inline scripts anywhere (a strict Content-Security-Policy is set); every page
 * works without this file. */
(function () {
  "use strict";

  if (window.DKFDS && typeof window.DKFDS.init === "function") {
    window.DKFDS.init();
  }

  /* A link to a collapsed area group (#omraade-3) opens the group first. */
  function openTarget() {
    var id = window.location.hash.slice(1);
    if (!id) {
      return;
    }
    var target = document.getElementById(id);
    if (target && target.tagName === "DETAILS") {
      target.open = true;
    }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  /* On paper every case group is open; the ones the reader had closed close again after. */
  var closedForPrint = [];
  window.addEventListener("beforeprint", function () {
    closedForPrint = Array.prototype.filter.call(
      document.querySelectorAll("details.area-group:not([open])"),
      function (group) {
        group.open = true;
        return true;
      }
    );
  });
  window.addEventListener("afterprint", function () {
    closedForPrint.forEach(function (group) {
      group.open = false;
    });
    closedForPrint = [];
  });
})();
