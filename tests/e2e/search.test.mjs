// Finding things as a Misskey app does: notes by words (Japanese too) and by hashtags, users
// by name and by username@host, hashtags and their trend; favourites, a note's state, its
// conversation and its reactions in bulk. What is found is what the viewer may see.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, apiError } from './lib/server.mjs';

let server;
let ann; // writes
let bob; // follows ann
let eve; // a stranger

before(async () => {
  server = await startServer();
  ann = await signup(server, 'search_ann');
  bob = await signup(server, 'search_bob');
  eve = await signup(server, 'search_eve');
  await bob.api.request('following/create', { userId: ann.id });
  await ann.api.request('i/update', { name: 'Ann Searchable' });
});
after(async () => { await server?.stop(); });

const texts = (notes) => notes.map((n) => n.text);
const post = async (user, params) => (await user.api.request('notes/create', params)).createdNote;

test('notes are found by the words of their text and CW, in Japanese too, as the viewer may see them', async () => {
  await post(ann, { text: '今日はいい天気ですね' });
  await post(ann, { text: 'Rust is GREAT' });
  await post(ann, { text: 'rust 2024 edition is out' });
  await post(ann, { text: 'rust for followers', visibility: 'followers' });
  await post(ann, { text: 'the body', cw: 'rusty spoiler' });
  await post(eve, { text: 'eve likes rust too' });

  const anon = server.client();
  assert.deepEqual(texts(await anon.request('notes/search', { query: 'rust' })),
    ['eve likes rust too', 'the body', 'rust 2024 edition is out', 'Rust is GREAT']);
  assert.deepEqual(texts(await bob.api.request('notes/search', { query: 'RUST', limit: 3 })),
    ['eve likes rust too', 'the body', 'rust for followers'], 'a follower sees followers-only notes');
  assert.deepEqual(texts(await anon.request('notes/search', { query: 'rust edition' })), ['rust 2024 edition is out'], 'every word');
  assert.deepEqual(texts(await anon.request('notes/search', { query: '天気' })), ['今日はいい天気ですね'], 'two characters');
  assert.deepEqual(texts(await anon.request('notes/search', { query: 'いい天気' })), ['今日はいい天気ですね'], 'no spaces between words');
  assert.deepEqual(texts(await anon.request('notes/search', { query: 'rust', userId: eve.id })), ['eve likes rust too']);
  assert.equal((await anon.request('notes/search', { query: 'rust', host: '.' })).length, 4);
  assert.equal((await anon.request('notes/search', { query: 'rust', host: 'elsewhere.example' })).length, 0);
  assert.deepEqual(await anon.request('notes/search', { query: 'nothing-like-this' }), []);
  // Paging goes on where the page ended.
  const first = await anon.request('notes/search', { query: 'rust', limit: 2 });
  const next = await anon.request('notes/search', { query: 'rust', limit: 2, untilId: first[1].id });
  assert.deepEqual(texts(next), ['rust 2024 edition is out', 'Rust is GREAT']);
  // Mutes and blocks apply as on timelines.
  await bob.api.request('mute/create', { userId: eve.id });
  assert.ok(!texts(await bob.api.request('notes/search', { query: 'rust' })).includes('eve likes rust too'));
  const zed = await signup(server, 'other_zed');
  await zed.api.request('blocking/create', { userId: ann.id });
  assert.deepEqual(texts(await zed.api.request('notes/search', { query: 'rust' })), ['eve likes rust too']);
  const bad = await apiError(() => anon.request('notes/search', { query: '   ' }));
  assert.equal(bad.code, 'INVALID_PARAM');
  assert.equal((await anon.request('meta', {})).policies.canSearchNotes, true);
});

