// The orders board (orders/board.html). A card moves to another column by native drag and drop,
// or by the buttons on the card (keyboard, phones). Only the columns the card lists in
// data-targets — the moves the server says this role may make — accept a drop; they are
// highlighted while dragging, the others refuse it.
//
// Every move is a POST to the card's data-move-url through the page's one move form, so it
// carries the page's CSRF token and gets app.js's confirmation when the move asks for one
// (shipping takes stock). The card goes to its new column at once; the server answers with the
// card as it now stands — in the new column, or back in the column it really is in when the
// move was refused — and its message arrives as a toast (HX-Trigger "crm:toast").
//
// Cards also arrive from the live stream (static/js/live.js places them by data-live-into); a
// board filtered by branch or salesperson drops the ones that do not match, and each column
// keeps at most data-column-limit cards, like the page the server renders.
(function () {
  "use strict";

  var dragged = null;
  var refusedColumn = null;

  function boardEl() {
    return document.querySelector("[data-orders-board]");
  }

  function flash(element) {
    element.classList.add("live-flash");
    setTimeout(function () { element.classList.remove("live-flash"); }, 1600);
  }

  function toast(text, level) {
    if (window.crmToast && text) window.crmToast(text, level);
  }

  // --- Columns: filters, limits, counts -------------------------------------------------------

  function matchesFilters(board, card) {
    var branch = board.dataset.filterBranch;
    var salesperson = board.dataset.filterSalesperson;
    if (branch && card.dataset.branch !== branch) return false;
    if (salesperson && card.dataset.salesperson !== salesperson) return false;
    return true;
  }

  function tidy() {
    var board = boardEl();
    if (!board) return;
    var limit = parseInt(board.dataset.columnLimit, 10) || 50;
    board.querySelectorAll("[data-board-column]").forEach(function (column) {
      var list = column.querySelector("[data-board-list]");
      var more = column.querySelector("[data-board-more]");
      var cards = Array.prototype.filter.call(list.children, function (card) {
        if (!card.hasAttribute("data-board-card")) return false;
        if (!matchesFilters(board, card)) {
          card.remove();
          return false;
        }
        return true;
      });
      var trimmed = false;
      while (cards.length > limit) {
        cards.pop().remove();
        trimmed = true;
      }
      if (trimmed && more) more.hidden = false;
      var hasMore = more && !more.hidden;
      var count = column.querySelector("[data-board-count]");
      if (count) count.textContent = cards.length + (hasMore ? "+" : "");
      var empty = column.querySelector("[data-board-empty]");
      if (empty) empty.hidden = cards.length > 0;
    });
  }

  function insertSorted(container, element) {
    var key = element.getAttribute("data-sort-key") || "";
    var before = null;
    Array.prototype.some.call(container.children, function (child) {
      var other = child.getAttribute("data-sort-key");
      if (other !== null && other > key) {
        before = child;
        return true;
      }
      return false;
    });
    container.insertBefore(element, before);
  }

  // The card in the server's answer replaces the one on the page, in the column it names.
  function placeCard(html) {
    var template = document.createElement("template");
    template.innerHTML = (html || "").trim();
    var fragment = template.content.querySelector("[data-board-card]");
    if (!fragment) return null;
    var old = document.getElementById(fragment.id);
    var container = document.getElementById(fragment.getAttribute("data-live-into"));
    if (old) old.remove();
    if (!container) return null;
    var element = document.importNode(fragment, true);
    insertSorted(container, element);
    if (window.htmx) window.htmx.process(element);
    flash(element);
    tidy();
    return element;
  }

  // --- Moving ---------------------------------------------------------------------------------

  function moveForm() {
    return document.querySelector("[data-board-move-form]");
  }

  function toastFromResponse(response) {
    var header = response.headers.get("HX-Trigger");
    if (!header) return false;
    var triggers;
    try {
      triggers = JSON.parse(header);
    } catch (error) {
      return false;
    }
    if (!triggers || !triggers["crm:toast"]) return false;
    document.dispatchEvent(new CustomEvent("crm:toast", { detail: triggers["crm:toast"] }));
    return true;
  }

  function requestMove(card, status) {
    if (!card || (card.dataset.targets || "").split(" ").indexOf(status) === -1) return;
    if (status === "cancelled") {
      openCancel(card);
      return;
    }
    var button = card.querySelector('[data-board-move="' + status + '"]');
    submitMove(card, status, "", button ? button.getAttribute("data-confirm-text") : "");
  }

  function submitMove(card, status, note, confirmText) {
    var form = moveForm();
    if (!form) return;
    form.setAttribute("action", card.dataset.moveUrl);
    form.elements.to_status.value = status;
    form.elements.version.value = card.dataset.version;
    form.elements.note.value = note || "";
    form.dataset.card = card.id;
    if (confirmText) {
      form.setAttribute("data-confirm", confirmText);
    } else {
      form.removeAttribute("data-confirm");
    }
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      send(form);
    }
  }

  function send(form) {
    var board = boardEl();
    var card = document.getElementById(form.dataset.card || "");
    if (!board || !card) return;
    var status = form.elements.to_status.value;
    var origin = { parent: card.parentElement, next: card.nextElementSibling };
    var target = document.getElementById("board-col-" + status);
    if (target) {
      target.insertBefore(card, target.firstChild);
      tidy();
    }
    card.classList.add("board-pending");
    card.setAttribute("aria-busy", "true");

    function snapBack() {
      card.classList.remove("board-pending");
      card.removeAttribute("aria-busy");
      if (origin.parent && document.body.contains(origin.parent)) {
        origin.parent.insertBefore(card, origin.next && origin.next.parentElement === origin.parent ? origin.next : null);
      }
      tidy();
    }

    fetch(form.getAttribute("action"), {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "HX-Request": "true", "HX-Current-URL": window.location.href },
    }).then(function (response) {
      var told = toastFromResponse(response);
      return response.text().then(function (html) {
        var placed = placeCard(html);
        if (!placed) snapBack();
        if (!response.ok && !told) toast(board.dataset.msgFailed, "danger");
        if (placed && !response.ok) placed.focus({ preventScroll: true });
      });
    }).catch(function () {
      snapBack();
      toast(board.dataset.msgFailed, "danger");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("[data-board-move-form]")) {
      event.preventDefault();
      send(form);
    } else if (form.matches("[data-board-cancel-form]")) {
      event.preventDefault();
      var note = form.querySelector("[data-board-cancel-note]");
      var card = document.getElementById(form.dataset.card || "");
      var modal = document.getElementById("board-cancel-modal");
      if (window.bootstrap && modal) window.bootstrap.Modal.getOrCreateInstance(modal).hide();
      if (card && note.value.trim()) submitMove(card, "cancelled", note.value.trim(), "");
    }
  });

  function openCancel(card) {
    var modal = document.getElementById("board-cancel-modal");
    var form = modal && modal.querySelector("[data-board-cancel-form]");
    if (!form || !window.bootstrap) return;
    form.dataset.card = card.id;
    form.querySelector("[data-board-cancel-note]").value = "";
    form.querySelector("[data-board-cancel-number]").textContent = card.dataset.number || "";
    window.bootstrap.Modal.getOrCreateInstance(modal).show();
    modal.addEventListener("shown.bs.modal", function () {
      form.querySelector("[data-board-cancel-note]").focus();
    }, { once: true });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-board-move]");
    if (!button) return;
    event.preventDefault();
    requestMove(button.closest("[data-board-card]"), button.getAttribute("data-board-move"));
  });

  // --- Drag and drop --------------------------------------------------------------------------

  function clearDrag() {
    var board = boardEl();
    if (board) {
      board.classList.remove("board-drag-active");
      board.querySelectorAll("[data-board-column]").forEach(function (column) {
        column.classList.remove("board-drop-ok", "board-drop-no", "board-drop-over");
        column.removeAttribute("aria-dropeffect");
      });
    }
    if (dragged) dragged.classList.remove("board-dragging");
    dragged = null;
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-board-card][draggable=true]");
    var board = boardEl();
    if (!card || !board) return;
    dragged = card;
    refusedColumn = null;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.number || card.id);
    var targets = (card.dataset.targets || "").split(" ").filter(Boolean);
    board.classList.add("board-drag-active");
    board.querySelectorAll("[data-board-column]").forEach(function (column) {
      var status = column.getAttribute("data-board-column");
      var ok = targets.indexOf(status) !== -1;
      column.classList.toggle("board-drop-ok", ok);
      column.classList.toggle("board-drop-no", !ok && status !== card.dataset.status);
      if (ok) column.setAttribute("aria-dropeffect", "move");
    });
    card.classList.add("board-dragging");
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var column = event.target.closest && event.target.closest("[data-board-column]");
    if (!column) return;
    if (column.classList.contains("board-drop-ok")) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      column.classList.add("board-drop-over");
      refusedColumn = null;
    } else {
      event.dataTransfer.dropEffect = "none";
      refusedColumn = column.classList.contains("board-drop-no") ? column : null;
    }
  });

  document.addEventListener("dragleave", function (event) {
    var column = event.target.closest && event.target.closest("[data-board-column]");
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("board-drop-over");
  });

  document.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest("[data-board-column]");
    if (!dragged || !column || !column.classList.contains("board-drop-ok")) return;
    event.preventDefault();
    var card = dragged;
    clearDrag();
    requestMove(card, column.getAttribute("data-board-column"));
  });

  document.addEventListener("dragend", function () {
    var board = boardEl();
    if (dragged && refusedColumn && board) toast(board.dataset.msgNotHere, "warning");
    refusedColumn = null;
    clearDrag();
  });

  // --- Keeping the columns right as cards come and go -----------------------------------------

  document.addEventListener("crm:live-swapped", function (event) {
    var board = boardEl();
    if (board && board.contains(event.target)) tidy();
  });
  document.addEventListener("htmx:afterSettle", tidy);
})();
