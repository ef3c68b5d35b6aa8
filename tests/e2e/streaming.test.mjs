// Misskey's streaming API through misskey-js's own Stream (over `ws`), against a real server:
// the timelines move as the REST ones list, `main` tells of follows, mentions, replies,
// renotes and profile changes, `noteUpdated` reaches only connections that subscribed, and
// blocks hide notes. Absence is checked in order: a note that must not arrive is posted
// before one that must, and the second's arrival proves the first was passed over (a node
// streams events in the order they were committed).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { startServer, signup, createAdmin, pluginWasm, eventually } from './lib/server.mjs';
import { openStream, record, waitFor, synced } from './lib/stream.mjs';

let server;
let alice; // follows bob
let bob;
let carol; // follows nobody
const streams = [];

before(async () => {
  server = await startServer();
  alice = await signup(server, 'st_alice');
  bob = await signup(server, 'st_bob');
  carol = await signup(server, 'st_carol');
  await alice.api.request('following/create', { userId: bob.id });
});
after(async () => {
  for (const s of streams) s.close();
  await server?.stop();
});

function stream(token) {
  const s = openStream(server, token);
  streams.push(s);
  return s;
}

const post = (user, params) => user.api.request('notes/create', params).then((r) => r.createdNote);
const byId = (id) => (n) => n.id === id;

/** The HTTP status a WebSocket upgrade to `/streaming` gets (101 when it opens). */
function upgradeStatus(query = '', headers = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/streaming${query}`, { headers });
    ws.on('open', () => { ws.close(); resolve(101); });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode); ws.terminate(); });
    ws.on('error', (e) => { if (!e.message.includes('Unexpected server response')) reject(e); });
  });
}

test('a bad token gets 401, an app token without read:account 403; no token and good tokens open', async () => {
  assert.equal(await upgradeStatus('?i=not-a-token'), 401);
  assert.equal(await upgradeStatus('', { authorization: 'Bearer not-a-token' }), 401);
  assert.equal(await upgradeStatus(`?i=${alice.token}`), 101);
  assert.equal(await upgradeStatus('', { authorization: `Bearer ${alice.token}` }), 101);
  assert.equal(await upgradeStatus(), 101);
  // App tokens through MiAuth, as a user grants them on the page.
  const appToken = async (permission) => {
    const session = crypto.randomUUID();
    await fetch(`${server.origin}/miauth/${session}?name=st-app&permission=${permission.join(',')}`);
    await fetch(`${server.origin}/miauth/${session}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'st_alice', password: 'correct horse battery staple' }),
    });
    return (await server.client().request(`miauth/${session}/check`, {})).token;
  };
  const withAccount = await appToken(['read:account']);
  const without = await appToken(['write:notes']);
  assert.ok(withAccount && without, 'MiAuth issued both tokens');
  assert.equal(await upgradeStatus(`?i=${withAccount}`), 101);
  assert.equal(await upgradeStatus(`?i=${without}`), 403);
});

test('raw h and ping frames get no reply; connect with pong is answered', async () => {
  const raw = new WebSocket(`ws://127.0.0.1:${server.port}/streaming?i=${alice.token}`);
  const got = [];
  raw.on('message', (d) => got.push(String(d)));
  await new Promise((r) => raw.on('open', r));
  raw.send('h');
  raw.send('ping');
  raw.send('{not json');
  raw.send(JSON.stringify({ type: 'connect', body: { channel: 'homeTimeline', id: 'x1', pong: true } }));
  await waitFor(got, (m) => m.includes('connected'));
  assert.deepEqual(got.map((m) => JSON.parse(m)), [{ type: 'connected', body: { id: 'x1' } }]);
  raw.close();
});

