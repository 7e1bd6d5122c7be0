// Portal behaviour that htmx attributes cannot express. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

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

  function toast(message, category) {
    var area = document.getElementById("flashes");
    if (!area) return;
    var node = document.createElement("div");
    node.className = "toast toast-" + category;
    if (category === "error") node.setAttribute("role", "alert");
    node.textContent = message;
    area.appendChild(node);
  }

  function openModals(root) {
    root.querySelectorAll("dialog[data-modal]:not([open])").forEach(function (dialog) {
      dialog.showModal();
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
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    openModals(document.getElementById("modal-root") || document);
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

  // Cancel buttons close their dialog instead of following the no-JavaScript link.
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

  // Copy buttons: data-copy names the element whose value (or text) goes to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = "value" in source ? source.value : source.textContent;
    if (!navigator.clipboard) {
      source.select && source.select();
      toast("Copying is not available here. Select the text and copy it by hand.", "warning");
      return;
    }
    navigator.clipboard.writeText(text).then(
      function () {
        button.textContent = "Copied";
        toast("Copied to the clipboard.", "success");
      },
      function () {
        toast("Copying failed. Select the text and copy it by hand.", "error");
      }
    );
  });

  // Faded toasts leave the DOM so screen readers do not re-read them.
  document.addEventListener("animationend", function (event) {
    if (event.target.classList && event.target.classList.contains("toast")) event.target.remove();
  });
})();
