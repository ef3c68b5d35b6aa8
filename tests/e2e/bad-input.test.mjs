// Bad input gets a clear Misskey-shaped error with the right status, and changes nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, apiError, rawPost, ids } from './lib/server.mjs';

let server;
let ada;
let bea;
let snapshot;

before(async () => {
  server = await startServer({ TSUDOI_MAX_NOTE_LENGTH: '500' });
  ada = await signup(server, 'ada');
  bea = await signup(server, 'bea');
  await ada.api.request('notes/create', { text: 'existing' });
});
after(async () => { await server?.stop(); });

/** What a bad request must not change: counts and every timeline. */
async function state() {
  const [a, b, ltl, home] = await Promise.all([
    server.client().request('users/show', { userId: ada.id }),
    server.client().request('users/show', { userId: bea.id }),
    server.client().request('notes/global-timeline', { limit: 100 }),
    ada.api.request('notes/timeline', { limit: 100 }),
  ]);
  return JSON.stringify({
    a: [a.notesCount, a.followersCount, a.followingCount, a.name],
    b: [b.notesCount, b.followersCount, b.followingCount],
    ltl: ids(ltl).concat(ltl.map((n) => [n.repliesCount, n.renoteCount])),
    home: ids(home),
  });
}

async function expectRejected(status, code, send) {
  snapshot ??= await state();
  const res = await send();
  assert.equal(res.status, status, `status for ${code}: ${res.text}`);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.match(res.json.error.id, /^[0-9a-f-]{36}$/);
  assert.equal(await state(), snapshot, `${code} changed nothing`);
}

test('malformed requests: wrong types, missing fields, bad JSON, bad bodies', async () => {
  const i = ada.token;
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i, text: 42 }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i, text: 'x', visibility: 'everyone' }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i, text: 'x', localOnly: 'yes' }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i, text: '' }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/show', {}));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/show', { noteId: ['x'] }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/show', { noteId: "x' OR 1=1 --" }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'following/create', { i, userId: null }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/polls/vote', { i, noteId: 'abc', choice: '1' }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'i/update', { i, isLocked: 'true' }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', '{"i":"' + i + '","text":'));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', '[1,2,3]'));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i: 12345, text: 'x' }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'users/show', { userIds: 'abc' }));
  const invalid = await rawPost(server, 'notes/create', { i, text: 42 });
  assert.equal(invalid.json.error.info.param, 'text', 'the error names the parameter');
});

test('over-long text and CW are refused with the configured limit', async () => {
  const i = ada.token;
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i, text: 'あ'.repeat(501) }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i, text: 'x', cw: 'c'.repeat(101) }));
  const meta = await server.client().request('meta', {});
  assert.equal(meta.maxNoteTextLength, 500);
  const ok = await rawPost(server, 'notes/create', { i, text: 'あ'.repeat(500) });
  assert.equal(ok.status, 200, 'exactly the limit is fine (counted in characters, not bytes)');
  await ada.api.request('notes/delete', { noteId: ok.json.createdNote.id });
});

test('text holding U+0000 is refused on every backend, naming the parameter', async () => {
  const i = ada.token;
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i, text: 'a\u0000b' }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i, text: 'x', cw: '\u0000' }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'i/update', { i, name: 'Ada\u0000' }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'i/update', { i, fields: [{ name: 'x', value: '\u0000' }] }));
  const res = await rawPost(server, 'notes/create', { i, text: 'a\u0000b' });
  assert.equal(res.json.error.info.param, 'text');
});

test('oversized bodies are refused before they are parsed', async () => {
  const i = ada.token;
  await expectRejected(413, 'PAYLOAD_TOO_LARGE', () => rawPost(server, 'notes/create', { i, text: 'x'.repeat(2 * 1024 * 1024) }));
});

test('unknown ids, other people\'s notes, polls with one choice, invisible reply targets', async () => {
  const i = ada.token;
  const { createdNote: beaNote } = await bea.api.request('notes/create', { text: 'bea note' });
  const { createdNote: secret } = await bea.api.request('notes/create', { text: 'only me', visibility: 'specified' });
  snapshot = await state();
  await expectRejected(404, 'NO_SUCH_NOTE', () => rawPost(server, 'notes/show', { noteId: 'nosuchnote00000' }));
  await expectRejected(404, 'NO_SUCH_NOTE', () => rawPost(server, 'notes/delete', { i, noteId: 'nosuchnote00000' }));
  await expectRejected(404, 'NO_SUCH_USER', () => rawPost(server, 'users/show', { userId: 'nosuchuser0000' }));
  await expectRejected(404, 'NO_SUCH_USER', () => rawPost(server, 'following/create', { i, userId: 'nosuchuser0000' }));
  await expectRejected(404, 'NO_SUCH_REPLY_TARGET', () => rawPost(server, 'notes/create', { i, text: 'x', replyId: 'nosuchnote00000' }));
  await expectRejected(404, 'NO_SUCH_RENOTE_TARGET', () => rawPost(server, 'notes/create', { i, renoteId: 'nosuchnote00000' }));
  await expectRejected(403, 'ACCESS_DENIED', () => rawPost(server, 'notes/delete', { i, noteId: beaNote.id }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i, text: 'x', poll: { choices: ['one'] } }));
  await expectRejected(400, 'INVALID_PARAM', () => rawPost(server, 'notes/create', { i, text: 'x', poll: { choices: ['a', 'a'] } }));
  await expectRejected(404, 'NO_SUCH_REPLY_TARGET', () => rawPost(server, 'notes/create', { i, text: 'x', replyId: secret.id }));
  await expectRejected(404, 'NO_SUCH_NOTE', () => rawPost(server, 'notes/show', { i, noteId: secret.id }));
  await expectRejected(404, 'NO_SUCH_USER', () => rawPost(server, 'notes/create', { i, text: 'x', visibility: 'specified', visibleUserIds: ['nosuchuser0000'] }));
});

test('credentials and routing errors', async () => {
  await expectRejected(401, 'CREDENTIAL_REQUIRED', () => rawPost(server, 'notes/create', { text: 'x' }));
  await expectRejected(401, 'AUTHENTICATION_FAILED', () => rawPost(server, 'notes/create', { i: 'wrongwrongwrong1', text: 'x' }));
  await expectRejected(401, 'AUTHENTICATION_FAILED', () => rawPost(server, 'i', {}, { authorization: 'Bearer nope' }));
  await expectRejected(404, 'UNKNOWN_API_ENDPOINT', () => rawPost(server, 'notes/nonexistent', {}));
  const get = await fetch(`${server.origin}/api/notes/show`);
  assert.equal(get.status, 405);
  assert.equal((await get.json()).error.code, 'METHOD_NOT_ALLOWED');
  const unauth = await rawPost(server, 'i', {});
  assert.match(unauth.headers.get('www-authenticate') ?? '', /Bearer/);
});

test('repeated failed sign-ins are rate limited', async () => {
  let last;
  for (let n = 0; n < 12; n++) {
    last = await rawPost(server, 'signin-flow', { username: 'ada', password: `wrong${n}` });
  }
  assert.equal(last.status, 429);
  assert.equal(last.json.error.code, 'RATE_LIMIT_EXCEEDED');
  assert.ok(Number(last.headers.get('retry-after')) > 0);
  const right = await rawPost(server, 'signin-flow', { username: 'ada', password: 'correct horse battery staple' });
  assert.equal(right.status, 429, 'even the right password waits until the limit resets');
});
