import { defineConfig } from 'vite';

// The dashboard is static files the control plane serves at /: hashed asset names (cached as immutable), no inline
// script or style (the Content-Security-Policy allows only 'self'), no source maps in the images.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: true,
  },
});
