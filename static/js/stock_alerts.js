// Stock alert lists (the alerts page and the dashboard panel, [data-stock-alerts]): rows come and
// go with the live stream (static/js/live.js swaps them in and out); this shows the table while
// there are rows and the empty state once the last one has gone.
(function () {
  "use strict";

  // The dashboard loads this from its panel, the alerts page from its head: listen once.
  if (window.crmStockAlerts) return;
  window.crmStockAlerts = true;

  function refresh(list) {
    var table = list.querySelector("[data-alerts-table]");
    var empty = list.querySelector("[data-alerts-empty]");
    if (!table || !empty) return;
    var any = table.querySelector("tbody tr") !== null;
    table.hidden = !any;
    empty.hidden = any;
  }

  document.addEventListener("crm:live-swapped", function (event) {
    var list = event.target.closest && event.target.closest("[data-stock-alerts]");
    if (list) refresh(list);
  });
})();
