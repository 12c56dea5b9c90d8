// Who else is here (protocol: docs/REALTIME.md, "Presence"). A page declares its room with
// templates/partials/presence.html:
//
//   <div data-presence="order:42"               the room: a record, or a board
//        data-presence-date="2026-11-24"        (optional) a dated board's day
//        data-presence-editing>                 (optional) this page edits the record
//
// Over the page's live stream (static/js/live.js) it enters each declared room as "viewing" or
// "editing", again on every reconnect, leaves rooms an htmx swap took away, and shows the
// server's list of the other people in the room: their initials (full name on hover) and a
// banner "X is editing this order" while someone else edits the record.
(function () {
  "use strict";

  var entered = {}; // key -> {room, date, state}

  function key(room, date) {
    return room + "|" + (date || "");
  }

  function live() {
    return window.CrmLive && window.CrmLive.isOpen() ? window.CrmLive : null;
  }

  function send(entry, state) {
    var stream = live();
    if (!stream) return;
    var message = { action: "presence", room: entry.room, state: state };
    if (entry.date) message.date = entry.date;
    stream.send(message);
  }

  // The rooms the page declares now; a room is "editing" if any of its elements edits.
  function declared() {
    var rooms = {};
    document.querySelectorAll("[data-presence]").forEach(function (el) {
      var room = el.dataset.presence;
      if (!room) return;
      var date = el.dataset.presenceDate || "";
      var k = key(room, date);
      var editing = el.hasAttribute("data-presence-editing");
      if (!rooms[k]) rooms[k] = { room: room, date: date, state: "viewing" };
      if (editing) rooms[k].state = "editing";
    });
    return rooms;
  }

  function sync(fresh) {
    var wanted = declared();
    Object.keys(entered).forEach(function (k) {
      if (!wanted[k]) {
        send(entered[k], "left");
        delete entered[k];
      }
    });
    Object.keys(wanted).forEach(function (k) {
      var had = entered[k];
      if (fresh || !had || had.state !== wanted[k].state) send(wanted[k], wanted[k].state);
      entered[k] = wanted[k];
    });
  }

  function elementsOf(room, date) {
    return Array.prototype.filter.call(document.querySelectorAll("[data-presence]"), function (el) {
      return el.dataset.presence === room && (el.dataset.presenceDate || "") === (date || "");
    });
  }

  function listOf(names) {
    var lang = document.documentElement.lang || "en";
    if (window.Intl && Intl.ListFormat) {
      return new Intl.ListFormat(lang, { style: "long", type: "conjunction" }).format(names);
    }
    return names.join(", ");
  }

  function avatar(person, editingLabel) {
    var item = document.createElement("li");
    var badge = document.createElement("span");
    badge.className = "avatar presence-avatar" + (person.state === "editing" ? " is-editing" : "");
    badge.textContent = person.initials;
    badge.title = person.name;
    badge.setAttribute("data-testid", "presence-avatar");
    badge.setAttribute("aria-hidden", "true");
    item.appendChild(badge);
    var spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    spoken.textContent = person.state === "editing" ? person.name + " (" + editingLabel + ")" : person.name;
    item.appendChild(spoken);
    if (person.state === "editing") {
      var pencil = document.createElement("i");
      pencil.className = "bi bi-pencil-fill presence-pencil";
      pencil.setAttribute("aria-hidden", "true");
      item.appendChild(pencil);
    }
    return item;
  }

  function show(el, users) {
    var people = el.querySelector("[data-presence-people]");
    var list = el.querySelector("[data-presence-list]");
    if (list) {
      list.replaceChildren.apply(list, users.map(function (person) {
        return avatar(person, el.dataset.msgEditingState || "editing");
      }));
    }
    if (people) people.hidden = users.length === 0;

    var banner = el.querySelector("[data-presence-banner]");
    var text = el.querySelector("[data-presence-banner-text]");
    if (!banner || !text || !el.dataset.msgEditingOne) return;
    var editors = users.filter(function (person) { return person.state === "editing"; });
    if (!editors.length) {
      banner.hidden = true;
      text.textContent = "";
      return;
    }
    var names = editors.map(function (person) { return person.name; });
    text.textContent = names.length === 1
      ? el.dataset.msgEditingOne.replace("{name}", names[0])
      : el.dataset.msgEditingMany.replace("{names}", listOf(names));
    banner.hidden = false;
  }

  document.body.addEventListener("crm:presence", function (event) {
    var frame = event.detail || {};
    elementsOf(frame.room, frame.date).forEach(function (el) {
      show(el, frame.users || []);
    });
  });

  // A new connection: the server knows nothing of this page yet. What was shown came from the
  // old one, so it is cleared until the room answers again.
  document.body.addEventListener("crm:live-open", function () {
    document.querySelectorAll("[data-presence]").forEach(function (el) { show(el, []); });
    sync(true);
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (live()) sync(false);
  });

  // Leaving the page: say so now rather than when the socket's close is noticed.
  window.addEventListener("pagehide", function () {
    Object.keys(entered).forEach(function (k) { send(entered[k], "left"); });
    entered = {};
  });

  // Back from the browser's page cache: the rooms were left on the way out.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && live()) sync(true);
  });

  if (live()) sync(true);
})();
