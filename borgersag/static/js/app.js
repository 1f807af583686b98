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

  /* A search form marked data-no-cpr (the narrowing of a case list) is not sent with
   * a CPR number in its search field: the text would land in the address and the
   * logs of everything in between. The server refuses one too; this keeps it from
   * being sent. Delegated, as a pending overview's body (and its form) is replaced. */
  var CPR_SHAPE = /(^|[^0-9])([0-3][0-9])([01][0-9])[0-9]{2}[\s.\/-]?[0-9]{4}(?![0-9])/;
  var CPR_MESSAGE =
    "Søgefeltet finder sager på titel og sagsnummer, ikke på CPR-nummer." +
    " Skriv ikke et CPR-nummer her.";

  function looksLikeCpr(text) {
    var found = CPR_SHAPE.exec(text);
    if (!found) {
      return false;
    }
    var day = parseInt(found[2], 10);
    var month = parseInt(found[3], 10);
    return day >= 1 && day <= 31 && month >= 1 && month <= 12;
  }

  document.addEventListener("submit", function (event) {
    var searched = event.target;
    if (!searched.hasAttribute || !searched.hasAttribute("data-no-cpr")) {
      return;
    }
    var field = searched.querySelector("input[name=q]");
    if (!field || !looksLikeCpr(field.value)) {
      return;
    }
    event.preventDefault();
    var id = field.id + "-error";
    var error = document.getElementById(id);
    if (!error) {
      error = document.createElement("span");
      error.className = "form-error-message";
      error.id = id;
      field.parentNode.insertBefore(error, field);
      field.setAttribute("aria-describedby", (field.getAttribute("aria-describedby") || "") + " " + id);
    }
    error.textContent = CPR_MESSAGE;
    field.parentNode.classList.add("form-error");
    field.setAttribute("aria-invalid", "true");
    field.value = "";
    field.focus();
  });
})();
