// User lists as a Misskey client uses them: make a list, add and remove people, read its
// timeline (REST and the `userList` stream, which also says who was added or removed), make
// it public so others can see, like and copy it, and the limits and errors Misskey has.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, apiError, ids } from './lib/server.mjs';
import { openStream, record, waitFor, synced, nothingLike } from './lib/stream.mjs';

let server;
let me;
let ann;
let bob;
let cat;
let foe;

before(async () => {
  server = await startServer();
  me = await signup(server, 'ul_me');
  ann = await signup(server, 'ul_ann');
  bob = await signup(server, 'ul_bob');
  cat = await signup(server, 'ul_cat');
  foe = await signup(server, 'ul_foe');
});
after(async () => { await server?.stop(); });

const post = (user, params) => user.api.request('notes/create', params).then((r) => r.createdNote);

test('create, push, pull, update, show, list and delete, in the shapes misskey-js types', async () => {
  const list = await me.api.request('users/lists/create', { name: 'friends' });
  assert.equal(list.name, 'friends');
  assert.equal(list.isPublic, false);
  assert.deepEqual(list.userIds, []);
  assert.match(list.createdAt, /^\d{4}-\d\d-\d\dT.*Z$/);

  await me.api.request('users/lists/push', { listId: list.id, userId: ann.id });
  await me.api.request('users/lists/push', { listId: list.id, userId: bob.id });
  const again = await apiError(() => me.api.request('users/lists/push', { listId: list.id, userId: ann.id }));
  assert.deepEqual([again.code, again.id], ['ALREADY_ADDED', '1de7c884-1595-49e9-857e-61f12f4d4fc5']);
  const nobody = await apiError(() => me.api.request('users/lists/push', { listId: list.id, userId: 'aaaaaaaaaa' }));
  assert.deepEqual([nobody.code, nobody.id], ['NO_SUCH_USER', 'a89abd3d-f0bc-4cce-beb1-2f446f4f1e6a']);

  const shown = await me.api.request('users/lists/show', { listId: list.id });
  assert.deepEqual(shown.userIds, [ann.id, bob.id]);
  assert.equal(shown.likedCount, undefined);

  await me.api.request('users/lists/pull', { listId: list.id, userId: bob.id });
  const renamed = await me.api.request('users/lists/update', { listId: list.id, name: 'close friends' });
  assert.equal(renamed.name, 'close friends');
  assert.deepEqual(renamed.userIds, [ann.id]);

  const mine = await me.api.request('users/lists/list', {});
  assert.deepEqual(mine.map((l) => l.id), [list.id]);

  // Someone else's private list does not exist for them.
  const notTheirs = await apiError(() => ann.api.request('users/lists/show', { listId: list.id }));
  assert.deepEqual([notTheirs.code, notTheirs.id], ['NO_SUCH_LIST', '7bc05c21-1d7a-41ae-88f1-66820f4dc686']);
  const notTheirsToo = await apiError(() => ann.api.request('users/lists/push', { listId: list.id, userId: bob.id }));
  assert.deepEqual([notTheirsToo.code, notTheirsToo.id], ['NO_SUCH_LIST', '2214501d-ac96-4049-b717-91e42272a711']);
  const tooLong = await apiError(() => me.api.request('users/lists/create', { name: 'x'.repeat(101) }));
  assert.equal(tooLong.code, 'INVALID_PARAM');

  await me.api.request('users/lists/delete', { listId: list.id });
  const gone = await apiError(() => me.api.request('users/lists/delete', { listId: list.id }));
  assert.deepEqual([gone.code, gone.id], ['NO_SUCH_LIST', '78436795-db79-42f5-b1e2-55ea2cf19166']);
});

