// Orders pages: the order form's item rows, lookups and live totals, and the detail page's
// version bookkeeping after an inline payment. No inline scripts (CSP): everything is wired
// through data- attributes.
(function () {
  "use strict";

  // --- Exact decimal arithmetic -------------------------------------------------------------
  // Amounts are BigInt counts of a fixed unit (cents, thousandths of a unit, hundredths of a
  // percent), so 0.1 + 0.2 is 0.3 here exactly as in the server's Decimal.

  // "12.345" -> 12345n at scale 3; "" or junk -> null. Extra digits beyond the scale are cut,
  // as the server refuses them anyway.
  function parseScaled(text, scale) {
    if (text === undefined || text === null) return null;
    var s = String(text).trim().replace(/[٠-٩]/g, function (d) { return String(d.charCodeAt(0) - 0x660); });
    if (!/^\d*(\.\d*)?$/.test(s) || s === "" || s === ".") return null;
    var parts = s.split(".");
    var frac = (parts[1] || "").slice(0, scale);
    while (frac.length < scale) frac += "0";
    return BigInt((parts[0] || "0") + frac);
  }

  // numerator / denominator rounded half up (both non-negative), as ROUND_HALF_UP does.
  function divRound(numerator, denominator) {
    return (numerator * 2n + denominator) / (denominator * 2n);
  }

  function formatCents(cents, fmt) {
    var negative = cents < 0n;
    if (negative) cents = -cents;
    var whole = (cents / 100n).toString();
    var frac = (cents % 100n).toString().padStart(2, "0");
    var grouping = parseInt(fmt.grouping, 10) || 0;
    if (grouping > 0 && fmt.thousands) {
      var out = "";
      while (whole.length > grouping) {
        out = fmt.thousands + whole.slice(-grouping) + out;
        whole = whole.slice(0, -grouping);
      }
      whole = whole + out;
    }
    var amount = (negative ? "-" : "") + whole + fmt.decimal + frac;
    return fmt.pattern.replace("{amount}", amount);
  }

  // --- The order form -------------------------------------------------------------------------

  function initOrderForm(form) {
    var fmt = {
      decimal: form.dataset.decimal || ".",
      thousands: form.dataset.thousands || "",
      grouping: form.dataset.grouping || "0",
      pattern: form.dataset.moneyPattern || "{amount}",
    };
    var rows = document.getElementById("item-rows");
    var template = document.getElementById("item-row-template");
    var totalForms = form.querySelector('input[name$="-TOTAL_FORMS"]');

    function field(row, name) {
      return row.querySelector('[data-calc="' + name + '"]');
    }

    // Line total in cents: quantity × price × (100 − discount) / 100, rounded half up.
    function lineCents(row) {
      var qty = parseScaled(field(row, "quantity").value, 3);
      var priceInput = field(row, "unit_price");
      var price = parseScaled(priceInput.value, 2);
      if (price === null) price = parseScaled(row.dataset.price, 2);
      var discountInput = field(row, "discount_percent");
      var discount = parseScaled(discountInput.value, 2);
      if (discount === null) {
        discount = parseScaled(row.hasAttribute("data-existing") ? row.dataset.discount : form.dataset.defaultDiscount, 2);
      }
      if (qty === null || price === null) return null;
      if (discount === null) discount = 0n;
      if (discount > 10000n) discount = 10000n;
      // qty (×1000) × price (×100) × (10000 − discount) (×100 %) → cents: divide by 1000 × 10000.
      return divRound(qty * price * (10000n - discount), 10000000n);
    }

    function isRemoved(row) {
      var box = row.querySelector("[data-remove-row]");
      return box && box.checked;
    }

    function setTotal(name, cents) {
      var el = form.querySelector('[data-total="' + name + '"]');
      if (el) el.textContent = cents === null ? "—" : formatCents(cents, fmt);
    }

    function recalc() {
      var subtotal = 0n;
      rows.querySelectorAll("[data-item-row]").forEach(function (row) {
        var cell = row.querySelector("[data-line-total]");
        var cents = lineCents(row);
        cell.textContent = cents === null ? "" : formatCents(cents, fmt);
        if (!isRemoved(row) && cents !== null) subtotal += cents;
      });
      var discount = parseScaled(form.querySelector('[data-calc="discount_amount"]').value, 2) || 0n;
      var rate = parseScaled(form.dataset.taxRate, 4) || 0n;
      var shipping = parseScaled(form.dataset.shipping, 2) || 0n;
      var taxable = subtotal - discount;
      var tax = taxable > 0n ? divRound(taxable * rate, 10000n) : -divRound(-taxable * rate, 10000n);
      var total = taxable + tax + shipping;
      setTotal("subtotal", subtotal);
      setTotal("tax", tax);
      setTotal("total", total);
      setTotal("balance", total - (parseScaled(form.dataset.paid, 2) || 0n));
      form.querySelector('[data-calc="discount_amount"]').classList.toggle("is-invalid", discount > subtotal);
    }

    function refreshPlaceholders() {
      var fallback = form.dataset.defaultDiscount || "0";
      rows.querySelectorAll("[data-item-row]").forEach(function (row) {
        var discount = field(row, "discount_percent");
        discount.placeholder = row.hasAttribute("data-existing") ? row.dataset.discount : fallback;
        var price = field(row, "unit_price");
        price.placeholder = row.dataset.price || "";
      });
    }

    // Striking out a row already on the order asks for confirmation on save; a new row just goes.
    function refreshRemoval() {
      var removing = 0;
      rows.querySelectorAll("[data-item-row]").forEach(function (row) {
        var removed = isRemoved(row);
        row.classList.toggle("item-removed", removed);
        row.querySelectorAll("input[data-calc]").forEach(function (input) {
          if (removed) {
            input.dataset.wasRequired = input.required ? "1" : "";
            input.required = false;
          } else if (input.dataset.wasRequired === "1") {
            input.required = true;
          }
        });
        if (removed && row.hasAttribute("data-existing")) removing += 1;
      });
      if (removing) {
        form.dataset.confirm = form.dataset.confirmRemove;
      } else {
        delete form.dataset.confirm;
      }
    }

    function addRow() {
      var index = parseInt(totalForms.value, 10) || 0;
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("tbody");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      rows.appendChild(row);
      totalForms.value = String(index + 1);
      if (window.htmx) window.htmx.process(row);
      refreshPlaceholders();
      var search = row.querySelector("[data-product-search]");
      if (search) search.focus();
    }

    function closeResults(container) {
      if (container) container.innerHTML = "";
    }

    form.addEventListener("input", function (event) {
      var target = event.target;
      if (target.matches("[data-product-search]")) {
        // Typing again means choosing again: forget the product picked before.
        var row = target.closest("[data-item-row]");
        row.querySelector('input[name$="-product"]').value = "";
        delete row.dataset.price;
        refreshPlaceholders();
      }
      if (target.matches("[data-customer-search]")) {
        form.querySelector('input[name="customer"]').value = "";
        form.querySelector("[data-customer-chosen]").textContent = form.dataset.msgChoose;
      }
      if (target.matches("[data-calc]") || target.matches("[data-product-search]")) recalc();
    });

    form.addEventListener("change", function (event) {
      if (event.target.matches("[data-remove-row]")) {
        var row = event.target.closest("[data-item-row]");
        if (event.target.checked && !row.hasAttribute("data-existing")) {
          row.remove();
        }
        refreshRemoval();
        recalc();
      }
    });

    form.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-row]");
      if (add) {
        addRow();
        return;
      }
      var product = event.target.closest("[data-product-pick]");
      if (product) {
        var row = product.closest("[data-item-row]");
        row.querySelector('input[name$="-product"]').value = product.dataset.id;
        row.querySelector("[data-product-search]").value = product.dataset.name;
        row.dataset.price = product.dataset.price;
        var price = field(row, "unit_price");
        price.value = product.dataset.price;
        var qty = field(row, "quantity");
        if (!qty.value) qty.value = "1";
        closeResults(product.closest("[data-lookup-results]"));
        refreshPlaceholders();
        recalc();
        qty.focus();
        return;
      }
      var customer = event.target.closest("[data-customer-pick]");
      if (customer) {
        form.querySelector('input[name="customer"]').value = customer.dataset.id;
        form.querySelector("[data-customer-search]").value = customer.dataset.name;
        form.dataset.defaultDiscount = customer.dataset.discount || "0";
        var chosen = form.dataset.msgChosen.replace("{name}", customer.dataset.name).replace("{code}", customer.dataset.code);
        if (parseScaled(customer.dataset.discount, 2)) {
          // 10.00 → 10, 12.50 → 12.5, as the server writes a percentage.
          var shown = customer.dataset.discount.replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
          chosen += " · " + form.dataset.msgStanding.replace("{discount}", shown);
        }
        form.querySelector("[data-customer-chosen]").textContent = chosen;
        closeResults(customer.closest("[data-lookup-results]"));
        refreshPlaceholders();
        recalc();
      }
    });

    // Escape closes an open result list; a click elsewhere too.
    form.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        form.querySelectorAll("[data-lookup-results]").forEach(closeResults);
      }
      // Enter in a search box picks the first match instead of submitting the whole order.
      if (event.key === "Enter" && event.target.matches("[data-product-search], [data-customer-search]")) {
        event.preventDefault();
        var results = event.target.parentElement.querySelector("[data-lookup-results]");
        var first = results && results.querySelector("[data-product-pick], [data-customer-pick]");
        if (first) first.click();
      }
    });
    document.addEventListener("click", function (event) {
      if (!event.target.closest(".lookup")) form.querySelectorAll("[data-lookup-results]").forEach(closeResults);
    });

    refreshPlaceholders();
    refreshRemoval();
    recalc();
  }

  // --- The detail page ------------------------------------------------------------------------
  // An inline payment bumps the order's version: the other forms on the page (status buttons,
  // cancel, shipping) must send the new one, or they would be refused as stale.
  // Only after this page's own payment: other swaps (the live stream's resync) bring fragments
  // with their own, current versions.
  document.addEventListener("htmx:afterSwap", function (event) {
    var source = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!source || !source.hasAttribute || !source.hasAttribute("data-order-payment-form")) return;
    var payments = document.getElementById("order-payments");
    if (!payments || !payments.dataset.version) return;
    document.querySelectorAll("input[data-order-version]").forEach(function (input) {
      input.value = payments.dataset.version;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-order-form]");
    if (form) initOrderForm(form);
  });
})();
