// Notes: posting, replies, renotes, quotes, polls, deletion and the lists around a note.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, apiError, ids } from './lib/server.mjs';

let server;
let amy;
let bo;
before(async () => {
  server = await startServer();
  amy = await signup(server, 'amy');
  bo = await signup(server, 'bo');
  await bo.api.request('following/create', { userId: amy.id });
});
after(async () => { await server?.stop(); });

test('a note comes back in Misskey shape with mentions and hashtags extracted', async () => {
  const { createdNote: n } = await amy.api.request('notes/create', { text: 'hi @bo and @nobody #Tsudoi', cw: 'spoiler' });
  assert.equal(n.text, 'hi @bo and @nobody #Tsudoi');
  assert.equal(n.cw, 'spoiler');
  assert.equal(n.userId, amy.id);
  assert.equal(n.user.username, 'amy');
  assert.equal(n.visibility, 'public');
  assert.equal(n.localOnly, false);
  assert.deepEqual(n.mentions, [bo.id]);
  assert.deepEqual(n.tags, ['tsudoi']);
  assert.equal(n.renoteCount, 0);
  assert.equal(n.repliesCount, 0);
  assert.deepEqual(n.reactions, {});
  assert.deepEqual(n.fileIds, []);
  assert.equal(n.id.length, 16);
  const shown = await server.client().request('notes/show', { noteId: n.id });
  assert.equal(shown.text, n.text);
  const mentions = await bo.api.request('notes/mentions', {});
  assert.deepEqual(ids(mentions), [n.id]);
});

test('reply, renote and quote keep counts and embed their targets', async () => {
  const { createdNote: root } = await amy.api.request('notes/create', { text: 'root' });
  const { createdNote: reply } = await bo.api.request('notes/create', { text: 'a reply', replyId: root.id });
  assert.equal(reply.replyId, root.id);
  assert.equal(reply.reply.id, root.id);
  assert.deepEqual(reply.mentions, [amy.id], 'replying mentions the author replied to');
  const { createdNote: renote } = await bo.api.request('notes/create', { renoteId: root.id });
  assert.equal(renote.text, null);
  assert.equal(renote.renote.text, 'root');
  const { createdNote: quote } = await bo.api.request('notes/create', { text: 'look', renoteId: root.id });
  assert.equal(quote.renote.id, root.id);

  const after = await server.client().request('notes/show', { noteId: root.id });
  assert.equal(after.repliesCount, 1);
  assert.equal(after.renoteCount, 2);
  assert.deepEqual(ids(await server.client().request('notes/children', { noteId: root.id })), [quote.id, reply.id]);
  assert.deepEqual(ids(await server.client().request('notes/replies', { noteId: root.id })), [reply.id]);
  assert.deepEqual(ids(await server.client().request('notes/renotes', { noteId: root.id })), [quote.id, renote.id]);

  const pure = await apiError(() => amy.api.request('notes/create', { renoteId: renote.id }));
  assert.equal(pure.code, 'CANNOT_RENOTE_TO_A_PURE_RENOTE');
  const pureReply = await apiError(() => amy.api.request('notes/create', { text: 'x', replyId: renote.id }));
  assert.equal(pureReply.code, 'CANNOT_REPLY_TO_A_PURE_RENOTE');

  await bo.api.request('notes/unrenote', { noteId: root.id });
  assert.deepEqual(ids(await server.client().request('notes/renotes', { noteId: root.id })), [quote.id], 'unrenote removes pure renotes only');
  assert.equal((await server.client().request('notes/show', { noteId: root.id })).renoteCount, 1);
});

test('renotes are never more visible than what they renote', async () => {
  const { createdNote: home } = await amy.api.request('notes/create', { text: 'home note', visibility: 'home' });
  const { createdNote: r } = await bo.api.request('notes/create', { renoteId: home.id, visibility: 'public' });
  assert.equal(r.visibility, 'home');
  const { createdNote: mine } = await amy.api.request('notes/create', { text: 'followers', visibility: 'followers' });
  const { createdNote: self } = await amy.api.request('notes/create', { renoteId: mine.id });
  assert.equal(self.visibility, 'followers');
  const other = await apiError(() => bo.api.request('notes/create', { renoteId: mine.id }));
  assert.equal(other.code, 'CANNOT_RENOTE_DUE_TO_VISIBILITY');
  const { createdNote: reply } = await bo.api.request('notes/create', { text: 're', replyId: home.id, visibility: 'public' });
  assert.equal(reply.visibility, 'home', 'a public reply to a home note becomes home');
});