test('the list timeline shows its members\' notes, their replies to others only when asked', async () => {
  const list = await me.api.request('users/lists/create', { name: 'timeline' });
  await me.api.request('users/lists/push', { listId: list.id, userId: ann.id });
  await me.api.request('users/lists/push', { listId: list.id, userId: bob.id });

  const outsider = await post(cat, { text: 'cat is not in the list' });
  const fromAnn = await post(ann, { text: 'ann posts' });
  const annReplies = await post(ann, { text: 'ann answers cat', replyId: outsider.id });
  const bobReplies = await post(bob, { text: 'bob answers cat', replyId: outsider.id });
  const annSelf = await post(ann, { text: 'ann threads', replyId: fromAnn.id });
  const annHome = await post(ann, { text: 'for followers', visibility: 'followers' });
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  const file = await ann.api.request('drive/files/create', { file: new File([png], 'dot.png', { type: 'image/png' }) });
  const annPicture = await post(ann, { fileIds: [file.id] });

  let tl = await me.api.request('notes/user-list-timeline', { listId: list.id, limit: 50 });
  const seen = ids(tl);
  assert.ok(seen.includes(fromAnn.id) && seen.includes(annSelf.id));
  assert.ok(!seen.includes(outsider.id), 'only members');
  assert.ok(!seen.includes(annReplies.id) && !seen.includes(bobReplies.id), 'no replies to others by default');
  assert.ok(!seen.includes(annHome.id), 'a followers-only note of someone I do not follow stays hidden');

  await me.api.request('users/lists/update-membership', { listId: list.id, userId: ann.id, withReplies: true });
  tl = await me.api.request('notes/user-list-timeline', { listId: list.id, limit: 50 });
  assert.ok(ids(tl).includes(annReplies.id), 'ann\'s replies now');
  assert.ok(!ids(tl).includes(bobReplies.id), 'bob\'s still not');

  const members = await me.api.request('users/lists/get-memberships', { listId: list.id });
  assert.deepEqual(members.map((m) => [m.userId, m.withReplies, m.user.username]), [[bob.id, false, 'ul_bob'], [ann.id, true, 'ul_ann']]);

  const notMember = await apiError(() => me.api.request('users/lists/update-membership', { listId: list.id, userId: cat.id, withReplies: true }));
  assert.equal(notMember.code, 'NO_SUCH_USER');
  const notMine = await apiError(() => ann.api.request('notes/user-list-timeline', { listId: list.id }));
  assert.deepEqual([notMine.code, notMine.id], ['NO_SUCH_LIST', '8fb1fbd5-e476-4c37-9fb0-43d55b63a2ff']);
  const withFiles = await me.api.request('notes/user-list-timeline', { listId: list.id, withFiles: true });
  assert.deepEqual(ids(withFiles), [annPicture.id]);
});

test('the userList stream carries members\' notes as the timeline lists them, and who joins or leaves', async () => {
  const list = await me.api.request('users/lists/create', { name: 'live' });
  await me.api.request('users/lists/push', { listId: list.id, userId: ann.id });
  const s = openStream(server, me.token);
  try {
    const ch = s.useChannel('userList', { listId: list.id });
    const notes = record(ch, 'note');
    const added = record(ch, 'userAdded');
    const removed = record(ch, 'userRemoved');
    await synced(s);

    const outsider = await post(cat, { text: 'cat before joining' });
    const fromAnn = await post(ann, { text: 'ann live' });
    const reply = await post(ann, { text: 'ann answers cat live', replyId: outsider.id });
    await waitFor(notes, (n) => n.id === fromAnn.id);

    await me.api.request('users/lists/push', { listId: list.id, userId: cat.id });
    const joined = await waitFor(added, (u) => u.id === cat.id);
    assert.equal(joined.username, 'ul_cat');
    const fromCat = await post(cat, { text: 'cat after joining' });
    await waitFor(notes, (n) => n.id === fromCat.id);

    await me.api.request('users/lists/pull', { listId: list.id, userId: cat.id });
    await waitFor(removed, (u) => u.id === cat.id);
    const catGone = await post(cat, { text: 'cat after leaving' });
    const marker = await post(ann, { text: 'marker' });
    await waitFor(notes, (n) => n.id === marker.id);
    const streamed = ids(notes);
    assert.ok(!streamed.includes(outsider.id) && !streamed.includes(catGone.id), 'only members, while they are');
    assert.ok(!streamed.includes(reply.id), 'no replies to others');

    // Another user cannot listen to my list.
    const other = openStream(server, ann.token);
    try {
      const theirs = record(other.useChannel('userList', { listId: list.id }), 'note');
      await synced(other);
      await post(ann, { text: 'not for ann\'s stream' });
      await nothingLike(theirs, () => true);
    } finally {
      other.close();
    }
  } finally {
    s.close();
  }
});

