import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The Pilotflow server the dev server and `vite preview` pass /api and friends on to. Its
// CSRF check wants the `Origin` of its own address (public_url) on a cookie-authenticated
// POST/PUT/PATCH/DELETE, so the proxy presents the request as coming from there.
const target = process.env.PF_API ?? 'http://127.0.0.1:8080'
const origin = new URL(target).origin
const passOn = Object.fromEntries(
  ['/api', '/docs', '/calendar.ics', '/healthz', '/readyz', '/metrics'].map((p) => [
    p,
    {
      target,
      changeOrigin: true,
      configure: (proxy) =>
        proxy.on('proxyReq', (req) => {
          if (req.getHeader('origin')) req.setHeader('origin', origin)
        }),
    },
  ]),
)

// The Content-Security-Policy the server sends with the application (the same string as
// CONTENT_SECURITY_POLICY in api/src/http/webapp.rs); `vite preview` sends it too.
export const CSP = [
  "default-src 'self'",
  // Ajv compiles each schema's checks into a function ('unsafe-eval'); nothing else needs it.
  "script-src 'self' 'unsafe-eval'",
  // Element Plus sets inline styles and Mermaid writes a <style> into its SVG.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: {
    // Government offices run older browsers; Element Plus supports Chrome 85 and later.
    target: ['chrome85', 'edge85', 'firefox79', 'safari14'],
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    // Mermaid's chunk is large by nature and only loaded on the 流程图 tab.
    chunkSizeWarningLimit: 3000,
    reportCompressedSize: false,
    // dist/.vite/manifest.json: which chunks each page loads (scripts/size.mjs reads it).
    manifest: true,
  },
  server: { proxy: passOn, strictPort: true },
  preview: { proxy: passOn, strictPort: true, headers: { 'Content-Security-Policy': CSP } },
})
