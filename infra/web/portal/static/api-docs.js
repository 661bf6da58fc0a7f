// Starts Swagger UI on /docs over the API's OpenAPI document (a file, not an inline
// script: the page's Content-Security-Policy allows scripts from this server only).
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis], layout: "BaseLayout",
  });
});
