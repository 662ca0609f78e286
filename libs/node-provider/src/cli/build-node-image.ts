import { NodeImageCatalog } from '@cerulean/catalog';
import { loadEnv } from '@cerulean/config';
import { NodeImageBuilder, type NodeImageBuildResult } from '../node-image.builder';

// Usage: npm run node-image:build [-- --force]
async function main(): Promise<void> {
  const force = process.argv.includes('--force');
  const started = performance.now();
  const print = (r: NodeImageBuildResult): void => {
    const what = r.action === 'up-to-date' ? 'up to date' : r.action;
    console.log(`${r.ref}  ${what.padEnd(10)} ${(r.durationMs / 1000).toFixed(2)} s  ${r.imageId.slice(7, 19)}  (${r.version})`);
  };
  const results = await new NodeImageBuilder({ catalog: new NodeImageCatalog(undefined, loadEnv().NODE_IMAGE_REPOSITORY) }).buildAll({
    force,
    onResult: print,
  });
  console.log(`${results.length} node image(s) in ${((performance.now() - started) / 1000).toFixed(2)} s`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `node image build failed: ${err.message}` : err);
  process.exit(1);
});
