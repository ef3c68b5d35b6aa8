// Tsudoi with a real ActivityPub implementation: Fedify 2.3.6 (scripts/setup-peers) on
// Node 22. Fedify follows a Tsudoi user and receives her notes; a Tsudoi user follows the
// Fedify actor and sees its notes. Fedify signs with RFC 9421 first (and keeps using it when
// it is accepted); a second peer is started on draft-cavage to check that form too. Reactions
// (Like, EmojiReact, their Undo) and polls (Question, votes, Update with counts) go both ways.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, eventually } from './lib/server.mjs';
import { startFedify } from './lib/fedify.mjs';

const federating = {
  TSUDOI_FEDERATION_ALLOW_PRIVATE: 'true',
  TSUDOI_FEDERATION_RETRY_BASE_MS: '200',
};

let tsudoi;
let fedify;
before(async () => {
  [tsudoi, fedify] = await Promise.all([startServer(federating), startFedify()]);
});
after(async () => {
  await Promise.all([tsudoi?.stop(), fedify?.stop()]);
});

test('Fedify follows a Tsudoi user (RFC 9421 signatures) and receives her notes', async () => {
  const alice = await signup(tsudoi, 'alice');
  const aliceUri = `${tsudoi.origin}/users/${alice.id}`;
  await fedify.control('follow', { actor: aliceUri });
  const accept = await fedify.waitFor((a) => a.type === 'Accept');
  assert.equal(accept.actor, aliceUri);
  const followers = await eventually(async () => {
    const list = await tsudoi.client().request('users/followers', { userId: alice.id });
    assert.equal(list.length, 1);
    return list;
  });
  assert.equal(followers[0].follower.username, 'fedi');
  assert.equal(followers[0].follower.host, new URL(fedify.origin).host);
  const outgoing = await fedify.control('outgoing');
  const posted = outgoing.filter((r) => r.method === 'POST' && r.url.startsWith(tsudoi.origin));
  assert.ok(posted.length >= 1);
  assert.equal(posted[0].spec, 'rfc9421', JSON.stringify(posted));
  assert.ok(posted[0].status < 300, JSON.stringify(posted));

  await alice.api.request('notes/create', { text: 'hello **Fedify**' });
  const create = await fedify.waitFor((a) => a.type === 'Create');
  assert.equal(create.actor, aliceUri);
  assert.match(create.note.content, /<b>Fedify<\/b>/);
  assert.ok(create.note.to.includes('https://www.w3.org/ns/activitystreams#Public'));
  assert.deepEqual(await fedify.control('unverified'), []);
});

test('a Tsudoi user follows the Fedify actor and sees its notes', async () => {
  const bob = await signup(tsudoi, 'bob');
  const found = await bob.api.request('ap/show', { uri: fedify.actorUrl });
  assert.equal(found.type, 'User');
  const fedi = found.object;
  assert.equal(fedi.username, 'fedi');
  await bob.api.request('following/create', { userId: fedi.id });
  await fedify.waitFor((a) => a.type === 'Follow' && a.actor === `${tsudoi.origin}/users/${bob.id}`);
  await eventually(async () => {
    const state = await fedify.control('state');
    assert.ok(JSON.stringify(state.followers).includes(`${tsudoi.origin}/users/${bob.id}`));
  });
  const { id } = await fedify.control('note', { content: '<p>hello from <em>Fedify</em></p>', to: 'public' });
  const seen = await eventually(async () => {
    const home = await bob.api.request('notes/timeline', {});
    const note = home.find((n) => n.uri === id);
    assert.ok(note, 'the note reached the home timeline');
    return note;
  }, 10_000);
  assert.equal(seen.user.id, fedi.id);
  assert.match(seen.text, /hello from/);
  assert.match(seen.text, /Fedify/);
  assert.equal(seen.visibility, 'public');
});

