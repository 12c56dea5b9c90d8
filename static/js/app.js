// Behaviour shared by every page. No inline scripts anywhere (the CSP forbids them):
// pages opt in with data- attributes.
(function () {
  "use strict";

  function showToasts(root) {
    root.querySelectorAll(".toast[data-autoshow]").forEach(function (el) {
      el.removeAttribute("data-autoshow");
      bootstrap.Toast.getOrCreateInstance(el, { delay: 6000 }).show();
    });
  }

  // A toast from anywhere: window.crmToast("Saved", "success"), optionally with a link:
  // window.crmToast(title, "warning", {url: "/inventory/alerts/", label: "Open"}).
  window.crmToast = function (text, level, link) {
    var container = document.getElementById("toasts");
    if (!container) return;
    var toast = document.createElement("div");
    toast.className = "toast align-items-center border-0 text-bg-" + (level || "primary");
    toast.setAttribute("role", level === "danger" ? "alert" : "status");
    var row = document.createElement("div");
    row.className = "d-flex";
    var body = document.createElement("div");
    body.className = "toast-body";
    // A stored title keeps the language it was written in: let it run in its own direction.
    var words = document.createElement("span");
    words.setAttribute("dir", "auto");
    words.textContent = text;
    body.appendChild(words);
    if (link && link.url) {
      var anchor = document.createElement("a");
      anchor.href = link.url;
      anchor.className = "toast-link ms-2 text-reset fw-semibold";
      anchor.textContent = link.label || link.url;
      body.appendChild(document.createTextNode(" "));
      body.appendChild(anchor);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white m-auto me-2";
    close.setAttribute("data-bs-dismiss", "toast");
    row.appendChild(body);
    row.appendChild(close);
    toast.appendChild(row);
    container.appendChild(toast);
    bootstrap.Toast.getOrCreateInstance(toast, { delay: 6000 }).show();
    toast.addEventListener("hidden.bs.toast", function () { toast.remove(); });
  };

  // Confirmation before anything destructive: <form data-confirm="Cancel this order?">
  // or <button data-confirm="..."> inside a form.
  var pendingForm = null;
  var pendingSubmitter = null;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (!message || form.dataset.confirmed === "1") return;
    event.preventDefault();
    event.stopImmediatePropagation();
    pendingForm = form;
    pendingSubmitter = submitter;
    document.getElementById("confirm-body").textContent = message;
    bootstrap.Modal.getOrCreateInstance(document.getElementById("confirm-modal")).show();
  }, true);

  document.addEventListener("click", function (event) {
    if (event.target.id !== "confirm-ok" || !pendingForm) return;
    var form = pendingForm;
    pendingForm = null;
    bootstrap.Modal.getOrCreateInstance(document.getElementById("confirm-modal")).hide();
    form.dataset.confirmed = "1";
    if (form.requestSubmit) {
      form.requestSubmit(pendingSubmitter || undefined);
    } else {
      form.submit();
    }
    delete form.dataset.confirmed;
  });

  // Messages added by the server to an htmx response arrive as HX-Trigger "crm:toast".
  document.addEventListener("crm:toast", function (event) {
    var detail = event.detail || {};
    (detail.messages || []).forEach(function (m) { window.crmToast(m.text, m.level); });
  });

  document.addEventListener("DOMContentLoaded", function () { showToasts(document); });
  document.addEventListener("htmx:afterSwap", function (event) { showToasts(event.target); });

  // Server errors on htmx requests: say so instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var messages = document.body.dataset;
    if (status === 403 || status === 404) {
      window.crmToast(messages.msgNotFound || "Not found", "danger");
    } else if (status >= 500) {
      window.crmToast(messages.msgServerError || "Server error", "danger");
    }
  });
  document.addEventListener("htmx:sendError", function () {
    window.crmToast(document.body.dataset.msgOffline || "Offline", "danger");
  });
})();
