// Customer pages. No inline scripts (the CSP forbids them): behaviour hangs on ids and data- attributes.
(function () {
  "use strict";

  // A note added with htmx is prepended to #timeline; the "nothing here yet" message under an
  // empty timeline goes away with the first entry, and the fresh note box gets the focus back.
  document.addEventListener("htmx:afterSwap", function (event) {
    var timeline = document.getElementById("timeline");
    if (!timeline || event.detail.target !== timeline) return;
    // The live stream may have brought the same note before this response did: keep one.
    var seen = {};
    Array.prototype.slice.call(timeline.children).forEach(function (entry) {
      if (!entry.id) return;
      if (seen[entry.id]) entry.remove();
      seen[entry.id] = true;
    });
    var empty = document.getElementById("timeline-empty");
    if (empty && timeline.children.length) empty.remove();
    var box = document.querySelector("#note-form textarea");
    if (box) box.focus();
  });

  // Live events the server sends no fragment for still change what the customer's page shows: an
  // order or an inspection of the customer changes its timeline and totals. The page fetches
  // those parts again, at most once a second. (Lists follow their records in live.js.)
  var THROTTLE = 1000;
  var pending = {};

  function stale(selector, name) {
    if (!document.querySelector(selector) || !window.htmx || pending[name]) return;
    pending[name] = setTimeout(function () {
      delete pending[name];
      var element = document.querySelector(selector); // the list may have been swapped meanwhile
      if (element) window.htmx.trigger(element, name);
    }, THROTTLE);
  }

  document.body.addEventListener("crm:live-event", function (event) {
    var type = (event.detail && event.detail.type) || "";
    if (/^(order|inspection)\./.test(type)) stale("[data-customer-live]", "crm:customer-stale");
  });
})();
