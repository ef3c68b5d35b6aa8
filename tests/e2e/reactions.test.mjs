// Reactions and custom emoji on one server, through misskey-js and raw HTTP as clients use
// them: unicode and legacy reactions, one per user per note, custom emoji an administrator
// uploads (or has fetched from a URL) and users react with, reaction acceptance, the
// reaction list with its filter (also by GET), and the emoji images the server serves.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, signup, createAdmin, apiError } from './lib/server.mjs';

// A 1×1 PNG and a 1×1 GIF.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

let server;
let admin;
let amy;
let bo;
let imageServer;
let imageOrigin;
before(async () => {
  server = await startServer({ TSUDOI_ALLOWED_PRIVATE_NETWORKS: '127.0.0.0/8' });
  admin = await createAdmin(server, 'boss');
  amy = await signup(server, 'amy');
  bo = await signup(server, 'bo');
  imageServer = http.createServer((req, res) => {
    if (req.url === '/party.gif') {
      res.writeHead(200, { 'content-type': 'image/gif' });
      res.end(GIF);
    } else if (req.url === '/page.html') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end('<html><script>alert(1)</script></html>');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => imageServer.listen(0, '127.0.0.1', r));
  imageOrigin = `http://127.0.0.1:${imageServer.address().port}`;
});
after(async () => {
  await server?.stop();
  imageServer?.close();
});

/** Uploads an emoji as Misskey's clients upload files: a multipart form, the token first. */
async function uploadEmoji(token, fields, image, filename = 'emoji.png') {
  const form = new FormData();
  form.append('i', token);
  for (const [k, v] of Object.entries(fields)) {
    form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  if (image) form.append('file', new Blob([image]), filename);
  const res = await fetch(`${server.origin}/api/admin/emoji/add`, { method: 'POST', body: form });
  return { status: res.status, json: await res.json().catch(() => null) };
}

test('reactions: unicode and legacy names, one per user, replaced and taken back', async () => {
  const { createdNote: note } = await amy.api.request('notes/create', { text: 'react to me' });
  assert.deepEqual(note.reactions, {});
  assert.equal(note.reactionCount, 0);
  assert.equal(note.myReaction, null);

  await bo.api.request('notes/reactions/create', { noteId: note.id, reaction: '👍' });
  await amy.api.request('notes/reactions/create', { noteId: note.id, reaction: 'like' });
  let seen = await bo.api.request('notes/show', { noteId: note.id });
  assert.deepEqual(seen.reactions, { '👍': 2 });
  assert.equal(seen.reactionCount, 2);
  assert.equal(seen.myReaction, '👍');
  // Anonymous viewers have no `myReaction` at all.
  const anon = await server.client().request('notes/show', { noteId: note.id });
  assert.equal('myReaction' in anon, false);
  assert.deepEqual(anon.reactions, { '👍': 2 });

  // The same reaction twice is refused; another one replaces it.
  const again = await apiError(() => bo.api.request('notes/reactions/create', { noteId: note.id, reaction: '👍' }));
  assert.equal(again.code, 'ALREADY_REACTED');
  await bo.api.request('notes/reactions/create', { noteId: note.id, reaction: '❤️' });
  seen = await bo.api.request('notes/show', { noteId: note.id });
  // Variation selectors go (Misskey stores ❤ without U+FE0F); the count stays two.
  assert.deepEqual(seen.reactions, { '👍': 1, '❤': 1 });
  assert.equal(seen.reactionCount, 2);
  assert.equal(seen.myReaction, '❤');

  // Text that is no emoji becomes a like; an emoji inside text is found.
  const { createdNote: other } = await amy.api.request('notes/create', { text: 'another' });
  await bo.api.request('notes/reactions/create', { noteId: other.id, reaction: 'not an emoji' });
  await amy.api.request('notes/reactions/create', { noteId: other.id, reaction: 'yay 🎉' });
  assert.deepEqual((await bo.api.request('notes/show', { noteId: other.id })).reactions, { '❤': 1, '🎉': 1 });

  // Taking it back, twice.
  await bo.api.request('notes/reactions/delete', { noteId: note.id });
  const notReacted = await apiError(() => bo.api.request('notes/reactions/delete', { noteId: note.id }));
  assert.equal(notReacted.code, 'NOT_REACTED');
  seen = await bo.api.request('notes/show', { noteId: note.id });
  assert.deepEqual(seen.reactions, { '👍': 1 });
  assert.equal(seen.myReaction, null);

  // Missing and hidden notes are the same to a reacting user; pure renotes take none.
  const missing = await apiError(() => bo.api.request('notes/reactions/create', { noteId: '9zzzzzzzzz', reaction: '👍' }));
  assert.equal(missing.code, 'NO_SUCH_NOTE');
  const { createdNote: secret } = await amy.api.request('notes/create', { text: 'for me', visibility: 'specified' });
  const hidden = await apiError(() => bo.api.request('notes/reactions/create', { noteId: secret.id, reaction: '👍' }));
  assert.equal(hidden.code, 'NO_SUCH_NOTE');
  const { createdNote: renote } = await bo.api.request('notes/create', { renoteId: note.id });
  const onRenote = await apiError(() => amy.api.request('notes/reactions/create', { noteId: renote.id, reaction: '👍' }));
  assert.equal(onRenote.code, 'CANNOT_REACT_TO_RENOTE');
  // An app token needs write:reactions.
  const unauth = await apiError(() => server.client().request('notes/reactions/create', { noteId: note.id, reaction: '👍' }));
  assert.equal(unauth.code, 'CREDENTIAL_REQUIRED');
});

test('custom emoji: an administrator uploads one, users react with it, clients list and load it', async () => {
  // Only administrators may add emoji; images are checked by their bytes.
  assert.equal((await uploadEmoji(amy.token, { name: 'blobcat' }, PNG)).status, 403);
  const lying = await uploadEmoji(admin.token, { name: 'liar' }, Buffer.from('<svg onload="alert(1)"/>'), 'liar.png');
  assert.equal(lying.status, 400);
  assert.equal(lying.json.error.code, 'INVALID_PARAM');
  const badName = await uploadEmoji(admin.token, { name: 'no spaces' }, PNG);
  assert.equal(badName.status, 400);

  const added = await uploadEmoji(admin.token, {
    name: 'blobcat', category: 'blobs', aliases: ['cat', 'blob'], license: 'CC0', isSensitive: 'false',
  }, PNG);
  assert.equal(added.status, 200, JSON.stringify(added.json));
  assert.equal(added.json.name, 'blobcat');
  assert.equal(added.json.host, null);
  assert.deepEqual(added.json.aliases, ['cat', 'blob']);
  assert.equal(added.json.category, 'blobs');
  assert.equal(added.json.license, 'CC0');
  const duplicate = await uploadEmoji(admin.token, { name: 'blobcat' }, PNG);
  assert.equal(duplicate.json.error.code, 'DUPLICATE_NAME');

  // Fetched from a URL through the guarded client; a page pretending to be an image is not one.
  const party = await admin.api.request('admin/emoji/add', { name: 'party', url: `${imageOrigin}/party.gif`, isSensitive: true });
  assert.equal(party.name, 'party');
  const fake = await apiError(() => admin.api.request('admin/emoji/add', { name: 'fake', url: `${imageOrigin}/page.html` }));
  assert.equal(fake.code, 'INVALID_PARAM');
  const gone = await apiError(() => admin.api.request('admin/emoji/add', { name: 'gone', url: `${imageOrigin}/nothing.png` }));
  assert.equal(gone.code, 'INVALID_PARAM');

  // What clients load at start: `emojis`, by GET too, and one `emoji`.
  const { emojis } = await amy.api.request('emojis', {});
  assert.deepEqual(emojis.map((e) => e.name).sort(), ['blobcat', 'party']);
  const blobcat = emojis.find((e) => e.name === 'blobcat');
  assert.deepEqual(blobcat.aliases, ['cat', 'blob']);
  assert.equal(blobcat.category, 'blobs');
  const viaGet = await (await fetch(`${server.origin}/api/emojis`)).json();
  assert.deepEqual(viaGet.emojis.map((e) => e.name).sort(), ['blobcat', 'party']);
  const one = await (await fetch(`${server.origin}/api/emoji?name=party`)).json();
  assert.equal(one.isSensitive, true);
  assert.equal(one.url, party.url);

  // The image is served with its real type, cached for good, and can run nothing.
  const img = await fetch(blobcat.url);
  assert.equal(img.status, 200);
  assert.equal(img.headers.get('content-type'), 'image/png');
  assert.match(img.headers.get('cache-control'), /immutable/);
  assert.equal(img.headers.get('x-content-type-options'), 'nosniff');
  assert.deepEqual(Buffer.from(await img.arrayBuffer()), PNG);
  const gif = await fetch(party.url);
  assert.equal(gif.headers.get('content-type'), 'image/gif');
  // Where Misskey's web client looks for an emoji by name.
  const byName = await fetch(`${server.origin}/emoji/blobcat.webp`, { redirect: 'manual' });
  assert.equal(byName.status, 307);
  assert.equal(byName.headers.get('location'), blobcat.url);

  // Reacting with it: stored as :blobcat:, shown as :blobcat@.:; an unknown one is a like.
  const { createdNote: note } = await amy.api.request('notes/create', { text: 'so :blobcat:' });
  await bo.api.request('notes/reactions/create', { noteId: note.id, reaction: ':blobcat:' });
  await admin.api.request('notes/reactions/create', { noteId: note.id, reaction: ':nosuch:' });
  await amy.api.request('notes/reactions/create', { noteId: note.id, reaction: ':blobcat@.:' });
  const seen = await bo.api.request('notes/show', { noteId: note.id });
  assert.deepEqual(seen.reactions, { ':blobcat@.:': 2, '❤': 1 });
  assert.equal(seen.myReaction, ':blobcat@.:');
  assert.deepEqual(seen.reactionEmojis, {});
  assert.equal('emojis' in seen, false, 'local notes leave emoji to the client');

  // Who reacted how, filtered by type, by POST and by GET.
  const all = await bo.api.request('notes/reactions', { noteId: note.id });
  assert.equal(all.length, 3);
  assert.deepEqual(all.map((r) => r.user.username).sort(), ['amy', 'bo', 'boss']);
  const cats = await bo.api.request('notes/reactions', { noteId: note.id, type: ':blobcat@.:' });
  assert.deepEqual(cats.map((r) => r.user.username).sort(), ['amy', 'bo']);
  assert.ok(cats.every((r) => r.type === ':blobcat@.:' && r.createdAt && r.id));
  const got = await (await fetch(`${server.origin}/api/notes/reactions?noteId=${note.id}&type=${encodeURIComponent('❤')}&limit=5`)).json();
  assert.deepEqual(got.map((r) => r.user.username), ['boss']);
  const badLimit = await fetch(`${server.origin}/api/notes/reactions?noteId=${note.id}&limit=500`);
  assert.equal(badLimit.status, 400);

  // Renamed, recategorised and given a new image: the old image URL goes.
  const form = new FormData();
  form.append('i', admin.token);
  form.append('id', added.json.id);
  form.append('name', 'blobcat2');
  form.append('category', 'cats');
  form.append('file', new Blob([GIF]), 'new.gif');
  const updated = await fetch(`${server.origin}/api/admin/emoji/update`, { method: 'POST', body: form });
  assert.equal(updated.status, 204, await updated.text());
  const after = (await amy.api.request('emojis', {})).emojis.find((e) => e.name === 'blobcat2');
  assert.equal(after.category, 'cats');
  assert.notEqual(after.url, blobcat.url);
  assert.equal((await fetch(blobcat.url)).status, 404);
  assert.equal((await fetch(after.url)).headers.get('content-type'), 'image/gif');
  const listed = await admin.api.request('admin/emoji/list', { query: 'blob' });
  assert.deepEqual(listed.map((e) => e.name), ['blobcat2']);

  // Deleted: gone from the list, its image gone, a second delete finds nothing.
  await admin.api.request('admin/emoji/delete', { id: party.id });
  assert.deepEqual((await amy.api.request('emojis', {})).emojis.map((e) => e.name), ['blobcat2']);
  assert.equal((await fetch(party.url)).status, 404);
  const again = await apiError(() => admin.api.request('admin/emoji/delete', { id: party.id }));
  assert.equal(again.code, 'NO_SUCH_EMOJI');
});

test('reaction acceptance: like only, and no sensitive emoji', async () => {
  await admin.api.request('admin/emoji/add', { name: 'spicy', url: `${imageOrigin}/party.gif`, isSensitive: true });
  const { createdNote: likeOnly } = await amy.api.request('notes/create', { text: 'likes only', reactionAcceptance: 'likeOnly' });
  assert.equal(likeOnly.reactionAcceptance, 'likeOnly');
  await bo.api.request('notes/reactions/create', { noteId: likeOnly.id, reaction: '🎉' });
  assert.deepEqual((await bo.api.request('notes/show', { noteId: likeOnly.id })).reactions, { '❤': 1 });

  const { createdNote: tame } = await amy.api.request('notes/create', { text: 'nothing spicy', reactionAcceptance: 'nonSensitiveOnly' });
  await bo.api.request('notes/reactions/create', { noteId: tame.id, reaction: ':spicy:' });
  await admin.api.request('notes/reactions/create', { noteId: tame.id, reaction: '🎉' });
  assert.deepEqual((await bo.api.request('notes/show', { noteId: tame.id })).reactions, { '❤': 1, '🎉': 1 });

  const bad = await apiError(() => amy.api.request('notes/create', { text: 'x', reactionAcceptance: 'everything' }));
  assert.equal(bad.code, 'INVALID_PARAM');
  const { createdNote: open } = await amy.api.request('notes/create', { text: 'open' });
  assert.equal(open.reactionAcceptance, null);
});
