// The live stream for every signed-in page (protocol: docs/REALTIME.md). No inline scripts
// anywhere (the CSP forbids them): pages opt in with data- attributes.
//
//   <body data-live-url="/ws/live/">             set by base.html for signed-in users
//   <div data-live-topic="inspections.board"      what this page shows; subscribed on connect
//        data-live-date="2026-11-24"              (optional) one day of a dated board
//        data-live-since="{{ last_event_id }}">   (optional) the event id the content reflects
//   <div hx-get="..." hx-trigger="crm:resync from:body">   re-fetches itself on a resync
//
// Events the page can listen to, all dispatched on <body>:
//   crm:resync      what the page shows may be stale: re-fetch it (detail.reason, detail.topic)
//   crm:live-event  an event arrived (detail is the event frame); fragments in it ("html") have
//                   already been swapped in by id
//   crm:live-status detail.live is true or false; #live-status shows "paused" while false
//   crm:live-open   a connection was (re-)established (hello): presence rooms are entered again
//   crm:presence    a presence frame (static/js/presence.js shows who else is here)
// window.CrmLive.send(message) sends a frame on the open socket (presence.js uses it).
(function () {
  "use strict";

  var body = document.body;
  var path = body && body.dataset.liveUrl;
  if (!path || !("WebSocket" in window)) return;

  var socket = null;
  var attempt = 0;
  var lastSeq = 0;
  var connectedBefore = false;
  var reconnectTimer = null;
  var pingTimer = null;
  var pongTimer = null;
  var subscribed = {}; // key -> {topic, date}
  var PING_EVERY = 25000;
  var PONG_WITHIN = 10000;

  function emit(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail || {}, bubbles: true }));
  }

  function setLive(live) {
    var status = document.getElementById("live-status");
    if (status) {
      status.hidden = live;
      status.classList.toggle("d-none", live);
    }
    body.classList.toggle("live-paused", !live);
    emit("crm:live-status", { live: live });
  }

  function resync(reason, topic) {
    emit("crm:resync", { reason: reason, topic: topic || null });
  }

  function key(topic, date) {
    return topic + "|" + (date || "");
  }

  // The topics the page declares right now, from its data-live-topic elements.
  function declared() {
    var topics = {};
    document.querySelectorAll("[data-live-topic]").forEach(function (el) {
      var topic = el.dataset.liveTopic;
      if (!topic) return;
      var date = el.dataset.liveDate || "";
      topics[key(topic, date)] = { topic: topic, date: date, since: el.dataset.liveSince };
    });
    return topics;
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function subscribe(entry) {
    var message = { action: "subscribe", topic: entry.topic };
    if (entry.date) message.date = entry.date;
    send(message);
  }

  // Bring the socket's topics in line with the page's (after connecting, and after htmx swaps).
  function syncTopics() {
    var wanted = declared();
    Object.keys(subscribed).forEach(function (k) {
      if (!wanted[k]) {
        var gone = subscribed[k];
        var message = { action: "unsubscribe", topic: gone.topic };
        if (gone.date) message.date = gone.date;
        send(message);
        delete subscribed[k];
      }
    });
    Object.keys(wanted).forEach(function (k) {
      if (!subscribed[k]) {
        subscribed[k] = wanted[k];
        subscribe(wanted[k]);
      }
    });
  }

  // Fragments rendered by the server replace the elements with the same id, as htmx's
  // hx-swap-oob would; an id that is not on this page is ignored. Attributes on a fragment:
  //   data-live-into="<container id>"  the element belongs in that container (a board column):
  //                                    it is taken out of wherever it is now and, if the
  //                                    container is on this page, put in it — first, or in the
  //                                    order of data-sort-key when the container has data-live-sort
  //   data-live-remove                 the element goes away (a card that left the board)
  // Every swapped element gets the class "live-flash" for a moment, and crm:live-swapped is
  // dispatched on it (boards recount their columns on it).
  function place(container, element) {
    if (container.hasAttribute("data-live-sort")) {
      var sortKey = element.getAttribute("data-sort-key") || "";
      var before = null;
      Array.prototype.some.call(container.children, function (child) {
        var other = child.getAttribute("data-sort-key");
        if (other !== null && other > sortKey) {
          before = child;
          return true;
        }
        return false;
      });
      container.insertBefore(element, before);
    } else if (element.getAttribute("data-live-position") === "beforeend") {
      container.appendChild(element);
    } else {
      container.insertBefore(element, container.firstChild);
    }
  }

  function settle(element, container) {
    if (window.htmx) window.htmx.process(element);
    element.classList.add("live-flash");
    setTimeout(function () { element.classList.remove("live-flash"); }, 1600);
    element.dispatchEvent(new CustomEvent("crm:live-swapped", { bubbles: true }));
    if (container) container.dispatchEvent(new CustomEvent("crm:live-swapped", { bubbles: true }));
  }

  // Each renderer's output arrives wrapped in its own <template>, so the HTML parser gives it its
  // own context: table rows parse as rows even when another page's <div> came first (outside a
  // template, a <tr> after a <div> is silently dropped).
  function fragmentsOf(content) {
    var found = [];
    Array.prototype.slice.call(content.children).forEach(function (child) {
      if (child.tagName === "TEMPLATE" && !child.id) {
        found = found.concat(fragmentsOf(child.content));
      } else {
        found.push(child);
      }
    });
    return found;
  }

  function swapFragments(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    fragmentsOf(template.content).forEach(function (fragment) {
      if (!fragment.id) return;
      var target = document.getElementById(fragment.id);
      var oldParent = target ? target.parentElement : null;
      fragment.removeAttribute("hx-swap-oob");
      if (fragment.hasAttribute("data-live-remove")) {
        if (target) {
          target.remove();
          if (oldParent) oldParent.dispatchEvent(new CustomEvent("crm:live-swapped", { bubbles: true }));
        }
        return;
      }
      var into = fragment.getAttribute("data-live-into");
      if (into) {
        var container = document.getElementById(into);
        if (target) target.remove();
        if (oldParent && oldParent !== container) {
          oldParent.dispatchEvent(new CustomEvent("crm:live-swapped", { bubbles: true }));
        }
        if (!container) return;
        var element = document.importNode(fragment, true);
        place(container, element);
        settle(element, container);
        return;
      }
      if (!target) return;
      var replacement = document.importNode(fragment, true);
      target.replaceWith(replacement);
      settle(replacement, null);
    });
  }

  // Lists. A row already on the page is swapped by its fragment, but whether a record belongs on
  // this page at all depends on the page's filters, sort and position, which only the server can
  // apply. So a list says when to fetch itself again (crm:list-stale, fired on it):
  //   <div id="…" data-live-list="order." data-live-key="order" data-live-rows="order-row-"
  //        data-live-created="order.created" data-live-refetch="any|created"
  //        hx-get="…" hx-trigger="crm:list-stale, crm:resync from:body">
  //   any      on every event of its records: a filtered list, or one sorted by something that
  //            changes, may gain or lose a row with any change;
  //   created  on a new record whose row is not on the page (the first page, newest first):
  //            an event of the data-live-created type, or "type:flag" for one whose data has
  //            that flag set (stock.changed:first, a level that was empty);
  //   (empty)  never: rows are swapped in place.
  // A list is fetched at most once a second: the first event waits a moment for others, and
  // events during a fetch bring one more afterwards, never a fetch each.
  var LIST_FIRST_WAIT = 300;
  var LIST_EVERY = 1000;
  var staleLists = {};

  function listStale(id) {
    var state = staleLists[id];
    if (state) {
      state.again = true;
      return;
    }
    state = staleLists[id] = { again: false };
    function fire() {
      var list = document.getElementById(id); // it may have been swapped meanwhile
      if (list && window.htmx) window.htmx.trigger(list, "crm:list-stale");
      setTimeout(function () {
        if (state.again) {
          state.again = false;
          fire();
        } else {
          delete staleLists[id];
        }
      }, LIST_EVERY);
    }
    setTimeout(fire, LIST_FIRST_WAIT);
  }

  function isCreation(frame, declared) {
    var parts = (declared || "").split(":");
    return frame.type === parts[0] && (parts.length < 2 || frame.data[parts[1]] === true);
  }

  function followLists(frame) {
    document.querySelectorAll("[data-live-list]").forEach(function (list) {
      var mode = list.getAttribute("data-live-refetch");
      if (!mode || !list.id || frame.type.indexOf(list.getAttribute("data-live-list")) !== 0) return;
      var pk = frame.data && frame.data[list.getAttribute("data-live-key")];
      if (typeof pk !== "number") return;
      if (mode === "any") {
        listStale(list.id);
      } else if (mode === "created" && isCreation(frame, list.getAttribute("data-live-created")) &&
                 !document.getElementById(list.getAttribute("data-live-rows") + pk)) {
        listStale(list.id);
      }
    });
  }

  function handle(frame) {
    // Every frame is numbered 1, 2, 3… on its connection: a jump means frames were lost.
    if (typeof frame.seq === "number") {
      if (lastSeq && frame.seq !== lastSeq + 1) resync("seq");
      lastSeq = frame.seq;
    }
    switch (frame.type) {
      case "hello":
        setLive(frame.live !== false);
        subscribed = {};
        syncTopics();
        emit("crm:live-open", {});
        if (connectedBefore) {
          // Anything may have happened while we were away: one resync covers every topic.
          Object.keys(subscribed).forEach(function (k) { subscribed[k].checked = true; });
          resync("reconnect");
        }
        connectedBefore = true;
        return;
      case "subscribed": {
        var entry = subscribed[key(frame.topic, frame.date)];
        // The page was rendered before this subscription existed: unless the content says it
        // reflects the latest event, fetch it again (once, right after loading).
        if (entry && !entry.checked) {
          entry.checked = true;
          var since = parseInt(entry.since, 10);
          if (isNaN(since) || frame.last_event_id > since) resync("subscribed", frame.topic);
        }
        return;
      }
      case "status":
        setLive(!!frame.live);
        return;
      case "resync":
        resync(frame.reason || "server");
        return;
      case "pong":
        clearTimeout(pongTimer);
        return;
      case "error":
        if (window.console) console.warn("live stream:", frame.code, frame.topic || "");
        return;
      case "unsubscribed":
        return;
      case "presence":
        emit("crm:presence", frame);
        return;
      default:
        if (frame.type && frame.type.indexOf(".") > 0) {
          if (frame.html) swapFragments(frame.html);
          followLists(frame);
          emit("crm:live-event", frame);
        }
    }
  }

  function keepAlive() {
    clearInterval(pingTimer);
    pingTimer = setInterval(function () {
      send({ action: "ping" });
      clearTimeout(pongTimer);
      // No answer: the connection is dead without having said so. Close it and reconnect.
      pongTimer = setTimeout(function () {
        if (socket) socket.close();
      }, PONG_WITHIN);
    }, PING_EVERY);
  }

  function scheduleReconnect(soon) {
    clearTimeout(reconnectTimer);
    // Exponential backoff with jitter: 0.5 s, 1 s, 2 s … up to 30 s, each ±50 %.
    var base = soon ? 250 : Math.min(30000, 500 * Math.pow(2, attempt));
    attempt += 1;
    reconnectTimer = setTimeout(connect, base * (0.5 + Math.random()));
  }

  function connect() {
    clearTimeout(reconnectTimer);
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + path);
    lastSeq = 0;
    socket.onopen = function () {
      attempt = 0;
      keepAlive();
    };
    socket.onmessage = function (message) {
      var frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      handle(frame);
    };
    socket.onclose = function (event) {
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      socket = null;
      setLive(false);
      // 4403: the user's access changed; reconnect at once to get the new scope (a deactivated
      // user is then refused, and the page stays paused until it is reloaded).
      scheduleReconnect(event.code === 4403);
    };
  }

  window.CrmLive = {
    send: send,
    isOpen: function () { return !!socket && socket.readyState === WebSocket.OPEN; }
  };

  document.addEventListener("htmx:afterSettle", function () {
    if (socket && socket.readyState === WebSocket.OPEN) syncTopics();
  });
  // Back online, or back to a tab the browser had throttled: try now, not after the backoff.
  window.addEventListener("online", function () {
    attempt = 0;
    connect();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !socket) {
      attempt = 0;
      connect();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