test('a Fedify peer signing draft-cavage is accepted too', async () => {
  const cavage = await startFedify({ actor: 'cav', firstKnock: 'draft-cavage-http-signatures-12' });
  try {
    const carol = await signup(tsudoi, 'carol');
    await cavage.control('follow', { actor: `${tsudoi.origin}/users/${carol.id}` });
    await cavage.waitFor((a) => a.type === 'Accept');
    const outgoing = await cavage.control('outgoing');
    const posted = outgoing.filter((r) => r.method === 'POST' && r.url.startsWith(tsudoi.origin));
    assert.equal(posted[0].spec, 'draft-cavage', JSON.stringify(posted));
    assert.ok(posted[0].status < 300);
  } finally {
    await cavage.stop();
  }
});

/** A new Tsudoi user following the Fedify actor (accepted), and the actor as Tsudoi has it. */
async function followFedify(username) {
  const user = await signup(tsudoi, username);
  const fedi = (await user.api.request('ap/show', { uri: fedify.actorUrl })).object;
  await user.api.request('following/create', { userId: fedi.id });
  await eventually(async () => {
    const state = await fedify.control('state');
    assert.ok(state.followers.includes(`${tsudoi.origin}/users/${user.id}`));
  });
  return { user, uri: `${tsudoi.origin}/users/${user.id}`, fedi };
}

/** The copy in `user`'s home timeline of the Fedify object `id`. */
function arrivedFromFedify(user, id) {
  return eventually(async () => {
    const note = (await user.api.request('notes/timeline', {})).find((n) => n.uri === id);
    assert.ok(note, `${id} reached the home timeline`);
    return note;
  }, 10_000);
}

test('reactions with Fedify: its Like, EmojiReact and their Undo count on a Tsudoi note; a Tsudoi reaction reaches it as a Like it verifies', async () => {
  const dana = await signup(tsudoi, 'dana');
  const { createdNote: post } = await dana.api.request('notes/create', { text: 'react, Fedify' });
  const postUri = `${tsudoi.origin}/notes/${post.id}`;
  const reactions = async () => (await dana.api.request('notes/show', { noteId: post.id })).reactions;

  const like = await fedify.control('like', { object: postUri });
  await eventually(async () => assert.deepEqual(await reactions(), { '❤': 1 }));
  await fedify.control('undo', { id: like.id });
  await eventually(async () => assert.deepEqual(await reactions(), {}));
  const react = await fedify.control('react', { object: postUri, emoji: '🎉' });
  await eventually(async () => assert.deepEqual(await reactions(), { '🎉': 1 }));
  const [who] = await dana.api.request('notes/reactions', { noteId: post.id });
  assert.equal(who.user.username, 'fedi');
  assert.equal(who.user.host, new URL(fedify.origin).host);
  await fedify.control('undo', { id: react.id });
  await eventually(async () => assert.deepEqual(await reactions(), {}));

  const { user: eli, uri: eliUri } = await followFedify('eli');
  const { id: noteId } = await fedify.control('note', { content: '<p>react to me</p>', to: 'public' });
  const seen = await arrivedFromFedify(eli, noteId);
  await eli.api.request('notes/reactions/create', { noteId: seen.id, reaction: '👍' });
  const got = await fedify.waitFor((a) => a.type === 'Like' && a.actor === eliUri);
  assert.equal(got.object, noteId);
  const sent = got.raw;
  assert.equal(sent._misskey_reaction, '👍');
  assert.equal(sent.content, '👍');
  await eli.api.request('notes/reactions/delete', { noteId: seen.id });
  const undo = await fedify.waitFor((a) => a.type === 'Undo' && a.actor === eliUri);
  assert.equal(undo.objectType, 'Like');
  assert.equal(undo.innerObject, noteId);
  assert.deepEqual(await fedify.control('unverified'), []);
});