test('search can be turned off, and then says so in its policies', async () => {
  const quiet = await startServer({ TSUDOI_SEARCH_NOTES: 'false', TSUDOI_SEARCH_USERS: 'false' });
  try {
    const meta = await quiet.client().request('meta', {});
    assert.equal(meta.policies.canSearchNotes, false);
    assert.equal(meta.policies.canSearchUsers, false);
    const off = await apiError(() => quiet.client().request('notes/search', { query: 'x' }));
    assert.equal(off.code, 'UNAVAILABLE');
    assert.equal(off.id, '0b44998d-77aa-4427-80d0-d2c9b8523011');
    assert.equal((await apiError(() => quiet.client().request('users/search', { query: 'x' }))).code, 'ROLE_PERMISSION_DENIED');
  } finally {
    await quiet.stop();
  }
});

test('notes by hashtag: one tag, or groups of tags, with reply, renote, poll and file filters', async () => {
  const a = await post(ann, { text: 'about #Tsudoi and #Rust' });
  const b = await post(ann, { text: 'only #tsudoi here', poll: { choices: ['yes', 'no'] } });
  const c = await post(bob, { text: 'a reply with #Rust', replyId: a.id });
  await post(bob, { text: '#ｔｓｕｄｏｉ in full width' });
  const anon = server.client();
  assert.equal((await anon.request('notes/search-by-tag', { tag: '#TSUDOI' })).length, 3, 'normalised like notes store them');
  assert.deepEqual((await anon.request('notes/search-by-tag', { query: [['tsudoi', 'rust']] })).map((n) => n.id), [a.id]);
  assert.deepEqual((await anon.request('notes/search-by-tag', { query: [['tsudoi', 'rust'], ['rust']] })).map((n) => n.id), [c.id, a.id]);
  assert.deepEqual((await anon.request('notes/search-by-tag', { tag: 'rust', reply: true })).map((n) => n.id), [c.id]);
  assert.deepEqual((await anon.request('notes/search-by-tag', { tag: 'rust', reply: false })).map((n) => n.id), [a.id]);
  assert.deepEqual((await anon.request('notes/search-by-tag', { tag: 'tsudoi', poll: true })).map((n) => n.id), [b.id]);
  assert.deepEqual(await anon.request('notes/search-by-tag', { tag: 'tsudoi', withFiles: true }), []);

  assert.deepEqual(await anon.request('hashtags/search', { query: 'TS' }), ['tsudoi']);
  assert.deepEqual((await anon.request('hashtags/search', { query: 'r' })), ['rust']);
  const shown = await anon.request('hashtags/show', { tag: '#Tsudoi' });
  assert.deepEqual(shown, {
    tag: 'tsudoi', mentionedUsersCount: 2, mentionedLocalUsersCount: 2, mentionedRemoteUsersCount: 0,
    attachedUsersCount: 0, attachedLocalUsersCount: 0, attachedRemoteUsersCount: 0,
  });
  const none = await apiError(() => anon.request('hashtags/show', { tag: 'never-used' }));
  assert.equal(none.id, '110ee688-193e-4a3a-9ecf-c167b2e6981e');

  // Two people used #tsudoi (and #rust) within the hour: a trend. Answered by GET too.
  const trend = await (await fetch(`${server.origin}/api/hashtags/trend`)).json();
  const tsudoi = trend.find((t) => t.tag === 'tsudoi');
  assert.ok(tsudoi, JSON.stringify(trend));
  assert.equal(tsudoi.usersCount, 2);
  assert.equal(tsudoi.chart.length, 20);
  assert.equal(tsudoi.chart[0], 2, 'both in the latest ten minutes');
});

