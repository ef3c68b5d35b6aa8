// Reads a JSON array of MFM inputs on stdin and prints, as JSON, what mfm-js makes of each:
// [{ full, simple }] (the trees of `parse` and `parseSimple`), and how long parsing took.
import * as mfm from 'mfm-js';

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const texts = JSON.parse(input);
const started = process.hrtime.bigint();
const results = texts.map((t) => ({ full: mfm.parse(t), simple: mfm.parseSimple(t) }));
const elapsedNs = Number(process.hrtime.bigint() - started);
process.stdout.write(JSON.stringify({ results, elapsedNs }));
