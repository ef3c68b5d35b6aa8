// Regenerates mfm/data/emoji-regex.txt from the emoji regex mfm-js uses
// (@misskey-dev/emoji-data, installed by mfm/tests/diff). Run after bumping mfm-js:
//   (cd mfm/tests/diff && npm install) && node mfm/scripts/update-emoji-regex.mjs
//
// The JavaScript regex is written over UTF-16 code units (surrogate pairs, and classes of low
// surrogates after a high one); Rust's regex works on code points. This rewrites each pair and
// each high-surrogate-plus-class into the code points they stand for, and leaves the rest,
// alternation order included, as it is: both engines pick the first alternative that matches.

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/diff/package.json'));
const regexFile = require.resolve('@misskey-dev/emoji-data/regex');
const { emojiRegex } = await import(regexFile);
const emojiVersion = JSON.parse(
  readFileSync(path.join(regexFile.slice(0, regexFile.lastIndexOf('/built/')), 'package.json'), 'utf8'),
).version;

const src = emojiRegex.source;
const hex = (n) => n.toString(16).toUpperCase();
const isHigh = (u) => u >= 0xd800 && u <= 0xdbff;
const isLow = (u) => u >= 0xdc00 && u <= 0xdfff;
const pair = (h, l) => ((h - 0xd800) << 10) + (l - 0xdc00) + 0x10000;

let out = '';
let i = 0;
const unit = (at) => (src.startsWith('\\u', at) ? parseInt(src.slice(at + 2, at + 6), 16) : null);
while (i < src.length) {
  const u = unit(i);
  if (u !== null && isHigh(u)) {
    const next = i + 6;
    const l = unit(next);
    if (l !== null && isLow(l)) {
      out += `\\x{${hex(pair(u, l))}}`;
      i = next + 6;
      continue;
    }
    if (src[next] === '[') {
      const end = src.indexOf(']', next);
      const body = src.slice(next + 1, end);
      let cls = '';
      for (const m of body.matchAll(/\\u([0-9a-fA-F]{4})(?:-\\u([0-9a-fA-F]{4}))?/g)) {
        const a = parseInt(m[1], 16);
        if (!isLow(a)) throw new Error(`unexpected class member after a high surrogate: ${m[0]}`);
        cls += `\\x{${hex(pair(u, a))}}`;
        if (m[2]) cls += `-\\x{${hex(pair(u, parseInt(m[2], 16)))}}`;
      }
      out += `[${cls}]`;
      i = end + 1;
      continue;
    }
    throw new Error(`lone high surrogate at ${i}`);
  }
  if (u !== null && isLow(u)) throw new Error(`lone low surrogate at ${i}`);
  out += src[i];
  i += 1;
}
const target = path.join(here, '../data/emoji-regex.txt');
writeFileSync(target, out + '\n');
console.log(`wrote ${target} (${out.length} bytes) from @misskey-dev/emoji-data ${emojiVersion}`);
