// The keyword filter itself, independent of the plugin interface (plain JavaScript: it also
// runs under Node, see keywords.test.js).
//
// It gives the same answers as the Rust plugin (plugins/keyword-filter/src/filter.rs):
// - keywords are lower-cased (full Unicode lower-casing) and empty ones dropped;
// - ASCII letters always compare without case; a note part with non-ASCII text is lower-cased
//   as a whole only when some keyword has non-ASCII characters;
// - the text is searched first, then the content warning;
// - within one part, the keyword reported is the one whose first occurrence ENDS first, and of
//   those ending at the same place the longest (what a standard Aho-Corasick search reports).

import { CASED, CASE_IGNORABLE } from './final-sigma.js';

export const ACTIONS = ['reject', 'flag', 'cw'];

const isAscii = (s) => /^[\x00-\x7f]*$/.test(s);

/** `s` with its ASCII letters lower-cased, as far as ASCII keywords can tell: the other
 * characters may be lower-cased too, as long as none becomes ASCII. Only U+0130 (İ → i̇) and
 * U+212A (Kelvin sign → k) would, so they are masked first. (The engine's toLowerCase() is
 * native code, much faster than a loop in JavaScript.) */
function foldAscii(s) {
  if (s.includes('\u0130') || s.includes('\u212a')) s = s.replace(/[\u0130\u212a]/g, '\ufffd');
  return s.toLowerCase();
}

/** Whether `cp` is in `ranges` (sorted, flattened [first, last] pairs). */
function inRanges(ranges, cp) {
  let lo = 0;
  let hi = ranges.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[2 * mid]) hi = mid;
    else if (cp > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

const OTHER = 0;
const IGNORABLE = 1;
const CASED_LETTER = 2;

// The class of every BMP code point, filled once when the module loads (for a component,
// at build time: componentize-js snapshots the initialised module). A binary search costs
// about a microsecond in the interpreter a component runs; a table lookup a tenth of that.
const BMP_CLASS = new Uint8Array(0x10000);
for (const [ranges, value] of [
  [CASE_IGNORABLE, IGNORABLE],
  [CASED, CASED_LETTER],
]) {
  for (let r = 0; r < ranges.length && ranges[r] <= 0xffff; r += 2) {
    BMP_CLASS.fill(value, ranges[r], Math.min(ranges[r + 1], 0xffff) + 1);
  }
}

function caseClass(cp) {
  if (cp <= 0xffff) return BMP_CLASS[cp];
  if (inRanges(CASE_IGNORABLE, cp)) return IGNORABLE;
  return inRanges(CASED, cp) ? CASED_LETTER : OTHER;
}

// Whether the engine's toLowerCase() applies Final_Sigma itself (Node does; componentize-js's
// StarlingMonkey does not).
const NATIVE_FINAL_SIGMA = '\u0391\u03a3'.toLowerCase() === '\u03b1\u03c2';

/** The class of the first character that is not case-ignorable, walking from UTF-16 index
 * `i` in direction `step` (+1 or -1); OTHER if there is none. */
function nextCaseClass(s, i, step) {
  while (i >= 0 && i < s.length) {
    let cp = s.codePointAt(i);
    if (step < 0 && cp >= 0xdc00 && cp <= 0xdfff && i > 0) {
      const high = s.charCodeAt(i - 1);
      if (high >= 0xd800 && high <= 0xdbff) cp = s.codePointAt(--i);
    }
    const c = caseClass(cp);
    if (c !== IGNORABLE) return c;
    i += step < 0 ? -1 : cp > 0xffff ? 2 : 1;
  }
  return OTHER;
}

/** Whether the Σ at index `i` ends a word: a cased letter before it and none after it,
 * skipping case-ignorable characters (Unicode's Final_Sigma, as in Rust and Python). */
function isFinalSigma(s, i) {
  return nextCaseClass(s, i - 1, -1) === CASED_LETTER && nextCaseClass(s, i + 1, 1) !== CASED_LETTER;
}

/** Lower-cases `s` with the engine's toLowerCase(), which maps every Σ to σ, then turns the
 * word-final ones into ς. */
export function lowerWithFinalSigma(s) {
  const lowered = s.toLowerCase();
  const pieces = [];
  let start = 0;
  // Only U+0130 lower-cases to more UTF-16 units (İ → i̇); without it, indexes carry over.
  if (!s.includes('\u0130')) {
    for (let i = s.indexOf('\u03a3'); i >= 0; i = s.indexOf('\u03a3', i + 1)) {
      if (isFinalSigma(s, i)) {
        pieces.push(lowered.slice(start, i), '\u03c2');
        start = i + 1;
      }
    }
    pieces.push(lowered.slice(start));
  } else {
    for (let i = s.indexOf('\u03a3'); i >= 0; i = s.indexOf('\u03a3', i + 1)) {
      pieces.push(s.slice(start, i).toLowerCase(), isFinalSigma(s, i) ? '\u03c2' : '\u03c3');
      start = i + 1;
    }
    pieces.push(s.slice(start).toLowerCase());
  }
  return pieces.join('');
}

/** Full Unicode lower-casing, like Rust's str::to_lowercase. */
export function toLowerCase(s) {
  return NATIVE_FINAL_SIGMA || !s.includes('\u03a3') ? s.toLowerCase() : lowerWithFinalSigma(s);
}

export class Filter {
  constructor(keywords, action = 'reject') {
    if (!ACTIONS.includes(action)) {
      throw new Error(`unknown variant \`${action}\`, expected one of \`reject\`, \`flag\`, \`cw\``);
    }
    this.keywords = keywords.map(toLowerCase).filter((k) => k !== '');
    this.unicodeKeywords = this.keywords.some((k) => !isAscii(k));
    this.action = action;
  }

  /** Reads the plugin's JSON configuration; throws an Error with a message. */
  static fromJson(text) {
    const config = JSON.parse(text);
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new Error('invalid type: expected a JSON object');
    }
    if (!('keywords' in config)) throw new Error('missing field `keywords`');
    const { keywords, action = 'reject' } = config;
    if (!Array.isArray(keywords) || !keywords.every((k) => typeof k === 'string')) {
      throw new Error('invalid type: `keywords` must be a list of strings');
    }
    if (typeof action !== 'string') throw new Error('invalid type: `action` must be a string');
    return new Filter(keywords, action);
  }

  #find(part) {
    const haystack =
      !this.unicodeKeywords || isAscii(part) ? foldAscii(part) : toLowerCase(part);
    let best = null;
    for (const k of this.keywords) {
      const start = haystack.indexOf(k);
      if (start < 0) continue;
      const end = start + k.length;
      if (best === null || end < best.end || (end === best.end && k.length > best.k.length)) {
        best = { end, k };
      }
    }
    return best === null ? null : best.k;
  }

  /** The first keyword found in the text or else the content warning, or null. */
  firstMatch(text, cw) {
    for (const part of [text, cw]) {
      if (part !== undefined && part !== null) {
        const hit = this.#find(part);
        if (hit !== null) return hit;
      }
    }
    return null;
  }
}
