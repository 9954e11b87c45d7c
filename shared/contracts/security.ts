// The Content-Security-Policy of the renderer, one string for both hosts (Electron's app://
// protocol and the browser host): scripts and workers only from the app itself, no remote
// connections, no plugins, no framing, no form posts. Inline styles stay allowed because the
// chart library (Plotly) and React style props set them.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');
