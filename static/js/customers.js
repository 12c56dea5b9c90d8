// Customer pages. No inline scripts (the CSP forbids them): behaviour hangs on ids and data- attributes.
(function () {
  "use strict";

  // A note added with htmx is prepended to #timeline; the "nothing here yet" message under an
  // empty timeline goes away with the first entry, and the fresh note box gets the focus back.
  document.addEventListener("htmx:afterSwap", function (event) {
    var timeline = document.getElementById("timeline");
    if (!timeline || event.detail.target !== timeline) return;
    var empty = document.getElementById("timeline-empty");
    if (empty && timeline.children.length) empty.remove();
    var box = document.querySelector("#note-form textarea");
    if (box) box.focus();
  });
})();
