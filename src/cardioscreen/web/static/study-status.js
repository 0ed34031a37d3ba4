// The study page while its analysis is queued or running: polls the study's status and, once the analysis is done,
// puts the page's new content in place without a reload (kept out of the HTML: the content policy allows no
// inline script).
(function () {
  "use strict";
  var panel = document.querySelector("[data-status-url]");
  if (!panel) { return; }
  var PERIOD_MS = 1500;

  function show(status) {
    var label = panel.dataset["label" + status.charAt(0).toUpperCase() + status.slice(1)];
    if (!label) { return; }
    panel.querySelector(".pending-status").textContent = label;
    var badge = document.querySelector(".study-head .badge");
    if (badge) { badge.className = "badge badge-" + status; badge.textContent = label; }
  }

  function replaceContent() {
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (answer) { return answer.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("main");
        if (fresh) { document.querySelector("main").replaceWith(fresh); document.title = page.title; }
      });
  }

  function poll() {
    fetch(panel.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (progress) {
        if (progress && !progress.pending) { return replaceContent(); }
        if (progress) { show(progress.status); }
        window.setTimeout(poll, PERIOD_MS);
      })
      .catch(function () { window.setTimeout(poll, PERIOD_MS * 2); });
  }

  window.setTimeout(poll, PERIOD_MS);
})();
