// The notification bell on every signed-in page (templates/partials/nav.html).
//
// notification.created is a personal event: it reaches only its recipient's stream, and the
// unread count is the user's own, so no broadcast fragment carries it. On each one this shows a
// toast with the notification's title (and a link to what it is about), then announces
// crm:notifications-changed on <body>; the bell's badge (#unread-count) and the notifications
// page fetch themselves on it (and on crm:resync) with htmx.
(function () {
  "use strict";

  var body = document.body;
  if (!body) return;
  var shown = {};

  // Only links within this site: the address comes from the server, but a toast must never
  // become a way to send someone elsewhere.
  function localUrl(url) {
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\";
  }

  body.addEventListener("crm:live-event", function (event) {
    var frame = event.detail || {};
    if (frame.type !== "notification.created") return;
    var data = frame.data || {};
    if (data.notification && shown[data.notification]) return;
    if (data.notification) shown[data.notification] = true;
    if (data.title && window.crmToast) {
      var bell = document.getElementById("nav-bell");
      var link = localUrl(data.url) ? { url: data.url, label: (bell && bell.dataset.msgOpen) || "" } : null;
      window.crmToast(data.title, data.kind === "stock_low" ? "warning" : "primary", link);
    }
    body.dispatchEvent(new CustomEvent("crm:notifications-changed", { bubbles: true }));
  });
})();
