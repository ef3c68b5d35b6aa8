// Following, unfollowing and the request flow of locked accounts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, apiError, ids } from './lib/server.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('follow and unfollow update relations, lists, counts and the home timeline', async () => {
  const ann = await signup(server, 'ann');
  const ben = await signup(server, 'ben');
  const early = (await ann.api.request('notes/create', { text: 'before the follow' })).createdNote;

  const followee = await ben.api.request('following/create', { userId: ann.id });
  assert.equal(followee.id, ann.id);
  const [rel] = await ben.api.request('users/relation', { userId: ann.id });
  assert.equal(rel.isFollowing, true);
  assert.equal(rel.isFollowed, false);
  const [back] = await ann.api.request('users/relation', { userId: [ben.id] });
  assert.equal(back.isFollowed, true);

  const followers = await server.client().request('users/followers', { userId: ann.id });
  assert.deepEqual(followers.map((f) => f.follower.id), [ben.id]);
  assert.equal(followers[0].followeeId, ann.id);
  const following = await server.client().request('users/following', { username: 'ben', host: null });
  assert.deepEqual(following.map((f) => f.followee.id), [ann.id]);
  assert.equal((await server.client().request('users/show', { userId: ann.id })).followersCount, 1);
  assert.equal((await server.client().request('users/show', { userId: ben.id })).followingCount, 1);

  let home = await ben.api.request('notes/timeline', {});
  assert.ok(ids(home).includes(early.id), 'recent notes of a new followee appear at once');
  const later = (await ann.api.request('notes/create', { text: 'after the follow' })).createdNote;
  home = await ben.api.request('notes/timeline', {});
  assert.deepEqual(ids(home).slice(0, 2), [later.id, early.id]);

  const again = await apiError(() => ben.api.request('following/create', { userId: ann.id }));
  assert.equal(again.code, 'ALREADY_FOLLOWING');
  const self = await apiError(() => ben.api.request('following/create', { userId: ben.id }));
  assert.equal(self.code, 'FOLLOWEE_IS_YOURSELF');
  const nobody = await apiError(() => ben.api.request('following/create', { userId: 'nosuchuser0000' }));
  assert.equal(nobody.code, 'NO_SUCH_USER');

  await ben.api.request('following/delete', { userId: ann.id });
  home = await ben.api.request('notes/timeline', {});
  assert.ok(!ids(home).includes(later.id), 'an unfollowed user leaves the home timeline');
  assert.equal((await server.client().request('users/show', { userId: ann.id })).followersCount, 0);
  const notFollowing = await apiError(() => ben.api.request('following/delete', { userId: ann.id }));
  assert.equal(notFollowing.code, 'NOT_FOLLOWING');
});

test('a locked account gets requests it can accept or reject, and the requester can cancel', async () => {
  const lock = await signup(server, 'locked_lou');
  await lock.api.request('i/update', { isLocked: true });
  const req1 = await signup(server, 'req_one');
  const req2 = await signup(server, 'req_two');
  const req3 = await signup(server, 'req_three');
  const secret = (await lock.api.request('notes/create', { text: 'for followers', visibility: 'followers' })).createdNote;

  for (const r of [req1, req2, req3]) await r.api.request('following/create', { userId: lock.id });
  const [rel] = await req1.api.request('users/relation', { userId: lock.id });
  assert.equal(rel.isFollowing, false);
  assert.equal(rel.hasPendingFollowRequestFromYou, true);
  assert.equal((await lock.api.request('i', {})).hasPendingReceivedFollowRequest, true);

  const incoming = await lock.api.request('following/requests/list', {});
  assert.deepEqual(new Set(incoming.map((r) => r.follower.id)), new Set([req1.id, req2.id, req3.id]));
  assert.ok(incoming.every((r) => r.followee.id === lock.id));
  const sent = await req1.api.request('following/requests/sent', {});
  assert.deepEqual(sent.map((r) => r.followee.id), [lock.id]);

  const hidden = await apiError(() => req1.api.request('notes/show', { noteId: secret.id }));
  assert.equal(hidden.code, 'NO_SUCH_NOTE', 'a pending request does not open followers-only notes');

  assert.equal(await lock.api.request('following/requests/accept', { userId: req1.id }), null);
  await lock.api.request('following/requests/reject', { userId: req2.id });
  await req3.api.request('following/requests/cancel', { userId: lock.id });

  assert.equal((await req1.api.request('notes/show', { noteId: secret.id })).text, 'for followers');
  assert.ok(ids(await req1.api.request('notes/timeline', {})).includes(secret.id));
  const [r2] = await req2.api.request('users/relation', { userId: lock.id });
  assert.equal(r2.isFollowing, false);
  assert.equal(r2.hasPendingFollowRequestFromYou, false);
  assert.deepEqual(await lock.api.request('following/requests/list', {}), []);
  const noReq = await apiError(() => lock.api.request('following/requests/accept', { userId: req2.id }));
  assert.equal(noReq.code, 'NO_FOLLOW_REQUEST');
  const noCancel = await apiError(() => req3.api.request('following/requests/cancel', { userId: lock.id }));
  assert.equal(noCancel.code, 'NO_FOLLOW_REQUEST');
});

