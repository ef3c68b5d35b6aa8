// Plugins managed through the admin API, the review queue they fill, capabilities granted
// to them (key-value store, outbound HTTP), and a timeline ranker seen through the normal
// local-timeline endpoint with misskey-js.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startServer, signup, apiError, tsudoiBinary, pluginWasm, ids, eventually } from './lib/server.mjs';

const run = promisify(execFile);
let server;
let admin;
let adminToken;
let alice;

const wasmBase64 = async (name) => (await readFile(pluginWasm(name))).toString('base64');

before(async () => {
  server = await startServer();
  const out = await run(tsudoiBinary(), ['user', 'create', 'plugin_admin', '--admin', '--password', 'pw'], {
    env: { ...process.env, ...server.env },
  });
  adminToken = /token: (\S+)/.exec(out.stdout)[1];
  admin = server.client(adminToken);
  alice = await signup(server, 'admin_alice');
});
after(async () => { await server?.stop(); });

test('only administrators may manage plugins', async () => {
  const e = await apiError(() => alice.api.request('admin/plugins/list', {}));
  assert.equal(e.code, 'ROLE_PERMISSION_DENIED');
  const anon = await apiError(() => server.client().request('admin/plugins/list', {}));
  assert.equal(anon.code, 'CREDENTIAL_REQUIRED');
  assert.deepEqual(await admin.request('admin/plugins/list', {}), []);
});

test('uploads over 1 MiB are read only from an administrator who sends the token as a header', async () => {
  // 2 MiB of base64 that is not a component: past the size check it fails as a bad plugin.
  const body = (extra) => JSON.stringify({ ...extra, wasm: Buffer.alloc(1536 * 1024, 1).toString('base64') });
  const post = (headers, extra = {}) => fetch(`${server.origin}/api/admin/plugins/install`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body(extra),
  });
  const anonymous = await post({});
  assert.equal(anonymous.status, 413);
  const inBody = await post({}, { i: adminToken });
  assert.equal(inBody.status, 413);
  assert.match((await inBody.json()).error.info.reason, /Authorization: Bearer/);
  const notAdmin = await post({ authorization: `Bearer ${alice.token}` });
  assert.equal(notAdmin.status, 413);
  const asAdmin = await post({ authorization: `Bearer ${adminToken}` });
  assert.equal(asAdmin.status, 400);
  assert.equal((await asAdmin.json()).error.code, 'INVALID_PLUGIN');
  const forged = await post({ authorization: 'Bearer not-a-token' });
  assert.equal((await forged.json()).error.code, 'AUTHENTICATION_FAILED');
  assert.deepEqual(await admin.request('admin/plugins/list', {}), []);
});

test('install, reconfigure, review flags and remove through the admin API', async () => {
  const installed = await admin.request('admin/plugins/install', {
    wasm: await wasmBase64('keyword_filter'),
    config: { keywords: ['casino'], action: 'flag' },
  });
  assert.deepEqual(installed, {
    name: 'keyword-filter', version: '0.1.0', kind: 'moderation', upgraded: false, requestedCapabilities: [],
  });
  const [listed] = await admin.request('admin/plugins/list', {});
  assert.equal(listed.name, 'keyword-filter');
  assert.equal(listed.enabled, true);
  assert.equal(listed.failurePolicy, 'fail-open');

  // A configuration that does not fit the plugin's schema is refused and changes nothing.
  const bad = await apiError(() => admin.request('admin/plugins/update', { name: 'keyword-filter', config: { keywords: 'casino' } }));
  assert.equal(bad.code, 'INVALID_PLUGIN');
  assert.match(bad.message, /schema/);
  assert.match(bad.message, /\/keywords/);
  const garbage = await apiError(() => admin.request('admin/plugins/install', { wasm: Buffer.from('not wasm').toString('base64') }));
  assert.equal(garbage.code, 'INVALID_PLUGIN');

  // Flagged notes are stored and wait in the review queue.
  const flagged = await eventually(async () => {
    const { createdNote } = await alice.api.request('notes/create', { text: 'new casino in town' });
    const queue = await admin.request('admin/moderation/flags', {});
    const hit = queue.find((f) => f.noteId === createdNote.id);
    assert.ok(hit, 'flag recorded');
    return hit;
  });
  assert.equal(flagged.plugin, 'keyword-filter');
  assert.equal(flagged.reason, 'contains casino');
  assert.equal(flagged.note.text, 'new casino in town');
  assert.equal(flagged.resolvedAt, null);
  await admin.request('admin/moderation/resolve-flag', { flagId: flagged.id });
  const open = await admin.request('admin/moderation/flags', {});
  assert.ok(!open.some((f) => f.id === flagged.id), 'resolved flags leave the queue');
  const all = await admin.request('admin/moderation/flags', { includeResolved: true });
  assert.ok(all.find((f) => f.id === flagged.id).resolvedAt);
  const again = await apiError(() => admin.request('admin/moderation/resolve-flag', { flagId: flagged.id }));
  assert.equal(again.code, 'NO_SUCH_FLAG');

  // Disabled through the API: notes pass untouched.
  await admin.request('admin/plugins/update', { name: 'keyword-filter', enabled: false });
  await eventually(async () => {
    const { createdNote } = await alice.api.request('notes/create', { text: 'casino, unflagged' });
    const queue = await admin.request('admin/moderation/flags', {});
    assert.ok(!queue.some((f) => f.noteId === createdNote.id));
  });
  await admin.request('admin/plugins/remove', { name: 'keyword-filter' });
  const gone = await apiError(() => admin.request('admin/plugins/remove', { name: 'keyword-filter' }));
  assert.equal(gone.code, 'NO_SUCH_PLUGIN');
});

