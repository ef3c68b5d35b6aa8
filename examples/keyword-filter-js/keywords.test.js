// Unit tests of the filter under Node: `npm test` (no build needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Filter, lowerWithFinalSigma } from './keywords.js';

test('matches case-insensitively in text and cw', () => {
  const f = Filter.fromJson('{"keywords":["Buy Now",""],"action":"cw"}');
  assert.equal(f.action, 'cw');
  assert.equal(f.firstMatch('please BUY NOW', undefined), 'buy now');
  assert.equal(f.firstMatch(undefined, 'buy now!'), 'buy now');
  assert.equal(f.firstMatch('hello', undefined), null);
  assert.throws(() => Filter.fromJson('{}'));
  assert.throws(() => Filter.fromJson('{"keywords":[],"action":"CW"}'));
  const cyrillic = Filter.fromJson('{"keywords":["Спам"]}');
  assert.equal(cyrillic.action, 'reject');
  assert.equal(cyrillic.firstMatch('это СПАМ', undefined), 'спам');
});

test('reports the match that ends first, the longest of those', () => {
  const f = new Filter(['crypto', 'free crypto', 'ee c']);
  assert.equal(f.firstMatch('FREE CRYPTO', undefined), 'ee c');
  assert.equal(new Filter(['crypto', 'free crypto']).firstMatch('free crypto'), 'free crypto');
  assert.equal(f.firstMatch('crypto, free crypto', undefined), 'crypto');
});

test('lower-cases non-ASCII text only for non-ASCII keywords, like the Rust plugin', () => {
  // The Kelvin sign lower-cases to an ASCII k.
  assert.equal(new Filter(['k']).firstMatch('\u212a', undefined), null);
  assert.equal(new Filter(['k', 'é']).firstMatch('\u212a', undefined), 'k');
});

test('Final_Sigma as Rust and Python apply it, whatever the engine', () => {
  assert.equal(lowerWithFinalSigma('ΟΔΟΣ ΟΔΟΣ.'), 'οδος οδος.');
  assert.equal(lowerWithFinalSigma("ΑΣ'Α Σ"), "ασ'α σ");
  // Node's toLowerCase() applies Final_Sigma with ICU's tables: ours must agree everywhere.
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    for (const s of [`\u0391${c}\u03a3`, `\u0391\u03a3${c}`, `\u0391\u03a3${c}\u0391`]) {
      if (lowerWithFinalSigma(s) !== s.toLowerCase()) {
        assert.fail(`U+${cp.toString(16)}: ${lowerWithFinalSigma(s)} != ${s.toLowerCase()}`);
      }
    }
  }
});
