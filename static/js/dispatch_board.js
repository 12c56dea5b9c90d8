// The dispatch board (inspections/board.html): drag a card onto another inspector's column to
// reassign it, onto an hour to reschedule it (it keeps its length), or both; the card's
// "Move…" dialog does the same from the keyboard or a phone. Native HTML5 drag and drop, no
// library. No inline scripts (CSP): the page opts in with data- attributes.
//
// Every move POSTs to the board's move endpoint with the card's version. The answer is the
// card as the server now has it, with data-live-into naming its column (200: moved; 409:
// refused, so it goes back where it was) and the outcome as a toast in HX-Trigger; the same
// card reaches every other browser showing that day through static/js/live.js.
(function () {
  "use strict";

  var dragged = null;
  var hovered = null;

  function board() {
    return document.getElementById("dispatch-board");
  }

  function csrfToken() {
    var input = document.querySelector("[data-board-move-form] input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Column badges count the visits that still hold time; the empty state shows on a day with none.
  function recount() {
    var root = board();
    if (!root) return;
    var total = 0;
    root.querySelectorAll("[data-board-column]").forEach(function (column) {
      total += column.querySelectorAll(".board-card").length;
      var badge = column.querySelector("[data-board-count]");
      if (badge) badge.textContent = String(column.querySelectorAll(".board-card:not(.is-closed)").length);
    });
    var empty = document.getElementById("board-empty");
    if (empty) empty.classList.toggle("d-none", total > 0);
  }

  function insertSorted(container, element) {
    var key = element.getAttribute("data-sort-key") || "";
    var before = null;
    Array.prototype.some.call(container.children, function (child) {
      var other = child.getAttribute("data-sort-key");
      if (child !== element && other !== null && other > key) {
        before = child;
        return true;
      }
      return false;
    });
    container.insertBefore(element, before);
  }

  // The server's card replaces ours and goes to the column it names (none on this page: it
  // left this day).
  function placeCard(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var fresh = template.content.firstElementChild;
    if (!fresh || !fresh.id) return false;
    var old = document.getElementById(fresh.id);
    if (old) old.remove();
    var container = document.getElementById(fresh.getAttribute("data-live-into") || "");
    if (container) {
      var element = document.importNode(fresh, true);
      insertSorted(container, element);
      if (window.htmx) window.htmx.process(element);
      element.classList.add("live-flash");
      setTimeout(function () { element.classList.remove("live-flash"); }, 1600);
    }
    recount();
    return true;
  }

  function toastFrom(response) {
    var header = response.headers.get("HX-Trigger");
    if (!header) return false;
    var triggers;
    try {
      triggers = JSON.parse(header);
    } catch (error) {
      return false;
    }
    if (!triggers || !triggers["crm:toast"]) return false;
    document.body.dispatchEvent(new CustomEvent("crm:toast", { detail: triggers["crm:toast"], bubbles: true }));
    return true;
  }

  function snapBack(card, origin) {
    if (!origin || !origin.parent || !document.body.contains(origin.parent)) return;
    var current = document.getElementById(card.id) || card;
    origin.parent.insertBefore(current, origin.next && origin.next.parentElement === origin.parent ? origin.next : null);
    current.classList.remove("is-pending");
    recount();
  }

  function move(card, version, fields, origin) {
    var root = board();
    if (!root) return;
    var data = new FormData();
    data.append("inspection", card.getAttribute("data-inspection"));
    data.append("version", version);
    Object.keys(fields).forEach(function (name) { data.append(name, fields[name]); });
    card.classList.add("is-pending");
    fetch(root.getAttribute("data-move-url"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true", Accept: "text/html" },
    }).then(function (response) {
      var toasted = toastFrom(response);
      return response.text().then(function (text) {
        var placed = (response.ok || response.status === 409) && text.trim() && placeCard(text);
        if (placed) return;
        snapBack(card, origin);
        if (!toasted) {
          var messages = document.body.dataset;
          var notFound = response.status === 403 || response.status === 404;
          window.crmToast(notFound ? messages.msgNotFound : messages.msgServerError, "danger");
        }
      });
    }).catch(function () {
      snapBack(card, origin);
      window.crmToast(root.getAttribute("data-msg-failed"), "danger");
    });
  }

  // --- Drag and drop ------------------------------------------------------------------------

  function zoneOf(target) {
    var root = board();
    if (!root || !target || !target.closest) return null;
    var zone = target.closest("[data-board-drop]");
    return zone && root.contains(zone) ? zone : null;
  }

  function highlight(zone) {
    if (hovered === zone) return;
    if (hovered) hovered.classList.remove("board-drop-over");
    hovered = zone;
    if (zone) zone.classList.add("board-drop-over");
  }

  function endDrag() {
    if (dragged) dragged.classList.remove("is-dragging");
    highlight(null);
    var root = board();
    if (root) root.classList.remove("board-dragging");
    dragged = null;
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest(".board-card.is-movable") : null;
    var root = board();
    if (!card || !root || !root.contains(card)) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-label") || card.id);
    card.classList.add("is-dragging");
    root.classList.add("board-dragging");
  });

  document.addEventListener("dragend", endDrag);

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var zone = zoneOf(event.target);
    if (!zone) {
      highlight(null);
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    // Over a card, the place is the card's column: the visit keeps its time.
    highlight(zone.getAttribute("data-board-drop") === "slot" ? zone : zone.closest("[data-board-column]").querySelector(".board-column-head"));
  });

  document.addEventListener("drop", function (event) {
    if (!dragged) return;
    var zone = zoneOf(event.target);
    if (!zone) return;
    event.preventDefault();
    var card = document.getElementById(dragged.id) || dragged;
    var version = dragged.getAttribute("data-version");
    endDrag();
    var column = zone.closest("[data-board-column]");
    var body = column.querySelector(".board-column-body");
    var fields = {};
    if (column.getAttribute("data-inspector") !== card.getAttribute("data-inspector")) {
      fields.inspector = column.getAttribute("data-inspector");
    }
    var slot = zone.getAttribute("data-board-drop") === "slot" ? zone : null;
    if (slot && slot.getAttribute("data-time") !== card.getAttribute("data-start")) {
      fields.date = board().getAttribute("data-day");
      fields.start_time = slot.getAttribute("data-time");
    }
    if (!Object.keys(fields).length) return;
    var origin = { parent: card.parentElement, next: card.nextElementSibling };
    // Shown where it was dropped at once; the server's answer then settles it.
    if (slot) {
      body.insertBefore(card, slot.nextElementSibling);
    } else {
      insertSorted(body, card);
    }
    recount();
    move(card, version, fields, origin);
  });

  // --- The "Move…" dialog -------------------------------------------------------------------

  function cardOf(form) {
    return document.getElementById("board-card-" + form.elements.inspection.value);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var dialog = document.getElementById("board-move-dialog");
    if (!dialog) return;
    var form = dialog.querySelector("[data-board-move-form]");
    dialog.addEventListener("show.bs.modal", function (event) {
      var card = event.relatedTarget && event.relatedTarget.closest(".board-card");
      if (!card) return;
      form.elements.inspection.value = card.getAttribute("data-inspection");
      form.elements.version.value = card.getAttribute("data-version");
      form.elements.inspector.value = card.getAttribute("data-inspector");
      form.elements.date.value = card.getAttribute("data-date");
      form.elements.start_time.value = card.getAttribute("data-start");
      dialog.querySelector("[data-board-move-summary]").textContent = card.getAttribute("data-label");
    });
    dialog.addEventListener("shown.bs.modal", function () {
      form.elements.inspector.focus();
    });
    form.addEventListener("submit", function (event) {
      var card = cardOf(form);
      if (!card || !form.checkValidity()) return;
      event.preventDefault();
      var fields = {};
      if (form.elements.inspector.value !== card.getAttribute("data-inspector")) {
        fields.inspector = form.elements.inspector.value;
      }
      if (form.elements.date.value !== card.getAttribute("data-date") || form.elements.start_time.value !== card.getAttribute("data-start")) {
        fields.date = form.elements.date.value;
        fields.start_time = form.elements.start_time.value;
      }
      window.bootstrap.Modal.getOrCreateInstance(dialog).hide();
      if (!Object.keys(fields).length) return;
      move(card, form.elements.version.value, fields, { parent: card.parentElement, next: card.nextElementSibling });
    });
  });

  // Live fragments moved cards in or out of columns: recount.
  document.addEventListener("crm:live-swapped", recount);
  document.addEventListener("htmx:afterSettle", recount);
})();