test('capabilities: kv works once granted; HTTP to a granted loopback host is still refused', async () => {
  let hits = 0;
  const target = http.createServer((req, res) => { hits += 1; res.end('secret'); });
  await new Promise((r) => target.listen(0, '127.0.0.1', r));
  const { port } = target.address();
  try {
    const manifest = `name = "hostile"\nkind = "moderation"\ncapabilities = ["kv", "http:127.0.0.1:${port}"]\n`;
    const installed = await admin.request('admin/plugins/install', { wasm: await wasmBase64('hostile_plugin'), manifest, position: 3 });
    assert.deepEqual(installed.requestedCapabilities, ['kv', `http:127.0.0.1:${port}`]);
    // Requested, not yet granted: denied.
    const denied = await eventually(() => apiError(() => alice.api.request('notes/create', { text: 'kv:visits' })));
    assert.match(denied.message, /kv refused: .*AccessDenied/);
    await admin.request('admin/plugins/update', { name: 'hostile', grants: ['kv', `http:127.0.0.1:${port}`] });
    const counted = await eventually(async () => {
      const { createdNote } = await alice.api.request('notes/create', { text: 'kv:visits' });
      return createdNote;
    });
    const { createdNote: second } = await alice.api.request('notes/create', { text: 'kv:visits' });
    const reasons = (await admin.request('admin/moderation/flags', { limit: 100 }))
      .filter((f) => [counted.id, second.id].includes(f.noteId))
      .map((f) => f.reason)
      .sort();
    assert.deepEqual(reasons, ['count 1', 'count 2']);
    // Granted, but 127.0.0.1 is a private address and the server allows none: refused,
    // and nothing reached the listener.
    const refused = await apiError(() => alice.api.request('notes/create', { text: `http:http://127.0.0.1:${port}/` }));
    assert.match(refused.message, /http refused: .*Denied/);
    assert.match(refused.message, /private or reserved/);
    const ungranted = await apiError(() => alice.api.request('notes/create', { text: 'http:http://example.com/' }));
    assert.match(ungranted.message, /not among the hosts granted/);
    assert.equal(hits, 0);
    const bad = await apiError(() => admin.request('admin/plugins/update', { name: 'hostile', grants: ['filesystem'] }));
    assert.equal(bad.code, 'INVALID_PARAM');
    await admin.request('admin/plugins/remove', { name: 'hostile' });
  } finally {
    target.close();
  }
});

/** The thinned-local rule, computed here from what the API returns. */
function thinned(notes, maxPerAuthor, boostMs) {
  const seen = new Map();
  const kept = [];
  notes.forEach((n, i) => {
    const count = seen.get(n.userId) ?? 0;
    if (count >= maxPerAuthor) return;
    seen.set(n.userId, count + 1);
    kept.push({ id: n.id, i, score: Date.parse(n.createdAt) + boostMs * (n.repliesCount + n.renoteCount) });
  });
  kept.sort((a, b) => b.score - a.score || a.i - b.i);
  return kept.map((k) => k.id);
}

