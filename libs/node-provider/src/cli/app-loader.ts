import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Script } from 'node:vm';
import { APP_FILE, CODE_CACHE_FILE, CODE_CACHE_OUT_ENV, LOAD_ONLY_ENV } from '../code-cache';

// The `main.js` of a bundled program (the node agent, the API server): runs the bundle beside it (app.js) with the V8
// code cache made for it at build time (app.js.cache, see cli/bundle-kube-apiserver.ts). Node's own loader compiles a
// script from its source on every start; with the cache, V8 takes the bytecode of every function the program ran while
// loading its modules and compiles only what it runs later. A cache made by another Node version or with other V8
// flags is rejected by V8 and the bundle compiled from source, as without one.
//
// With CERULEAN_LOAD_ONLY set the bundle loads its modules and starts nothing (its entry checks it); the loader then
// prints what it did with the cache as one line of JSON and, with CERULEAN_CODE_CACHE_OUT, writes a new cache that
// holds those modules' functions. Bundled on its own (node built-ins only): nothing else in the platform imports it.

const file = path.join(__dirname, APP_FILE);

/** The bundle compiled with its cache, if there is one (the cache's bytes are not kept: V8 has read them). */
function compile(): { script: Script; codeCache: 'none' | 'rejected' | 'accepted' } {
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(path.join(__dirname, CODE_CACHE_FILE));
  } catch {
    // No cache: compiled from source.
  }
  // The bundle is ASCII (bundleApp checks it). The wrapper Node's CommonJS loader would add goes on a line of its
  // own, and lineOffset -1 keeps stack traces at the bundle's own lines and columns.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {\n${readFileSync(file, 'latin1')}\n})`, {
    filename: file,
    lineOffset: -1,
    cachedData,
  });
  return { script, codeCache: cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted' };
}

const { script, codeCache } = compile();

if (process.env[LOAD_ONLY_ENV]) {
  // Once the modules are loaded and nothing is left to run; the cache then holds every function they compiled.
  process.once('beforeExit', () => {
    const out = process.env[CODE_CACHE_OUT_ENV];
    const bytes = out ? script.createCachedData() : undefined;
    if (out && bytes) writeFileSync(out, bytes);
    process.stdout.write(`${JSON.stringify({ codeCache, ...(bytes ? { written: bytes.length } : {}) })}\n`);
  });
}

(script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: NodeJS.Module, f: string, d: string) => void).call(
  module.exports,
  module.exports,
  require,
  module,
  file,
  __dirname,
);
