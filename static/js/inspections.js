// Inspections pages: the inspector's free slots beside the scheduling form, "use this time",
// and adding rows to the measurement and order-item formsets. No inline scripts (CSP).
(function () {
  "use strict";

  function refreshSlots() {
    var panel = document.getElementById("free-slots");
    if (panel && window.htmx) window.htmx.trigger(panel, "slots:refresh");
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.closest || !target.closest("[data-testid='schedule-form']")) return;
    if (target.name === "inspector" || target.name === "date") refreshSlots();
  });

  // Pages that list visits (an inspector's day) refetch themselves when any of the inspections
  // the user follows changes: listen for crm:inspections-changed on <body>.
  document.addEventListener("crm:live-event", function (event) {
    var type = (event.detail && event.detail.type) || "";
    if (type.indexOf("inspection.") === 0) {
      document.body.dispatchEvent(new CustomEvent("crm:inspections-changed", { detail: event.detail }));
    }
  });

  // A free slot's button puts its start time into the form.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-slot-start]") : null;
    if (!button) return;
    var input = document.querySelector("[data-testid='schedule-form'] input[name='start_time']");
    if (!input) return;
    input.value = button.getAttribute("data-slot-start");
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.focus();
  });

  // Formsets: <fieldset data-formset="prefix"> with [data-formset-rows], a <template
  // data-formset-template> holding the empty form (__prefix__) and a [data-formset-add] button.
  document.addEventListener("click", function (event) {
    var add = event.target.closest ? event.target.closest("[data-formset-add]") : null;
    if (!add) return;
    var fieldset = add.closest("[data-formset]");
    var prefix = fieldset.getAttribute("data-formset");
    var total = fieldset.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var max = fieldset.querySelector("input[name='" + prefix + "-MAX_NUM_FORMS']");
    var template = fieldset.querySelector("template[data-formset-template]");
    var rows = fieldset.querySelector("[data-formset-rows]");
    if (!total || !template || !rows) return;
    var index = parseInt(total.value, 10) || 0;
    if (max && index >= parseInt(max.value, 10)) {
      add.disabled = true;
      return;
    }
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    var first = row.querySelector("input, select");
    if (first) first.focus();
  });
})();
