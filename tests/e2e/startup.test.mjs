// Replays of what two real clients do when they start, in their order, read from their
// sources (see ../shared/research in the project's workspace and the notes of issue 12):
// Miria (misskey_dart) adding an account by MiAuth and opening its home tab, and Misskey's
// web client signing in and booting. Each answer is checked for what the client reads next.
// The streaming frames are sent as those clients write them (Miria's `main` with null
// params and no pong; the web client's raw `h` keep-alives).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { startServer, signup } from './lib/server.mjs';

let server;
let friend; // someone the client's user follows

before(async () => {
  server = await startServer();
  friend = await signup(server, 'boot_friend');
});
after(async () => { await server?.stop(); });

/** POST /api/<endpoint> with a JSON body, as both clients send it. */
async function post(endpoint, body) {
  const res = await fetch(`${server.origin}/api/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${endpoint}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

function hasKeys(obj, keys, what) {
  for (const k of keys) assert.ok(k in obj, `${what} lacks ${k}`);
}

/** A raw WebSocket that keeps every message, as the clients' own code reads them. */
async function socket(token, query = '') {
  const ws = new WebSocket(`${server.origin.replace('http', 'ws')}/streaming?i=${token}${query}`);
  const got = [];
  ws.on('message', (data, isBinary) => got.push(isBinary ? null : JSON.parse(String(data))));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return { ws, got, send: (v) => ws.send(typeof v === 'string' ? v : JSON.stringify(v)) };
}

async function waitFor(list, pred, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const hit = list.find((m) => m && pred(m));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing matched in ${JSON.stringify(list).slice(0, 2000)}`);
}

const META_READ_BY_MIRIA = ['version', 'uri', 'langs', 'disableRegistration', 'emailRequiredForSignup', 'enableHcaptcha', 'maxNoteTextLength', 'ads'];
const NOTE_READ_BY_MIRIA = ['id', 'createdAt', 'user', 'userId', 'visibility', 'localOnly', 'renoteCount', 'repliesCount', 'reactions', 'reactionEmojis', 'fileIds', 'files'];

