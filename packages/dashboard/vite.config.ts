import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// Built by the root `npm run build` into dist/, which the server serves (src/dashboard/dashboard.plugin.ts).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [preact()],
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', sourcemap: false, target: 'es2020' },
  logLevel: 'warn',
});
