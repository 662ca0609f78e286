/**
 * The layout of a bundled program in the node image (see cli/bundle-kube-apiserver.ts and cli/app-loader.ts): its
 * `main.js` is a small loader that runs the bundle, `app.js`, with the V8 code cache made for it, `app.js.cache`.
 * Imported by the programs' entries too, so it holds nothing but these names.
 */
export const APP_FILE = 'app.js';
export const CODE_CACHE_FILE = `${APP_FILE}.cache`;
/** Set: the program loads its modules and starts nothing (how its code cache is made, and checked). */
export const LOAD_ONLY_ENV = 'CERULEAN_LOAD_ONLY';
/** With LOAD_ONLY_ENV: where the loader writes the new code cache. */
export const CODE_CACHE_OUT_ENV = 'CERULEAN_CODE_CACHE_OUT';
