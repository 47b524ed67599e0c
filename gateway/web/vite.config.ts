// Builds the dashboard (index.html) and the API reference (docs.html) into dist/.
import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const gateway = process.env.AGORA_GATEWAY ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The API reference (Swagger UI) is large by nature; the dashboard's pages stay well under.
    chunkSizeWarningLimit: 1600,
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, "index.html"),
        docs: resolve(import.meta.dirname, "docs.html"),
      },
    },
  },
  server: {
    proxy: { "/api": gateway, "/auth": gateway },
  },
});
