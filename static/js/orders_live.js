// The order page's parts that the live stream replaces (crm_core/orders/live.py) are rendered
// once for everyone who may see them, so their forms cannot carry a personal CSRF token: they
// have an empty <input data-csrf>, filled here from the page's own token when submitted.
// Needs no inline script: the order page loads it, and the forms opt in with data- attributes.
(function () {
  "use strict";

  function pageToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  // The cancel form keeps what its user typed, so the stream does not replace it; it follows the
  // order's version instead, as the status buttons the stream replaces do.
  document.addEventListener("crm:live-event", function (event) {
    var data = (event.detail && event.detail.data) || {};
    if (typeof data.order !== "number" || typeof data.version !== "number") return;
    document.querySelectorAll('form[data-live-version="' + data.order + '"] input[name=version]').forEach(function (input) {
      if (parseInt(input.value, 10) < data.version) input.value = String(data.version);
    });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var input = form.querySelector && form.querySelector("input[data-csrf]");
    if (input && !input.value) input.value = pageToken();
  }, true);
})();
