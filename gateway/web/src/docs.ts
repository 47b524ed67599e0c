// The API reference at /api/docs: Swagger UI from the npm package, bundled here (no CDN).
import SwaggerUI from "swagger-ui-dist/swagger-ui-es-bundle.js";
import "swagger-ui-dist/swagger-ui.css";

SwaggerUI({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