test('a ranked local timeline comes back in the plugin order through the normal endpoint', async () => {
  const carol = await signup(server, 'rank_carol');
  const dave = await signup(server, 'rank_dave');
  const { createdNote: early } = await dave.api.request('notes/create', { text: 'an early question' });
  for (let i = 0; i < 4; i++) await carol.api.request('notes/create', { text: `carol ${i}` });
  await alice.api.request('notes/create', { text: 'an answer', replyId: early.id });
  const chronological = await server.client().request('notes/local-timeline', { limit: 50 });

  await admin.request('admin/plugins/install', {
    wasm: await wasmBase64('thinned_local'),
    config: { max_per_author: 2, boost_ms_per_interaction: 3_600_000 },
  });
  const wrongKind = await apiError(() => admin.request('admin/plugins/update', { name: 'thinned-local', timelines: ['home'] }));
  assert.equal(wrongKind.code, 'INVALID_PARAM');
  await admin.request('admin/plugins/update', { name: 'thinned-local', timelines: ['local'] });

  const expected = thinned(chronological, 2, 3_600_000);
  const ranked = await eventually(async () => {
    const tl = await server.client().request('notes/local-timeline', { limit: 50 });
    assert.deepEqual(ids(tl), expected);
    return tl;
  });
  // Thinned: no author has more than two notes; the discussed early note leads.
  assert.equal(ranked[0].id, early.id);
  assert.equal(ranked.filter((n) => n.userId === carol.id).length, 2);
  assert.ok(ranked.length < chronological.length);
  // The page size still holds.
  assert.equal((await server.client().request('notes/local-timeline', { limit: 2 })).length, 2);
  // Unassigned, the timeline is chronological again.
  await admin.request('admin/plugins/update', { name: 'thinned-local', timelines: [] });
  await eventually(async () => {
    assert.deepEqual(ids(await server.client().request('notes/local-timeline', { limit: 50 })), ids(chronological));
  });
});

test('an MFM renderer renders its $[fn] on the note page; its HTML is sanitised; a failing one falls back', async () => {
  const noteHtml = async (id) => {
    const res = await fetch(`${server.origin}/notes/${id}`);
    assert.equal(res.status, 200);
    const html = await res.text();
    return /<div class="content">([\s\S]*?)<\/div><footer>/.exec(html)[1];
  };
  const { createdNote: note } = await alice.api.request('notes/create', {
    text: '$[shout hello] $[smuggle x] $[spin.forever round] **bold**',
  });
  // Before the plugin: the built-in renderer (unknown fns render their children).
  const builtin = await noteHtml(note.id);
  assert.match(builtin, /hello/);
  assert.doesNotMatch(builtin, /HELLO/);

  await admin.request('admin/plugins/install', { wasm: await wasmBase64('mfm_shout_plugin') });
  const content = await eventually(async () => {
    const html = await noteHtml(note.id);
    assert.match(html, /<b class="mfm-shout">HELLO<\/b>/);
    return html;
  });
  for (const bad of ['<script', 'onclick', 'javascript:', 'style="position', 'evil', '<img']) {
    assert.ok(!content.includes(bad), `${bad} survived: ${content}`);
  }
  assert.match(content, /<span class="mfm-smuggle">x/);
  // The looping `$[spin.forever]` is cut off and rendered by the server instead.
  assert.match(content, /<span class="mfm-spin[^"]*"[^>]*>round<\/span>/);
  assert.match(content, /<b>bold<\/b>/);
  const started = Date.now();
  await noteHtml(note.id);
  assert.ok(Date.now() - started < 1000, 'a looping renderer costs its deadline, not the page');

  // A note nobody else may see has no page.
  const { createdNote: secret } = await alice.api.request('notes/create', { text: 'secret', visibility: 'followers' });
  assert.equal((await fetch(`${server.origin}/notes/${secret.id}`)).status, 404);
  await admin.request('admin/plugins/remove', { name: 'mfm-shout' });
});