test('the four timelines stream as the REST ones list, with their with* params', async () => {
  const a = stream(alice.token);
  const home = record(a.useChannel('homeTimeline'), 'note');
  const local = record(a.useChannel('localTimeline'), 'note');
  const hybrid = record(a.useChannel('hybridTimeline'), 'note');
  const global = record(a.useChannel('globalTimeline'), 'note');
  const noRenotes = record(a.useChannel('localTimeline', { withRenotes: false }), 'note');
  const withReplies = record(a.useChannel('localTimeline', { withReplies: true }), 'note');
  const anon = record(stream(null).useChannel('localTimeline'), 'note');
  await synced(a);
  await synced(streams.at(-1));

  const fromBob = await post(bob, { text: 'bob public' });
  const fromCarol = await post(carol, { text: 'carol public' });
  const carolHome = await post(carol, { text: 'carol home', visibility: 'home' });
  const bobFollowers = await post(bob, { text: 'bob followers', visibility: 'followers' });
  const reply = await post(carol, { text: 'carol replies to bob', replyId: fromBob.id });
  const renote = await post(carol, { renoteId: fromBob.id });
  const marker = await post(carol, { text: 'marker' });

  // Home: followees and self; carol is not followed.
  await waitFor(home, byId(bobFollowers.id));
  assert.ok(home.some(byId(fromBob.id)));
  assert.ok(!home.some(byId(fromCarol.id)) && !home.some(byId(carolHome.id)));
  // Local: public local notes only; replies to others only with withReplies.
  await waitFor(local, byId(marker.id));
  assert.ok(local.some(byId(fromBob.id)) && local.some(byId(fromCarol.id)) && local.some(byId(renote.id)));
  assert.ok(!local.some(byId(carolHome.id)) && !local.some(byId(bobFollowers.id)));
  assert.ok(!local.some(byId(reply.id)));
  await waitFor(withReplies, byId(reply.id));
  await waitFor(noRenotes, byId(marker.id));
  assert.ok(!noRenotes.some(byId(renote.id)));
  // Hybrid: home plus local.
  await waitFor(hybrid, byId(marker.id));
  assert.ok(hybrid.some(byId(bobFollowers.id)) && hybrid.some(byId(fromCarol.id)));
  assert.ok(!hybrid.some(byId(carolHome.id)));
  // Global: public notes.
  await waitFor(global, byId(marker.id));
  assert.ok(!global.some(byId(carolHome.id)));
  // Signed out, the same public notes.
  await waitFor(anon, byId(marker.id));
  assert.ok(!anon.some(byId(bobFollowers.id)));

  // A streamed note is the REST note, renote embedded (nothing changed since it was posted).
  const streamed = local.find(byId(renote.id));
  assert.equal(streamed.renote.id, fromBob.id);
  assert.equal(streamed.user.username, 'st_carol');
  assert.equal(streamed.myReaction, null);
  const shown = await alice.api.request('notes/show', { noteId: renote.id });
  assert.deepEqual(streamed, shown);
});

test('followers-only and specified notes reach only who may see them', async () => {
  const c = stream(carol.token);
  const a = stream(alice.token);
  const carolHome = record(c.useChannel('homeTimeline'), 'note');
  const aliceHome = record(a.useChannel('homeTimeline'), 'note');
  await synced(c);
  await synced(a);
  const dm = await post(bob, { text: 'for carol', visibility: 'specified', visibleUserIds: [carol.id] });
  const followers = await post(bob, { text: 'followers again', visibility: 'followers' });
  const ownMarker = await post(carol, { text: 'carol marker' });
  await waitFor(aliceHome, byId(followers.id));
  assert.ok(!aliceHome.some(byId(dm.id)), 'alice is not addressed');
  await waitFor(carolHome, byId(ownMarker.id));
  assert.ok(!carolHome.some(byId(followers.id)), 'carol does not follow bob');
});

