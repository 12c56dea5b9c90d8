// Inventory pages: live filter bars, the product picker of the stock forms and the ledger,
// and a confirmation before deactivating a product, category or warehouse.
// Wired with data- attributes only (the CSP forbids inline scripts).
(function () {
  "use strict";

  var SEARCH_DELAY = 400;

  function submit(form) {
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  // --- Filter bars: <form data-filter-form> reloads its list when a filter changes ---------------
  var timers = new WeakMap();

  document.addEventListener("change", function (event) {
    var field = event.target;
    var form = field.closest && field.closest("form[data-filter-form]");
    if (!form || field.closest("[data-product-picker]") || field.matches("[data-filter-search]")) return;
    submit(form);
  });

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("[data-filter-search]")) return;
    var form = field.closest("form[data-filter-form]");
    if (!form) return;
    clearTimeout(timers.get(field));
    timers.set(field, setTimeout(function () { submit(form); }, SEARCH_DELAY));
  });

  // --- Product picker ---------------------------------------------------------------------------
  function parts(picker) {
    return {
      hidden: document.getElementById(picker.dataset.input),
      search: picker.querySelector("input[type=search]"),
      results: picker.querySelector(".product-results"),
    };
  }

  function closeResults(picker) {
    var results = parts(picker).results;
    if (results) results.innerHTML = "";
  }

  function choose(picker, id, label) {
    var p = parts(picker);
    var changed = p.hidden && p.hidden.value !== String(id);
    if (p.hidden) p.hidden.value = id;
    p.search.value = label;
    p.search.dataset.label = label;
    p.search.classList.remove("is-invalid");
    closeResults(picker);
    if (picker.hasAttribute("data-autosubmit")) {
      if (changed) submit(picker.closest("form"));
      return;
    }
    // Carry on with the next field of the form.
    var form = picker.closest("form");
    var next = form && form.querySelector(".product-picker ~ div select, .product-picker ~ div input:not([type=hidden])");
    if (next) next.focus();
  }

  function clear(picker) {
    var p = parts(picker);
    var had = p.hidden && p.hidden.value !== "";
    if (p.hidden) p.hidden.value = "";
    p.search.value = "";
    p.search.dataset.label = "";
    closeResults(picker);
    if (had && picker.hasAttribute("data-autosubmit")) submit(picker.closest("form"));
    p.search.focus();
  }

  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest("[data-pick-product]");
    if (option) {
      var picker = option.closest("[data-product-picker]");
      if (!picker) return;
      event.preventDefault();
      choose(picker, option.dataset.pickProduct, option.dataset.label);
      return;
    }
    var clearButton = event.target.closest && event.target.closest("[data-picker-clear]");
    if (clearButton) {
      clear(clearButton.closest("[data-product-picker]"));
      return;
    }
    // A click elsewhere closes any open suggestion list.
    document.querySelectorAll("[data-product-picker]").forEach(function (picker) {
      if (!picker.contains(event.target)) closeResults(picker);
    });
  });

  document.addEventListener("input", function (event) {
    var search = event.target;
    var picker = search.closest && search.closest("[data-product-picker]");
    if (!picker || search.type !== "search") return;
    // Typing something else than the chosen product's name un-chooses it.
    var p = parts(picker);
    if (p.hidden && search.value !== (search.dataset.label || "")) p.hidden.value = "";
    if (!search.value.trim()) closeResults(picker);
  });

  document.addEventListener("keydown", function (event) {
    var picker = event.target.closest && event.target.closest("[data-product-picker]");
    if (!picker) return;
    var options = Array.prototype.slice.call(picker.querySelectorAll("[data-pick-product]"));
    var index = options.indexOf(document.activeElement);
    if (event.key === "Enter" && event.target.type === "search") {
      // Enter in the search box picks the first suggestion instead of sending the form.
      event.preventDefault();
      if (options.length) choose(picker, options[0].dataset.pickProduct, options[0].dataset.label);
    } else if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      options[Math.min(index + 1, options.length - 1)].focus();
    } else if (event.key === "ArrowUp" && options.length) {
      event.preventDefault();
      if (index <= 0) {
        parts(picker).search.focus();
      } else {
        options[index - 1].focus();
      }
    } else if (event.key === "Escape") {
      closeResults(picker);
      parts(picker).search.focus();
    }
  });

  // --- Deactivating needs a confirmation: <input type=checkbox data-confirm-uncheck="…"> ----------
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[type=checkbox][data-confirm-uncheck]") || !box.form) return;
    if (box.defaultChecked && !box.checked) {
      box.form.dataset.confirm = box.dataset.confirmUncheck;
    } else {
      delete box.form.dataset.confirm;
    }
  });
})();