test('polls: vote once per choice, multiple choice, expiry', async () => {
  const { createdNote: n } = await amy.api.request('notes/create', { text: 'pick', poll: { choices: ['a', 'b', 'c'] } });
  assert.deepEqual(n.poll.choices.map((c) => c.votes), [0, 0, 0]);
  assert.equal(n.poll.multiple, false);
  assert.equal(n.poll.expiresAt, null);
  assert.equal(await bo.api.request('notes/polls/vote', { noteId: n.id, choice: 1 }), null);
  const again = await apiError(() => bo.api.request('notes/polls/vote', { noteId: n.id, choice: 2 }));
  assert.equal(again.code, 'ALREADY_VOTED');
  const bad = await apiError(() => amy.api.request('notes/polls/vote', { noteId: n.id, choice: 3 }));
  assert.equal(bad.code, 'INVALID_CHOICE');
  const seen = await bo.api.request('notes/show', { noteId: n.id });
  assert.deepEqual(seen.poll.choices.map((c) => [c.votes, c.isVoted]), [[0, false], [1, true], [0, false]]);
  const amyView = await amy.api.request('notes/show', { noteId: n.id });
  assert.deepEqual(amyView.poll.choices.map((c) => c.isVoted), [false, false, false]);

  // Votes on different choices sent at once: a single-choice poll keeps exactly one.
  const { createdNote: race } = await amy.api.request('notes/create', { text: 'race', poll: { choices: ['a', 'b', 'c', 'd'] } });
  const cast = await Promise.allSettled([0, 1, 2, 3, 0, 1, 2, 3].map((choice) => bo.api.request('notes/polls/vote', { noteId: race.id, choice })));
  assert.equal(cast.filter((r) => r.status === 'fulfilled').length, 1);
  assert.ok(cast.filter((r) => r.status === 'rejected').every((r) => r.reason.code === 'ALREADY_VOTED'));
  const raced = await bo.api.request('notes/show', { noteId: race.id });
  assert.equal(raced.poll.choices.reduce((sum, c) => sum + c.votes, 0), 1);

  const { createdNote: multi } = await amy.api.request('notes/create', { text: 'many', poll: { choices: ['x', 'y'], multiple: true } });
  await bo.api.request('notes/polls/vote', { noteId: multi.id, choice: 0 });
  await bo.api.request('notes/polls/vote', { noteId: multi.id, choice: 1 });
  const dup = await apiError(() => bo.api.request('notes/polls/vote', { noteId: multi.id, choice: 1 }));
  assert.equal(dup.code, 'ALREADY_VOTED');

  const { createdNote: short } = await amy.api.request('notes/create', { text: 'quick', poll: { choices: ['x', 'y'], expiredAfter: 300 } });
  assert.ok(Date.parse(short.poll.expiresAt) > Date.now());
  await new Promise((r) => setTimeout(r, 400));
  const late = await apiError(() => bo.api.request('notes/polls/vote', { noteId: short.id, choice: 0 }));
  assert.equal(late.code, 'ALREADY_EXPIRED');
  const past = await apiError(() => amy.api.request('notes/create', { text: 'old', poll: { choices: ['x', 'y'], expiresAt: Date.now() - 1000 } }));
  assert.equal(past.code, 'CANNOT_CREATE_ALREADY_EXPIRED_POLL');
  const one = await apiError(() => amy.api.request('notes/create', { text: 'one', poll: { choices: ['only'] } }));
  assert.equal(one.code, 'INVALID_PARAM');
  const { createdNote: plain } = await amy.api.request('notes/create', { text: 'plain' });
  const noPoll = await apiError(() => bo.api.request('notes/polls/vote', { noteId: plain.id, choice: 0 }));
  assert.equal(noPoll.code, 'NO_POLL');
});

test('deleting a note removes it everywhere and only its author may', async () => {
  const { createdNote: n } = await amy.api.request('notes/create', { text: 'to delete' });
  const denied = await apiError(() => bo.api.request('notes/delete', { noteId: n.id }));
  assert.equal(denied.code, 'ACCESS_DENIED');
  assert.ok(ids(await bo.api.request('notes/timeline', {})).includes(n.id));
  const before = (await server.client().request('users/show', { userId: amy.id })).notesCount;
  assert.equal(await amy.api.request('notes/delete', { noteId: n.id }), null);
  assert.equal((await apiError(() => server.client().request('notes/show', { noteId: n.id }))).code, 'NO_SUCH_NOTE');
  assert.ok(!ids(await bo.api.request('notes/timeline', {})).includes(n.id));
  assert.ok(!ids(await server.client().request('notes/local-timeline', { limit: 100 })).includes(n.id));
  assert.equal((await server.client().request('users/show', { userId: amy.id })).notesCount, before - 1);
  const gone = await apiError(() => amy.api.request('notes/delete', { noteId: n.id }));
  assert.equal(gone.code, 'NO_SUCH_NOTE');
});
