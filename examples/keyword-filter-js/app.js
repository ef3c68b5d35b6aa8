// The keyword filter as a moderation plugin, in JavaScript (built with componentize-js).
//
// Configuration: {"keywords": ["buy now", "free crypto"], "action": "reject"} where action is
// reject (default), flag or cw. Same verdicts as the Rust plugin in plugins/keyword-filter.
//
// WIT in JavaScript: records are objects with camelCase fields, variants are
// `{ tag, val }`, an `Err` result is thrown (a plain value, not an Error: a thrown Error traps).
// `activity` and `note` are handles to the host's copies, valid during the call: each method
// call (`note.text()`) copies one field into the plugin.

import { log } from 'tsudoi:plugin/log@0.1.0';
import { Filter } from './keywords.js';

const NAME = 'keyword-filter-js';
const VERSION = '0.1.0';
const CONFIG_SCHEMA =
  '{"type":"object","required":["keywords"],"properties":{"keywords":{"type":"array",' +
  '"items":{"type":"string"}},"action":{"enum":["reject","flag","cw"]}}}';

// Set by `configure`; until then every check answers with a configuration error.
let filter = null;

export const meta = {
  info() {
    return { name: NAME, version: VERSION, configSchema: CONFIG_SCHEMA };
  },

  configure(configJson) {
    try {
      filter = Filter.fromJson(configJson);
    } catch (e) {
      throw String(e.message ?? e);
    }
  },
};

export const moderation = {
  checkNote(activity, note) {
    if (filter === null) throw { tag: 'config', val: 'no keywords configured' };
    const hit = filter.firstMatch(note.text(), note.contentWarning());
    if (hit === null) return { tag: 'accept' };
    log('info', `note ${note.id()} matched ${JSON.stringify(hit)}`);
    switch (filter.action) {
      case 'reject':
        return { tag: 'reject', val: `contains a blocked keyword: ${hit}` };
      case 'flag':
        return { tag: 'flag', val: `contains ${hit}` };
      default:
        return { tag: 'rewrite', val: { ...note.toNote(), contentWarning: `filtered: ${hit}` } };
    }
  },

  checkActivity(activity, objectId) {
    return { tag: 'accept' };
  },
};