test('public lists: others see, like and copy them; blocks keep a user out of their blocker\'s lists', async () => {
  const list = await me.api.request('users/lists/create', { name: 'public' });
  await me.api.request('users/lists/push', { listId: list.id, userId: ann.id });
  await me.api.request('users/lists/push', { listId: list.id, userId: bob.id });
  const hidden = await apiError(() => ann.api.request('users/lists/show', { listId: list.id, forPublic: true }));
  assert.equal(hidden.code, 'NO_SUCH_LIST');
  await me.api.request('users/lists/update', { listId: list.id, isPublic: true });

  const theirView = await ann.api.request('users/lists/show', { listId: list.id, forPublic: true });
  assert.deepEqual([theirView.likedCount, theirView.isLiked], [0, false]);
  const byUser = await ann.api.request('users/lists/list', { userId: me.id });
  assert.deepEqual(byUser.map((l) => l.id), [list.id]);
  const anonymous = await fetch(`${server.origin}/api/users/lists/show`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ listId: list.id }),
  }).then((r) => r.json());
  assert.equal(anonymous.id, list.id);

  await ann.api.request('users/lists/favorite', { listId: list.id });
  const twice = await apiError(() => ann.api.request('users/lists/favorite', { listId: list.id }));
  assert.deepEqual([twice.code, twice.id], ['ALREADY_FAVORITED', '6425bba0-985b-461e-af1b-518070e72081']);
  const liked = await ann.api.request('users/lists/show', { listId: list.id, forPublic: true });
  assert.deepEqual([liked.likedCount, liked.isLiked], [1, true]);
  await ann.api.request('users/lists/unfavorite', { listId: list.id });
  const notLiked = await apiError(() => ann.api.request('users/lists/unfavorite', { listId: list.id }));
  assert.deepEqual([notLiked.code, notLiked.id], ['ALREADY_FAVORITED', '835c4b27-463d-4cfa-969b-a9058678d465']);

  // Bob copies it; ann blocks bob first, so the copy leaves her out.
  await ann.api.request('blocking/create', { userId: bob.id });
  const copy = await bob.api.request('users/lists/create-from-public', { listId: list.id, name: 'copied' });
  assert.deepEqual(copy.userIds, [bob.id]);
  const blocked = await apiError(() => bob.api.request('users/lists/push', { listId: copy.id, userId: ann.id }));
  assert.deepEqual([blocked.code, blocked.id], ['YOU_HAVE_BEEN_BLOCKED', '990232c5-3f9d-4d83-9f3f-ef27b6332a4b']);

  // Foe is in my list, then blocks me: they leave it (Misskey's rule).
  await me.api.request('users/lists/push', { listId: list.id, userId: foe.id });
  await foe.api.request('blocking/create', { userId: me.id });
  const after = await me.api.request('users/lists/show', { listId: list.id });
  assert.ok(!after.userIds.includes(foe.id));
});

test('limits: ten lists a user and fifty members a list, reported in policies', async () => {
  const hoarder = await signup(server, 'ul_hoarder');
  const i = await hoarder.api.request('i', {});
  assert.equal(i.policies.userListLimit, 10);
  assert.equal(i.policies.userEachUserListsLimit, 50);
  const made = await Promise.all(Array.from({ length: 12 }, (_, k) =>
    hoarder.api.request('users/lists/create', { name: `l${k}` }).then(() => 'ok', (e) => e.code)));
  assert.equal(made.filter((r) => r === 'ok').length, 10);
  assert.ok(made.filter((r) => r !== 'ok').every((c) => c === 'TOO_MANY_USERLISTS'));
});
