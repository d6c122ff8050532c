/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";
  var TZ_COOKIE = "bw_tz";

  function detectedZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  }

  // The server renders times in a guessed zone until it knows the visitor's; tell it once.
  function adoptBrowserZone() {
    var root = document.documentElement;
    if (root.getAttribute("data-tz-source") !== "default") return;
    var zone = detectedZone();
    if (!zone || zone === root.getAttribute("data-tz")) return;
    var guard = "bw_tz_tried";
    try {
      if (sessionStorage.getItem(guard) === zone) return; // the server refused it: do not loop
      sessionStorage.setItem(guard, zone);
    } catch (e) { /* storage blocked: the cookie check below still prevents a loop */ }
    // IANA names are letters, digits, "/", "_", "-" and "+": all allowed in a cookie as-is.
    if (!/^[A-Za-z0-9_+\/-]+$/.test(zone)) return;
    if (document.cookie.indexOf(TZ_COOKIE + "=" + zone) !== -1) return;
    document.cookie = TZ_COOKIE + "=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    window.location.replace(window.location.href);
  }

  // Time zone pickers submit themselves when changed (a button remains for keyboard users).
  function autoSubmitZone() {
    var selects = document.querySelectorAll("select[data-autosubmit]");
    Array.prototype.forEach.call(selects, function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  function copyButtons() {
    var buttons = document.querySelectorAll("[data-copy-target]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy-target"));
        var status = document.getElementById(button.getAttribute("data-copy-status"));
        var text = target ? target.textContent.trim() : "";
        function done(message) { if (status) status.textContent = message; }
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(function () { done("Copied."); },
            function () { done("Could not copy. Select the address and copy it."); });
        } else {
          done("Select the address and copy it.");
        }
      });
    });
  }

  // A second tap while the first submit is on its way would only book twice.
  function submitOnce() {
    var forms = document.querySelectorAll("form[data-submit-once]");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("data-submitting")) { event.preventDefault(); return; }
        form.setAttribute("data-submitting", "1");
        var button = form.querySelector("button[type=submit]");
        if (button) button.setAttribute("aria-disabled", "true");
      });
    });
  }

  // After a refused form, start where the problems are listed.
  function focusErrors() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  }

  adoptBrowserZone();
  document.addEventListener("DOMContentLoaded", function () {
    autoSubmitZone();
    copyButtons();
    submitOnce();
    focusErrors();
  });
})();
