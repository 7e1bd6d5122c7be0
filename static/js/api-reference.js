// Render the provisioning API's OpenAPI document with the vendored Swagger UI. Loaded from a
// file (never inline) so the strict Content-Security-Policy holds; the validator badge is off
// because it would fetch from swagger.io.
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("api-reference");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  // Swagger UI 5.35 gives a request body's <label> the id of the <select> it wraps: a repeated
  // id breaks label and aria references, and the wrapping label needs no id of its own.
  const dropRepeatedIds = () => {
    for (const label of root.querySelectorAll("label[id]")) {
      if (label.querySelector(`[id="${CSS.escape(label.id)}"]`)) {
        label.removeAttribute("id");
      }
    }
  };
  new MutationObserver(dropRepeatedIds).observe(root, { childList: true, subtree: true });
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    validatorUrl: null,
    deepLinking: false,
    defaultModelsExpandDepth: 0,
  });
});