test('Miria adds an account by MiAuth and opens its home tab', async () => {
  const user = await signup(server, 'boot_miria', 'pw-miria');
  await user.api.request('following/create', { userId: friend.id });
  const early = (await friend.api.request('notes/create', { text: 'before the app' })).createdNote;

  // 1-2. NodeInfo: Miria refuses Mastodon and Fedibird.
  const wellKnown = await (await fetch(`${server.origin}/.well-known/nodeinfo`)).json();
  const nodeinfo = await (await fetch(wellKnown.links[0].href)).json();
  assert.ok(!['mastodon', 'fedibird'].includes(nodeinfo.software.name));
  assert.equal(typeof nodeinfo.software.version, 'string');
  // 3-4. meta and endpoints without a token; the list must contain `emojis`.
  hasKeys(await post('meta', {}), META_READ_BY_MIRIA, 'meta');
  assert.ok((await post('endpoints', {})).includes('emojis'));

  // 5. MiAuth with every permission Miria asks for.
  const session = randomUUID();
  const permissions = ['read:account', 'write:account', 'read:blocks', 'write:blocks', 'read:drive', 'write:drive',
    'read:favorites', 'write:favorites', 'read:following', 'write:following', 'read:messaging', 'write:messaging',
    'read:mutes', 'write:mutes', 'write:notes', 'read:notifications', 'write:notifications', 'read:reactions',
    'write:reactions', 'write:votes', 'read:pages', 'write:pages', 'write:page-likes', 'read:page-likes',
    'read:user-groups', 'write:user-groups', 'read:channels', 'write:channels', 'read:gallery', 'write:gallery',
    'read:gallery-likes', 'write:gallery-likes', 'read:flash', 'write:flash', 'read:flash-likes', 'write:flash-likes'];
  const page = await fetch(`${server.origin}/miauth/${session}?name=Miria&permission=${permissions.join(',')}`);
  assert.equal(page.status, 200);
  await fetch(`${server.origin}/miauth/${session}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'boot_miria', password: 'pw-miria' }),
  });
  const check = await (await fetch(`${server.origin}/api/miauth/${session}/check`, { method: 'POST' })).json();
  const token = check.token;
  assert.equal(typeof token, 'string');

  // 6-8. i, meta, emojis with the token; the tabs come from the policies.
  const me = await post('i', { i: token });
  assert.equal(me.username, 'boot_miria');
  hasKeys(me, ['id', 'name', 'username', 'avatarUrl', 'isBot', 'isCat', 'emojis', 'onlineStatus', 'policies',
    'mutedWords', 'hardMutedWords', 'hasUnreadNotification', 'unreadAnnouncements', 'followersCount', 'notesCount'], 'i');
  assert.equal(me.policies.ltlAvailable, true);
  assert.equal(me.policies.gtlAvailable, true);
  hasKeys(await post('meta', { i: token }), META_READ_BY_MIRIA, 'meta');
  const { emojis } = await post('emojis', { i: token });
  assert.ok(Array.isArray(emojis));

  // 9-14. The home tab: a throwaway socket, then the real one; `main` connected with null
  // params and no pong, `i` again, the home timeline channel, then the first page.
  (await socket(token)).ws.close();
  const s = await socket(token);
  try {
    s.send({ type: 'connect', body: { channel: 'main', id: 'main', params: null, type: null, body: null } });
    const confirm = await post('i', { i: token });
    hasKeys(confirm, ['hasUnreadNotification', 'unreadAnnouncements'], 'i');
    s.send({ type: 'connect', body: { channel: 'homeTimeline', id: 'homeTimeline', params: { withRenotes: true, withFiles: false }, type: null, body: null } });
    const notes = await post('notes/timeline', { limit: 30, withFiles: false, withRenotes: true, i: token });
    assert.deepEqual(notes.map((n) => n.id), [early.id]);
    for (const n of notes) {
      hasKeys(n, NOTE_READ_BY_MIRIA, 'note');
      hasKeys(n.user, ['id', 'username', 'avatarUrl'], 'note.user');
      s.send({ type: 'subNote', body: { channel: null, id: n.id, params: {}, type: null, body: null } });
    }
    // What Miria then shows live: a new note, a reaction to a subscribed note, a follower.
    const fresh = (await friend.api.request('notes/create', { text: 'after the app' })).createdNote;
    const note = await waitFor(s.got, (m) => m.type === 'channel' && m.body.id === 'homeTimeline' && m.body.type === 'note');
    assert.equal(note.body.body.id, fresh.id);
    await friend.api.request('notes/reactions/create', { noteId: early.id, reaction: '👍' });
    const reacted = await waitFor(s.got, (m) => m.type === 'noteUpdated' && m.body.type === 'reacted');
    assert.deepEqual([reacted.body.id, reacted.body.body.reaction], [early.id, '👍']);
    await friend.api.request('following/create', { userId: me.id });
    const followed = await waitFor(s.got, (m) => m.type === 'channel' && m.body.id === 'main' && m.body.type === 'followed');
    assert.equal(followed.body.body.id, friend.id);
    // Paging on: the same request with untilId.
    assert.deepEqual(await post('notes/timeline', { limit: 30, withFiles: false, withRenotes: true, untilId: early.id, i: token }), []);
    assert.ok(!s.got.some((m) => m === null), 'only JSON text frames');
  } finally {
    s.ws.close();
  }
});

test('Misskey\'s web client signs in and boots', async () => {
  await signup(server, 'boot_web', 'pw-web');
  // Sign-in: users/show, then signin-flow twice.
  assert.equal((await post('users/show', { username: 'boot_web' })).username, 'boot_web');
  assert.deepEqual(await post('signin-flow', { username: 'boot_web' }), { finished: false, next: 'password' });
  const signedIn = await post('signin-flow', { username: 'boot_web', password: 'pw-web' });
  assert.equal(signedIn.finished, true);
  const token = signedIn.i;
  const me = await post('i', { i: token });
  await post('following/create', { userId: friend.id, i: token });

  // Boot: registry (store settings), meta with detail, i, emojis by GET.
  for (const scope of [['client', 'base'], ['client', 'deck']]) {
    assert.deepEqual(await post('i/registry/get-all', { scope, i: token }), {});
  }
  const missing = await fetch(`${server.origin}/api/i/registry/get`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scope: ['client', 'preferences', 'sync'], key: 'default:theme', i: token }),
  });
  assert.equal((await missing.json()).error.code, 'NO_SUCH_KEY');
  const meta = await post('meta', { detail: true, i: token });
  hasKeys(meta, ['version', 'defaultLightTheme', 'defaultDarkTheme', 'sentryForFrontend', 'repositoryUrl', 'notesPerOneAd', 'policies', 'maxFileSize'], 'meta');
  assert.ok(meta.maxFileSize > 0, 'uploads are possible');
  const again = await post('i', { i: token });
  hasKeys(again, ['id', 'unreadAnnouncements', 'isDeleted', 'loggedInDays', 'notesCount', 'followersCount', 'createdAt',
    'birthday', 'achievements', 'movedTo', 'policies', 'hasUnreadNotification', 'unreadNotificationsCount'], 'i');
  const emojisRes = await fetch(`${server.origin}/api/emojis?`);
  assert.equal(emojisRes.status, 200);
  assert.ok(Array.isArray((await emojisRes.json()).emojis));

  // Mount: the socket, the home timeline (id "1") and main (id "2", no params).
  const s = await socket(token, `&_t=${Date.now()}`);
  try {
    s.send({ type: 'connect', body: { channel: 'homeTimeline', id: '1', params: { withRenotes: true } } });
    s.send({ type: 'connect', body: { channel: 'main', id: '2' } });
    const first = await post('notes/timeline', { withRenotes: true, limit: 15, allowPartial: true, i: token });
    assert.ok(Array.isArray(first));
    // Default widgets: grouped notifications and the trend (by GET).
    assert.ok(Array.isArray(await post('i/notifications-grouped', { excludeTypes: [], limit: 20, allowPartial: true, i: token })));
    const trend = await fetch(`${server.origin}/api/hashtags/trend?`);
    assert.equal(trend.status, 200);
    assert.ok(Array.isArray(await trend.json()));
    // Keep-alive text frames get no answer; the stream goes on.
    s.send('h');
    const posted = (await friend.api.request('notes/create', { text: 'hello web' })).createdNote;
    const note = await waitFor(s.got, (m) => m.type === 'channel' && m.body.id === '1' && m.body.type === 'note');
    assert.equal(note.body.body.id, posted.id);
    s.send({ type: 'sr', body: { id: posted.id } });
    await new Promise((r) => setTimeout(r, 100));
    await friend.api.request('notes/reactions/create', { noteId: posted.id, reaction: '❤' });
    await waitFor(s.got, (m) => m.type === 'noteUpdated' && m.body.id === posted.id && m.body.type === 'reacted');
    await friend.api.request('notes/create', { text: `hi @boot_web` });
    await waitFor(s.got, (m) => m.type === 'channel' && m.body.id === '2' && m.body.type === 'mention');
    await waitFor(s.got, (m) => m.type === 'channel' && m.body.id === '2' && m.body.type === 'unreadNotification');
    assert.equal(me.username, 'boot_web');
  } finally {
    s.ws.close();
  }
});
