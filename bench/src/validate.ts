// Checks a bench results file is well-formed: `node dist/bench/src/validate.js FILE` exits non-zero if not.
import { readFileSync } from 'node:fs';
import { validateResults } from './validate-results';

const file = process.argv[2];
if (!file) {
  console.error('usage: validate.js RESULTS.json');
  process.exit(2);
}
const problems = validateResults(JSON.parse(readFileSync(file, 'utf8')));
if (problems.length > 0) {
  console.error(`${file} is not a well-formed bench result:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`${file}: well-formed bench results`);
