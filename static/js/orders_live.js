// The order page's parts that the live stream replaces (crm_core/orders/live.py) are rendered
// once for everyone who may see them, so their forms cannot carry a personal CSRF token: they
// have an empty <input data-csrf>, filled here from the page's own token when submitted.
(function () {
  "use strict";

  function pageToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var input = form.querySelector && form.querySelector("input[data-csrf]");
    if (input && !input.value) input.value = pageToken();
  }, true);
})();
