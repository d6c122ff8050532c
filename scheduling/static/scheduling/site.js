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

  // Minutes behind UTC in January and July, as the server writes them for its guess.
  function clockOffsets() {
    var year = new Date().getFullYear();
    return [new Date(year, 0, 1, 12).getTimezoneOffset(), new Date(year, 6, 1, 12).getTimezoneOffset()].join(",");
  }

  // The server renders times in a guessed zone until it knows the visitor's; tell it once.
  // When the device's clock keeps the guess's offsets the times already read right, and
  // asking Intl (costly on a slow phone's first page) is skipped.
  function adoptBrowserZone() {
    var root = document.documentElement;
    if (root.getAttribute("data-tz-source") !== "default") return;
    if (root.getAttribute("data-tz-offsets") === clockOffsets()) return;
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

  // The picker's visit type and time zone update the times in place: the same GET the
  // button makes, fetched, and its times swapped in. Focus stays on the control.
  function livePicker() {
    var form = document.querySelector("form[data-live-picker]");
    var results = document.querySelector("[data-picker-results]");
    if (!form || !results || !window.fetch || !window.DOMParser) return;
    var button = form.querySelector("[data-live-picker-button]");
    var status = form.querySelector("[data-live-picker-status]");
    var help = document.getElementById("tz-help");
    if (button) button.hidden = true;
    var latest = 0;
    function update() {
      var query = new URLSearchParams(new FormData(form)).toString();
      var url = form.getAttribute("action") || window.location.pathname;
      url = (url || window.location.pathname) + "?" + query;
      var ticket = ++latest;
      results.setAttribute("aria-busy", "true");
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.text();
        })
        .then(function (html) {
          if (ticket !== latest) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("[data-picker-results]");
          if (!fresh) throw new Error("no times");
          results.innerHTML = fresh.innerHTML;
          var freshHelp = doc.getElementById("tz-help");
          if (help && freshHelp) help.textContent = freshHelp.textContent;
          results.removeAttribute("aria-busy");
          window.history.replaceState(null, "", url);
          if (status) status.textContent = status.getAttribute("data-done") || "Times updated.";
        })
        .catch(function () { form.submit(); });
    }
    Array.prototype.forEach.call(form.querySelectorAll("select"), function (select) {
      select.addEventListener("change", update);
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
          navigator.clipboard.writeText(text).then(
            function () { done(button.getAttribute("data-copied") || "Copied."); },
            function () { done(button.getAttribute("data-copy-failed") || "Could not copy."); });
        } else {
          done(button.getAttribute("data-copy-failed") || "Could not copy.");
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
    livePicker();
    copyButtons();
    submitOnce();
    focusErrors();
  });
})();
