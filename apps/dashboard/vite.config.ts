import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Built into dist/dashboard by `npm run build`; the API serves it at /dashboard (apps/api/src/dashboard.ts).
export default defineConfig({
  root: __dirname,
  base: '/dashboard/',
  plugins: [react()],
  build: { outDir: resolve(__dirname, '../../dist/dashboard'), emptyOutDir: true, sourcemap: true },
  logLevel: 'warn',
});
