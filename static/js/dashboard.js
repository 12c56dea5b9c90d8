// The dashboard's figures follow the changes the user may see (reports/dashboard.html). An event
// on a board the page follows, or a resync, makes it fetch its own figures again — never more
// than once a second, however many events arrive: a burst costs one request at its start and one
// at its end. The figures are of the user's own scope, so they are fetched, never broadcast.
(function () {
  "use strict";

  var GAP = 1000;
  var last = 0;
  var timer = null;

  function figures() {
    return document.querySelector("[data-dashboard-figures]");
  }

  function fetchNow() {
    timer = null;
    var element = figures();
    if (!element || !window.htmx) return;
    last = Date.now();
    window.htmx.trigger(element, "crm:dashboard-stale");
  }

  function stale() {
    if (!figures() || timer) return;
    var wait = last + GAP - Date.now();
    if (wait <= 0) fetchNow();
    else timer = setTimeout(fetchNow, wait);
  }

  document.body.addEventListener("crm:live-event", function (event) {
    var type = (event.detail && event.detail.type) || "";
    // Personal events (a notification, an access change) change no figure.
    if (/^(order|inspection|stock)\./.test(type)) stale();
  });
  document.body.addEventListener("crm:resync", stale);
})();