test('users are found by name, by username prefix and by username@host, followed ones first', async () => {
  const anon = server.client();
  const byName = await anon.request('users/search', { query: 'searchable' });
  assert.deepEqual(byName.map((u) => u.username), ['search_ann']);
  assert.ok('followersCount' in byName[0], 'detailed by default');
  const byUsername = await anon.request('users/search', { query: '@search_', detail: false });
  assert.deepEqual(byUsername.map((u) => u.username).sort(), ['search_ann', 'search_bob', 'search_eve']);
  assert.ok(!('followersCount' in byUsername[0]), 'lite when asked');
  assert.deepEqual(await anon.request('users/search', { query: 'search_', origin: 'remote' }), []);

  const all = await eve.api.request('users/search-by-username-and-host', { username: 'SEARCH', host: '.' });
  assert.deepEqual(all.map((u) => u.username), ['search_ann', 'search_bob', 'search_eve']);
  const followedFirst = await bob.api.request('users/search-by-username-and-host', { username: 'search_', host: null });
  assert.equal(followedFirst[0].username, 'search_ann', 'bob follows ann');
  assert.deepEqual(await anon.request('users/search-by-username-and-host', { username: 'search', host: 'elsewhere' }), []);
});

test('favorites, a note\'s state, its conversation and reactions in bulk', async () => {
  const root = await post(ann, { text: 'root' });
  const r1 = await post(bob, { text: 'r1', replyId: root.id });
  const hidden = await post(ann, { text: 'r2 for bob only', replyId: r1.id, visibility: 'specified', visibleUserIds: [bob.id] });
  const r3 = await post(bob, { text: 'r3', replyId: hidden.id, visibility: 'specified', visibleUserIds: [ann.id] });

  assert.deepEqual(texts(await bob.api.request('notes/conversation', { noteId: r3.id })), ['r2 for bob only', 'r1', 'root']);
  assert.deepEqual(texts(await bob.api.request('notes/conversation', { noteId: r3.id, offset: 1, limit: 1 })), ['r1']);
  assert.deepEqual(texts(await server.client().request('notes/conversation', { noteId: r1.id })), ['root']);
  const gone = await apiError(() => eve.api.request('notes/conversation', { noteId: r3.id }));
  assert.equal(gone.id, 'e1035875-9551-45ec-afa8-1ded1fcb53c8');

  await bob.api.request('notes/favorites/create', { noteId: root.id });
  await bob.api.request('notes/favorites/create', { noteId: hidden.id });
  const again = await apiError(() => bob.api.request('notes/favorites/create', { noteId: root.id }));
  assert.equal(again.code, 'ALREADY_FAVORITED');
  assert.equal(again.id, 'a402c12b-34dd-41d2-97d8-4d2ffd96a1a6');
  const notHers = await apiError(() => eve.api.request('notes/favorites/create', { noteId: hidden.id }));
  assert.equal(notHers.id, '6dd26674-e060-4816-909a-45ba3f4da458', 'a note one cannot see cannot be kept');
  const kept = await bob.api.request('i/favorites', {});
  assert.deepEqual(kept.map((f) => f.noteId), [hidden.id, root.id]);
  assert.equal(kept[1].note.text, 'root');
  assert.deepEqual(await bob.api.request('notes/state', { noteId: root.id }), { isFavorited: true, isMutedThread: false });
  await bob.api.request('notes/favorites/delete', { noteId: root.id });
  assert.equal((await bob.api.request('notes/state', { noteId: root.id })).isFavorited, false);
  const notKept = await apiError(() => bob.api.request('notes/favorites/delete', { noteId: root.id }));
  assert.equal(notKept.code, 'NOT_FAVORITED');
  assert.equal(notKept.id, 'b625fc69-635e-45e9-86f4-dbefbef35af5');

  await bob.api.request('notes/reactions/create', { noteId: root.id, reaction: '👍' });
  await eve.api.request('notes/reactions/create', { noteId: root.id, reaction: '🎉' });
  const bulk = await eve.api.request('notes/show-partial-bulk', { noteIds: [root.id, hidden.id, 'aaaaaaaaaaaaaaaa'] });
  assert.deepEqual(bulk, [{ id: root.id, reactions: { '👍': 1, '🎉': 1 }, reactionEmojis: {} }], 'only what eve may see');
});
