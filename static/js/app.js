// Portal behaviour that htmx attributes cannot express. No inline scripts: the CSP forbids them.
// Everything here is an enhancement: every page and form works without JavaScript too.
(function () {
  "use strict";

  var ICONS = {
    success: '<circle cx="12" cy="12" r="9"/><path d="m8 12.5 2.8 2.8L16.5 9"/>',
    error: '<circle cx="12" cy="12" r="9"/><path d="m15 9-6 6M9 9l6 6"/>',
    warning: '<path d="M10.3 3.9 2.4 18a2 2 0 0 0 1.7 3h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0Z"/><path d="M12 9v4M12 17h.01"/>',
    info: '<circle cx="12" cy="12" r="9"/><path d="M12 11v5M12 8h.01"/>',
    close: '<path d="M6 6l12 12M18 6 6 18"/>',
  };
  // How long a success stays on screen (errors and warnings stay until dismissed).
  var TOAST_MS = 8000;

  function svg(name) {
    return '<svg class="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" ' +
      'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">' + ICONS[name] + "</svg>";
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) return;
    // Invalid forms come back as 422 and are swapped in place; other errors show a toast.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "422", swap: true },
      { code: "409", swap: true },
      { code: "[45]..", swap: false, error: true },
    ];
  });

  // ---- Toasts: an icon per kind and a dismiss button; successes leave after a while. ------
  function toast(message, category) {
    var area = document.getElementById("flashes");
    if (!area) return;
    var kind = ICONS[category] ? category : "info";
    var node = document.createElement("div");
    node.className = "toast toast-" + kind;
    node.setAttribute("data-toast", kind);
    if (kind === "error") node.setAttribute("role", "alert");
    node.innerHTML = svg(kind) + '<span class="toast-text"></span>' +
      '<button type="button" class="toast-close icon-button small" aria-label="Dismiss" data-dismiss-toast>' + svg("close") + "</button>";
    node.querySelector(".toast-text").textContent = message;
    area.appendChild(node);
  }

  function dismiss(node) {
    if (!node || !node.parentElement) return;
    var reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    if (reduced) { node.remove(); return; }
    node.classList.add("leaving");
    setTimeout(function () { node.remove(); }, 300);
  }

  function arm(node) {
    if (node.nodeType !== 1 || !node.classList.contains("toast") || node.hasAttribute("data-armed")) return;
    node.setAttribute("data-armed", "");
    var kind = node.getAttribute("data-toast");
    if (kind !== "success" && kind !== "info") return;
    var timer = null;
    var start = function () { timer = setTimeout(function () { dismiss(node); }, TOAST_MS); };
    var stop = function () { clearTimeout(timer); };
    // A toast being read (pointer over it, or focus in it) stays.
    node.addEventListener("mouseenter", stop);
    node.addEventListener("mouseleave", start);
    node.addEventListener("focusin", stop);
    node.addEventListener("focusout", start);
    start();
  }

  function watchToasts() {
    var area = document.getElementById("flashes");
    if (!area) return;
    Array.prototype.forEach.call(area.children, arm);
    new MutationObserver(function (records) {
      records.forEach(function (record) { Array.prototype.forEach.call(record.addedNodes, arm); });
    }).observe(area, { childList: true });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss-toast]");
    if (button) dismiss(button.closest(".toast"));
  });

  // ---- Dialogs --------------------------------------------------------------------------
  // A dialog swapped into #modal-root opens as a modal. A dialog shown as its own page (opened
  // in a new tab, say) comes back from a refused save as a fragment without "open": it is
  // shown again in place, with its messages.
  function openDialogs() {
    document.querySelectorAll("dialog[data-modal]:not([open])").forEach(function (dialog) {
      if (dialog.parentElement && dialog.parentElement.id === "modal-root") dialog.showModal();
      else dialog.show();
    });
  }

  // A refused form comes back with its errors; focus goes to the first field in error so a
  // screen reader reads its message (aria-describedby) instead of the form's first field.
  function focusFirstInvalid(root) {
    var field = root && root.querySelector && root.querySelector('[aria-invalid="true"]');
    if (field) field.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusFirstInvalid(document.getElementById("main"));
    watchToasts();
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    openDialogs();
    var target = event.detail && event.detail.target;
    focusFirstInvalid((target && target.id && document.getElementById(target.id)) || event.target);
  });

  // A swap that removes the focused element (the Next link on the last page) leaves focus on
  // the body; a region marked data-keep-focus takes it so keyboard users stay where they were.
  document.addEventListener("htmx:afterSettle", function (event) {
    var region = event.target;
    if (document.activeElement === document.body && region.hasAttribute && region.hasAttribute("data-keep-focus")) {
      region.focus();
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var messages = {
      403: "You do not have permission to do that.",
      404: "That item no longer exists. Reload the page.",
      429: "Too many attempts. Wait a moment and try again.",
      503: "The portal is temporarily unavailable. Try again shortly.",
    };
    toast(messages[status] || "Something went wrong (error " + status + "). Try again.", "error");
  });

  document.addEventListener("htmx:sendError", function () {
    toast("The portal could not be reached. Check your connection and try again.", "error");
  });

  // Cancel and close buttons close their dialog instead of following the no-JavaScript link.
  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (!closer) return;
    var dialog = closer.closest("dialog");
    if (dialog && dialog.hasAttribute("data-modal") && dialog.parentElement.id === "modal-root") {
      event.preventDefault();
      dialog.close();
    }
  });

  // A closed dialog is removed so the next one starts fresh.
  document.addEventListener("close", function (event) {
    if (event.target.tagName === "DIALOG" && event.target.parentElement && event.target.parentElement.id === "modal-root") {
      event.target.remove();
    }
  }, true);

  // ---- Busy state: a button that waits on the server says so and cannot be pressed twice. --
  function busyTargets(elt, triggering) {
    if (!elt) return [];
    if (elt.tagName === "FORM") {
      var submitter = triggering && triggering.submitter;
      if (submitter) return [submitter];
      return Array.prototype.slice.call(elt.querySelectorAll('button[type="submit"], button:not([type])'));
    }
    if (elt.matches('button, [role="button"]')) return [elt];
    return [];
  }

  function markBusy(nodes) {
    nodes.forEach(function (node) {
      node.setAttribute("aria-busy", "true");
      if (node.tagName === "BUTTON") node.disabled = true;
      else node.setAttribute("aria-disabled", "true");
    });
  }

  function clearBusy(nodes) {
    nodes.forEach(function (node) {
      node.removeAttribute("aria-busy");
      if (node.tagName === "BUTTON") node.disabled = false;
      else node.removeAttribute("aria-disabled");
    });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var config = event.detail.requestConfig || {};
    var nodes = busyTargets(elt, config.triggeringEvent).filter(function (node) { return !node.disabled; });
    elt._portalBusy = nodes;
    markBusy(nodes);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    // A redirect follows: the button stays busy until the next page replaces it.
    if (xhr && xhr.getResponseHeader && xhr.getResponseHeader("HX-Redirect") && event.detail.successful) return;
    clearBusy(elt._portalBusy || []);
    elt._portalBusy = [];
  });

  // A form posted without htmx (or with JavaScript but no hx-post) marks its button too; it
  // is disabled on the next tick, once the browser has read the form.
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented) return;
    var nodes = busyTargets(event.target, event);
    nodes.forEach(function (node) { node.setAttribute("aria-busy", "true"); });
    setTimeout(function () { markBusy(nodes); }, 0);
  });

  // Back to a page from the browser's cache: nothing is waiting any more.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) clearBusy(Array.prototype.slice.call(document.querySelectorAll('[aria-busy="true"]')));
  });

  // ---- Copy buttons: data-copy names an element; data-copy-text holds the text itself. ---
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-text]");
    if (!button) return;
    var text = button.getAttribute("data-copy-text");
    var source = null;
    if (text === null) {
      source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) return;
      text = "value" in source ? source.value : source.textContent;
    }
    if (!navigator.clipboard) {
      if (source && source.select) source.select();
      toast("Copying is not available here. Select the text and copy it by hand.", "warning");
      return;
    }
    navigator.clipboard.writeText(text).then(
      function () {
        if (button.hasAttribute("data-copy")) button.textContent = "Copied";
        toast("Copied to the clipboard.", "success");
      },
      function () {
        toast("Copying failed. Select the text and copy it by hand.", "error");
      }
    );
  });

  // ---- Tables wider than the screen scroll in their container; while one does, it is a
  // focusable region (named by its data-label) so the keyboard can scroll it as well.
  function markScrollers() {
    document.querySelectorAll(".table-wrap[data-label]").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", wrap.getAttribute("data-label"));
        wrap.setAttribute("tabindex", "0");
      } else {
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
        wrap.removeAttribute("tabindex");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", markScrollers);
  document.addEventListener("htmx:afterSettle", markScrollers);
  window.addEventListener("resize", markScrollers);

  // ---- Menus and the navigation drawer (popovers) ----------------------------------------
  // A row's actions menu sits under its button. Browsers with CSS anchor positioning place it
  // themselves; elsewhere it is placed here when it opens.
  var anchored = window.CSS && CSS.supports && CSS.supports("position-area: bottom");
  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (anchored || !menu.classList || !menu.classList.contains("menu") || event.newState !== "open") return;
    var button = document.querySelector('[popovertarget="' + menu.id + '"]');
    if (!button) return;
    var box = button.getBoundingClientRect();
    var below = box.bottom + 4 + menu.offsetHeight <= window.innerHeight;
    menu.style.position = "fixed";
    menu.style.top = (below ? box.bottom + 4 : Math.max(4, box.top - 4 - menu.offsetHeight)) + "px";
    menu.style.left = Math.max(4, box.right - menu.offsetWidth) + "px";
  }, true);

  // Choosing an item closes its menu (the item opens a dialog or posts a form).
  document.addEventListener("click", function (event) {
    var item = event.target.closest(".menu[popover] a, .menu[popover] button");
    if (!item) return;
    var menu = item.closest(".menu[popover]");
    if (menu.matches(":popover-open")) menu.hidePopover();
  });

  // Widening the window past the drawer's breakpoint shows the navigation in place again.
  var wide = window.matchMedia("(min-width: 56.3125rem)");
  wide.addEventListener("change", function (event) {
    var sidebar = document.getElementById("sidebar");
    if (event.matches && sidebar && sidebar.matches(":popover-open")) sidebar.hidePopover();
  });
})();