test('main tells of follows, requests, mentions, replies, renotes and profile changes', async () => {
  const dave = await signup(server, 'st_dave');
  const d = stream(dave.token);
  const main = d.useChannel('main');
  const events = {};
  for (const kind of ['follow', 'followed', 'unfollow', 'receiveFollowRequest', 'mention', 'reply', 'renote', 'meUpdated']) {
    events[kind] = record(main, kind);
  }
  await synced(d);

  await dave.api.request('following/create', { userId: bob.id });
  assert.equal((await waitFor(events.follow, (u) => u.id === bob.id)).username, 'st_bob');
  await carol.api.request('following/create', { userId: dave.id });
  assert.equal((await waitFor(events.followed, (u) => u.id === carol.id)).username, 'st_carol');
  await dave.api.request('following/delete', { userId: bob.id });
  await waitFor(events.unfollow, (u) => u.id === bob.id);

  const mine = await post(dave, { text: 'dave writes' });
  const mention = await post(bob, { text: 'hello @st_dave' });
  await waitFor(events.mention, byId(mention.id));
  const reply = await post(bob, { text: 're', replyId: mine.id });
  assert.equal((await waitFor(events.reply, byId(reply.id))).reply.id, mine.id);
  const renote = await post(bob, { renoteId: mine.id });
  await waitFor(events.renote, byId(renote.id));

  await dave.api.request('i/update', { name: 'Dave D' });
  assert.equal((await waitFor(events.meUpdated, (u) => u.name === 'Dave D')).id, dave.id);

  await dave.api.request('i/update', { isLocked: true });
  await alice.api.request('following/create', { userId: dave.id });
  await waitFor(events.receiveFollowRequest, (u) => u.id === alice.id);
  // Dave's own notes are not told back to him on main.
  assert.ok(!events.mention.some(byId(mine.id)) && !events.reply.some(byId(mine.id)));
});

test('noteUpdated reaches only connections that subscribed to the note', async () => {
  const note = await post(bob, { text: 'react to me', poll: { choices: ['a', 'b'] } });
  const watching = stream(alice.token);
  const other = stream(carol.token);
  const seen = record(watching, 'noteUpdated');
  const unseen = record(other, 'noteUpdated');
  watching.send('s', { id: note.id });
  await synced(watching);
  await synced(other);

  await carol.api.request('notes/reactions/create', { noteId: note.id, reaction: '👍' });
  const reacted = await waitFor(seen, (u) => u.type === 'reacted');
  assert.deepEqual(reacted, { id: note.id, type: 'reacted', body: { reaction: '👍', emoji: null, userId: carol.id } });
  await carol.api.request('notes/reactions/delete', { noteId: note.id });
  assert.deepEqual((await waitFor(seen, (u) => u.type === 'unreacted')).body, { reaction: '👍', userId: carol.id });
  await carol.api.request('notes/polls/vote', { noteId: note.id, choice: 1 });
  assert.deepEqual((await waitFor(seen, (u) => u.type === 'pollVoted')).body, { choice: 1, userId: carol.id });
  await bob.api.request('notes/delete', { noteId: note.id });
  const deleted = await waitFor(seen, (u) => u.type === 'deleted');
  assert.ok(!Number.isNaN(Date.parse(deleted.body.deletedAt)));
  assert.deepEqual(unseen, [], 'the connection that did not subscribe heard nothing');

  // After `un`, nothing more.
  const again = await post(bob, { text: 'again' });
  watching.send('s', { id: again.id });
  watching.send('un', { id: again.id });
  await synced(watching);
  await carol.api.request('notes/reactions/create', { noteId: again.id, reaction: '👍' });
  const marker = await post(bob, { text: 'marker for un' });
  watching.send('s', { id: marker.id });
  await synced(watching);
  await carol.api.request('notes/reactions/create', { noteId: marker.id, reaction: '👍' });
  await waitFor(seen, (u) => u.id === marker.id);
  assert.ok(!seen.some((u) => u.id === again.id));
});