test('polls with Fedify: its Question becomes a poll, a vote reaches it, its Update sets the counts; a Tsudoi poll reaches it as a Question and counts its vote', async () => {
  const { user: fay, uri: fayUri } = await followFedify('fay');
  const { id: questionId } = await fedify.control('question', { content: '<p>red or blue?</p>', choices: ['red', 'blue'] });
  const poll = await arrivedFromFedify(fay, questionId);
  assert.match(poll.text, /red or blue\?/);
  assert.deepEqual(poll.poll.choices.map((c) => [c.text, c.votes]), [['red', 0], ['blue', 0]]);
  assert.equal(poll.poll.multiple, false);

  await fay.api.request('notes/polls/vote', { noteId: poll.id, choice: 1 });
  const vote = await fedify.waitFor((a) => a.type === 'Create' && a.actor === fayUri && a.note?.inReplyTo === questionId);
  assert.equal(vote.note.name, 'blue');
  assert.deepEqual(vote.note.to, [fedify.actorUrl]);

  await fedify.control('question-update', { id: questionId, counts: [3, 5] });
  await eventually(async () => {
    const n = await fay.api.request('notes/show', { noteId: poll.id });
    assert.deepEqual(n.poll.choices.map((c) => [c.votes, c.isVoted]), [[3, false], [5, true]]);
  });

  // Fedify follows fay and gets her poll as a Question; its vote is counted, and the new
  // counts come back to it as an Update of the Question.
  await fedify.control('follow', { actor: fayUri });
  await fedify.waitFor((a) => a.type === 'Accept' && a.actor === fayUri);
  const { createdNote: mine } = await fay.api.request('notes/create', { text: 'tea or coffee?', poll: { choices: ['tea', 'coffee'] } });
  const mineUri = `${tsudoi.origin}/notes/${mine.id}`;
  const created = await fedify.waitFor((a) => a.type === 'Create' && a.object === mineUri);
  assert.equal(created.objectType, 'Question');
  assert.deepEqual(created.question.options, [{ name: 'tea', votes: 0 }, { name: 'coffee', votes: 0 }]);
  assert.equal(created.question.multiple, false);
  await fedify.control('vote', { question: mineUri, choice: 'coffee' });
  await eventually(async () => {
    const n = await fay.api.request('notes/show', { noteId: mine.id });
    assert.deepEqual(n.poll.choices.map((c) => c.votes), [0, 1]);
  });
  const updated = await fedify.waitFor((a) => a.type === 'Update' && a.object === mineUri);
  assert.equal(updated.objectType, 'Question');
  assert.deepEqual(updated.question.options.map((o) => o.votes), [0, 1]);
  assert.deepEqual(await fedify.control('unverified'), []);
});

test('a Tsudoi user blocks the Fedify actor: Fedify gets a Block it verifies, and its follow is refused until the Undo', async () => {
  const { user: gus, uri: gusUri, fedi } = await followFedify('gus');
  await gus.api.request('blocking/create', { userId: fedi.id });
  const block = await fedify.waitFor((a) => a.type === 'Block' && a.actor === gusUri);
  assert.equal(block.object, fedify.actorUrl);
  const undoFollow = await fedify.waitFor((a) => a.type === 'Undo' && a.actor === gusUri);
  assert.equal(undoFollow.objectType, 'Follow');
  await eventually(async () => assert.ok(!(await fedify.control('state')).followers.includes(gusUri)));

  await fedify.control('follow', { actor: gusUri });
  const rejected = await fedify.waitFor((a) => a.type === 'Reject' && a.actor === gusUri);
  assert.equal(rejected.objectType, 'Follow');
  assert.deepEqual(await tsudoi.client().request('users/followers', { userId: gus.id }), []);

  await gus.api.request('blocking/delete', { userId: fedi.id });
  const undo = await fedify.waitFor((a) => a.type === 'Undo' && a.actor === gusUri && a.objectType === 'Block');
  assert.equal(undo.innerObject, fedify.actorUrl);
  assert.deepEqual(await fedify.control('unverified'), []);
});