test('follower lists page by relation id', async () => {
  const star = await signup(server, 'star');
  const fans = [];
  for (let i = 0; i < 5; i++) {
    const f = await signup(server, `fan${i}`);
    await f.api.request('following/create', { userId: star.id });
    fans.push(f);
  }
  const first = await server.client().request('users/followers', { userId: star.id, limit: 2 });
  assert.deepEqual(first.map((f) => f.follower.id), [fans[4].id, fans[3].id]);
  const next = await server.client().request('users/followers', { userId: star.id, limit: 2, untilId: first[1].id });
  assert.deepEqual(next.map((f) => f.follower.id), [fans[2].id, fans[1].id]);
  const since = await server.client().request('users/followers', { userId: star.id, limit: 2, sinceId: first[1].id });
  assert.deepEqual(since.map((f) => f.follower.id), [fans[4].id]);
});

test('a block ends follows and requests both ways and stops the blockee following, replying, renoting, reacting and voting', async () => {
  const kit = await signup(server, 'kit');
  const lou = await signup(server, 'lou');
  const max = await signup(server, 'max');
  await kit.api.request('following/create', { userId: lou.id });
  await lou.api.request('following/create', { userId: kit.id });
  await max.api.request('following/create', { userId: kit.id });
  const { createdNote: post } = await kit.api.request('notes/create', { text: 'mine', poll: { choices: ['a', 'b'] } });

  const blocked = await kit.api.request('blocking/create', { userId: lou.id });
  assert.equal(blocked.id, lou.id);
  assert.deepEqual([blocked.isBlocking, blocked.isBlocked, blocked.isFollowing, blocked.isFollowed], [true, false, false, false]);
  const [fromLou] = await lou.api.request('users/relation', { userId: [kit.id] });
  assert.deepEqual([fromLou.isBlocked, fromLou.isBlocking, fromLou.isFollowing, fromLou.isFollowed], [true, false, false, false]);
  // Only the two of them lost their follows; counts follow the rows.
  assert.deepEqual((await server.client().request('users/followers', { userId: kit.id })).map((f) => f.follower.id), [max.id]);
  const kitNow = await server.client().request('users/show', { userId: kit.id });
  assert.deepEqual([kitNow.followersCount, kitNow.followingCount], [1, 0]);
  const louNow = await server.client().request('users/show', { userId: lou.id });
  assert.deepEqual([louNow.followersCount, louNow.followingCount], [0, 0]);

  const refused = async (endpoint, params, code, id) => {
    const e = await apiError(() => lou.api.request(endpoint, params));
    assert.equal(e.code, code, endpoint);
    if (id) assert.equal(e.id, id, endpoint);
  };
  await refused('following/create', { userId: kit.id }, 'BLOCKED', 'c4ab57cc-4e41-45e9-bfd9-584f61e35ce0');
  await refused('notes/create', { text: 're', replyId: post.id }, 'YOU_HAVE_BEEN_BLOCKED', 'b390d7e1-8a5e-46ed-b625-06271cafd3d3');
  await refused('notes/create', { renoteId: post.id }, 'YOU_HAVE_BEEN_BLOCKED', 'b390d7e1-8a5e-46ed-b625-06271cafd3d3');
  await refused('notes/create', { text: 'quoting', renoteId: post.id }, 'YOU_HAVE_BEEN_BLOCKED');
  await refused('notes/reactions/create', { noteId: post.id, reaction: '👍' }, 'YOU_HAVE_BEEN_BLOCKED', '20ef5475-9f38-4e4c-bd33-de6d979498ec');
  await refused('notes/polls/vote', { noteId: post.id, choice: 0 }, 'YOU_HAVE_BEEN_BLOCKED', '85a5377e-b1e9-4617-b0b9-5bea73331e49');
  // The blocker cannot follow either while blocking; others are unaffected.
  assert.equal((await apiError(() => kit.api.request('following/create', { userId: lou.id }))).code, 'BLOCKING');
  await max.api.request('notes/reactions/create', { noteId: post.id, reaction: '👍' });
  const shown = await kit.api.request('notes/show', { noteId: post.id });
  assert.deepEqual([shown.repliesCount, shown.renoteCount, shown.reactions], [0, 0, { '👍': 1 }]);

  // A locked account's pending request goes too.
  const nia = await signup(server, 'nia');
  await nia.api.request('i/update', { isLocked: true });
  await lou.api.request('following/create', { userId: nia.id });
  await nia.api.request('blocking/create', { userId: lou.id });
  assert.deepEqual(await nia.api.request('following/requests/list', {}), []);

  assert.equal((await apiError(() => kit.api.request('blocking/create', { userId: lou.id }))).code, 'ALREADY_BLOCKING');
  assert.equal((await apiError(() => kit.api.request('blocking/create', { userId: kit.id }))).code, 'BLOCKEE_IS_YOURSELF');
  const list = await kit.api.request('blocking/list', {});
  assert.deepEqual(list.map((b) => [b.blockeeId, b.blockee.username, b.blockee.isBlocking]), [[lou.id, 'lou', true]]);

  const lifted = await kit.api.request('blocking/delete', { userId: lou.id });
  assert.equal(lifted.isBlocking, false);
  assert.equal((await apiError(() => kit.api.request('blocking/delete', { userId: lou.id }))).code, 'NOT_BLOCKING');
  await lou.api.request('following/create', { userId: kit.id });
  await lou.api.request('notes/polls/vote', { noteId: post.id, choice: 1 });
  assert.deepEqual((await kit.api.request('notes/show', { noteId: post.id })).poll.choices.map((c) => c.votes), [0, 1]);
});