test('the notes of someone who blocks you do not stream to you; the block ends the follow at once', async () => {
  const erin = await signup(server, 'st_erin');
  const frank = await signup(server, 'st_frank');
  await frank.api.request('following/create', { userId: erin.id });
  const f = stream(frank.token);
  const home = record(f.useChannel('homeTimeline'), 'note');
  const local = record(f.useChannel('localTimeline'), 'note');
  const unfollow = record(f.useChannel('main'), 'unfollow');
  await synced(f);
  const before = await post(erin, { text: 'before the block' });
  await waitFor(home, byId(before.id));

  await erin.api.request('blocking/create', { userId: frank.id });
  await waitFor(unfollow, (u) => u.id === erin.id);
  const hidden = await post(erin, { text: 'after the block' });
  const replyToErin = await post(carol, { text: 'carol to erin', replyId: hidden.id });
  const marker = await post(carol, { text: 'block marker' });
  await waitFor(local, byId(marker.id));
  assert.ok(!local.some(byId(hidden.id)), 'the blocker\'s note is hidden');
  assert.ok(!home.some(byId(hidden.id)));
  // A reply to the blocker is about them, and hidden too (with withReplies on).
  assert.ok(!local.some(byId(replyToErin.id)));
});

test('the hashtag channel streams notes with all the tags of a group', async () => {
  const a = stream(alice.token);
  const tagged = record(a.useChannel('hashtag', { q: [['Tsudoi', 'streaming'], ['only']] }), 'note');
  await synced(a);
  const both = await post(carol, { text: '#tsudoi #Streaming both' });
  const one = await post(carol, { text: '#tsudoi alone' });
  const other = await post(carol, { text: '#only' });
  await waitFor(tagged, byId(other.id));
  assert.ok(tagged.some(byId(both.id)));
  assert.ok(!tagged.some(byId(one.id)));
});

test('a stream reconnects after the server restarts and its channels resume', async () => {
  const own = await startServer();
  try {
    const gina = await signup(own, 'st_gina');
    const s = openStream(own, gina.token);
    streams.push(s);
    const home = record(s.useChannel('homeTimeline'), 'note');
    await synced(s);
    const first = await post(gina, { text: 'before restart' });
    await waitFor(home, byId(first.id));
    const disconnected = new Promise((r) => s.once('_disconnected_', r));
    await own.kill();
    await disconnected;
    const reconnected = new Promise((r) => s.once('_connected_', r));
    const again = await startServer(own.env, own.storage);
    own.stop = again.stop;
    await reconnected;
    await synced(s);
    const second = await post({ api: again.client(gina.token) }, { text: 'after restart' });
    await waitFor(home, byId(second.id), 10_000);
  } finally {
    await own.stop();
  }
});

test('a local timeline thinned by a ranker streams thinned too; the global one streams whole', async () => {
  const own = await startServer();
  try {
    const admin = await createAdmin(own, 'st_admin');
    const hal = await signup(own, 'st_hal');
    const ivy = await signup(own, 'st_ivy');
    await admin.api.request('admin/plugins/install', {
      wasm: (await readFile(pluginWasm('thinned_local'))).toString('base64'),
      config: { max_per_author: 2 },
    });
    await admin.api.request('admin/plugins/update', { name: 'thinned-local', timelines: ['local'] });
    // The node has picked the ranker up once the REST timeline is thinned.
    for (let i = 0; i < 3; i++) await post(ivy, { text: `warm-up ${i}` });
    await eventually(async () => {
      const tl = await own.client().request('notes/local-timeline', { limit: 10 });
      assert.equal(tl.filter((n) => n.userId === ivy.id).length, 2);
    });

    const s = openStream(own, hal.token);
    streams.push(s);
    const local = record(s.useChannel('localTimeline'), 'note');
    const global = record(s.useChannel('globalTimeline'), 'note');
    await synced(s);
    const burst = [];
    for (let i = 0; i < 5; i++) burst.push(await post(hal, { text: `burst ${i}` }));
    const other = await post(ivy, { text: 'someone else' });
    await waitFor(global, byId(other.id));
    await waitFor(local, byId(other.id));
    const streamedBurst = local.filter((n) => n.userId === hal.id).map((n) => n.id);
    assert.deepEqual(streamedBurst, burst.slice(0, 2).map((n) => n.id), 'the burst is thinned where it starts to crowd');
    assert.equal(global.filter((n) => n.userId === hal.id).length, 5, 'the unranked global timeline streams whole');
  } finally {
    await own.stop();
  }
});
