import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';

// The node image carries only the agent's own JS: anything else it imports at run time is missing there.
describe('node agent imports', () => {
  const sources = readdirSync(__dirname).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));

  it.each(sources)('%s imports only Node built-ins, its siblings, or types', (file) => {
    const text = readFileSync(path.join(__dirname, file), 'utf8');
    const valueImports = [...text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
    const requires = [...text.matchAll(/require\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]);
    const offending = [...valueImports, ...requires].filter((spec) => !spec.startsWith('./') && !spec.startsWith('node:') && !builtinModules.includes(spec));
    expect(offending).toEqual([]);
  });
});
