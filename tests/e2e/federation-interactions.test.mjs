// Interactions across three Tsudoi servers, as Misskey federates them. A reaction is a Like
// (with `_misskey_reaction` and an Emoji tag for a custom emoji) sent to the note's author
// and to the reacting user's followers, so a third server that has the note learns it too;
// taking it back is an Undo; a note's custom emoji travel as Emoji tags. A poll is a
// Question; a vote a reply naming the choice, sent to the poll's server, which sends the new
// counts to the others. A quote carries `_misskey_quote` and reaches the quoted author.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, createAdmin, eventually } from './lib/server.mjs';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

const federating = {
  TSUDOI_FEDERATION_ALLOW_PRIVATE: 'true',
  // The media proxy fetches the other servers' emoji, on loopback here.
  TSUDOI_ALLOWED_PRIVATE_NETWORKS: '127.0.0.1/32',
  TSUDOI_FEDERATION_RETRY_BASE_MS: '200',
};

/** Where `server` shows another server's emoji image: through its media proxy. */
const proxied = (server, url) => `${server.origin}/proxy/emoji.webp?url=${encodeURIComponent(url)}&emoji=1`;

let a;
let b;
let c;
let adminA;
let adminB;
before(async () => {
  [a, b, c] = await Promise.all([startServer(federating), startServer(federating), startServer(federating)]);
  adminA = await createAdmin(a, 'boss');
  adminB = await createAdmin(b, 'boss');
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
});

const hostOf = (server) => new URL(server.origin).host;

async function addEmoji(server, admin, name) {
  const form = new FormData();
  form.append('i', admin.token);
  form.append('name', name);
  form.append('file', new Blob([PNG]), `${name}.png`);
  const res = await fetch(`${server.origin}/api/admin/emoji/add`, { method: 'POST', body: form });
  assert.equal(res.status, 200);
  return res.json();
}

/** `viewer` follows `username` of `server`, and waits until that server knows. */
async function follow(viewer, username, server) {
  const target = await viewer.api.request('users/show', { username, host: hostOf(server) });
  await viewer.api.request('following/create', { userId: target.id });
  await eventually(async () => {
    const local = await server.client().request('users/show', { username });
    const followers = await server.client().request('users/followers', { userId: local.id });
    assert.ok(followers.some((f) => f.follower.username === viewer.username));
  });
  return target;
}

/** The copy on `viewer`'s server of the note whose text is `text`, from their home timeline. */
async function arrived(viewer, text) {
  return eventually(async () => {
    const n = (await viewer.api.request('notes/timeline', {})).find((x) => x.text === text);
    assert.ok(n, `"${text}" arrived`);
    return n;
  });
}

test('a custom emoji reaction reaches the author and the reacting user\'s followers, and its Undo too', async () => {
  const blobcat = await addEmoji(b, adminB, 'blobcat');
  const alice = await signup(a, 'alice');
  const bob = await signup(b, 'bob');
  const carol = await signup(c, 'carol');
  await follow(bob, 'alice', a);
  await follow(carol, 'alice', a);
  await follow(carol, 'bob', b);

  const { createdNote: original } = await alice.api.request('notes/create', { text: 'react from afar' });
  const onB = await arrived(bob, 'react from afar');
  const onC = await arrived(carol, 'react from afar');

  await bob.api.request('notes/reactions/create', { noteId: onB.id, reaction: ':blobcat:' });
  // On bob's server it is a local emoji…
  const seenByBob = await bob.api.request('notes/show', { noteId: onB.id });
  assert.deepEqual(seenByBob.reactions, { ':blobcat@.:': 1 });
  assert.equal(seenByBob.myReaction, ':blobcat@.:');

  // …on alice's, the emoji of bob's server, with its image.
  const remoteKey = `:blobcat@${hostOf(b)}:`;
  await eventually(async () => {
    const n = await alice.api.request('notes/show', { noteId: original.id });
    assert.deepEqual(n.reactions, { [remoteKey]: 1 });
    assert.equal(n.reactionCount, 1);
    assert.deepEqual(n.reactionEmojis, { [`blobcat@${hostOf(b)}`]: proxied(a, blobcat.url) });
    assert.equal(n.myReaction, null);
  });
  const [reaction] = await alice.api.request('notes/reactions', { noteId: original.id });
  assert.equal(reaction.type, remoteKey);
  assert.equal(reaction.user.username, 'bob');
  assert.equal(reaction.user.host, hostOf(b));
  const image = await fetch((await alice.api.request('notes/show', { noteId: original.id })).reactionEmojis[`blobcat@${hostOf(b)}`]);
  assert.equal(image.headers.get('content-type'), 'image/png');
  // Misskey's web client asks alice's server for the emoji by name; it points at bob's
  // image through the proxy.
  const byName = await fetch(`${a.origin}/emoji/blobcat@${hostOf(b)}.webp`, { redirect: 'manual' });
  assert.equal(byName.headers.get('location'), proxied(a, blobcat.url));

  // Carol's server has the note and follows bob: it got the Like as well.
  await eventually(async () => {
    const n = await carol.api.request('notes/show', { noteId: onC.id });
    assert.deepEqual(n.reactions, { [remoteKey]: 1 });
  });

  // The Like answers at its id while it stands.
  const likeDocs = await fetch(`${b.origin}/likes/${(await bob.api.request('notes/reactions', { noteId: onB.id }))[0].id}`, {
    headers: { accept: 'application/activity+json' },
  });
  const like = await likeDocs.json();
  assert.equal(like.type, 'Like');
  assert.equal(like._misskey_reaction, ':blobcat:');
  assert.equal(like.object, `${a.origin}/notes/${original.id}`);
  assert.equal(like.tag[0].type, 'Emoji');
  assert.equal(like.tag[0].name, ':blobcat:');
  assert.equal(like.tag[0].icon.url, blobcat.url);

  // A change of reaction is an Undo and a new Like; taking it back an Undo.
  await bob.api.request('notes/reactions/create', { noteId: onB.id, reaction: '🎉' });
  await eventually(async () => {
    assert.deepEqual((await alice.api.request('notes/show', { noteId: original.id })).reactions, { '🎉': 1 });
    assert.deepEqual((await carol.api.request('notes/show', { noteId: onC.id })).reactions, { '🎉': 1 });
  });
  await bob.api.request('notes/reactions/delete', { noteId: onB.id });
  await eventually(async () => {
    const n = await alice.api.request('notes/show', { noteId: original.id });
    assert.deepEqual(n.reactions, {});
    assert.equal(n.reactionCount, 0);
    assert.deepEqual((await carol.api.request('notes/show', { noteId: onC.id })).reactions, {});
  });
});

test('the author\'s own reaction and a like-only note, seen from other servers', async () => {
  const dora = await signup(a, 'dora');
  const ed = await signup(b, 'ed');
  await follow(ed, 'dora', a);
  const { createdNote: note } = await dora.api.request('notes/create', { text: 'likes only please', reactionAcceptance: 'likeOnlyForRemote' });
  const onB = await arrived(ed, 'likes only please');
  // Dora's own reaction reaches her followers' servers.
  await dora.api.request('notes/reactions/create', { noteId: note.id, reaction: '👀' });
  await eventually(async () => {
    assert.deepEqual((await ed.api.request('notes/show', { noteId: onB.id })).reactions, { '👀': 1 });
  });
  // Ed, being remote to dora's note, may only like it: dora's server makes it ❤.
  await ed.api.request('notes/reactions/create', { noteId: onB.id, reaction: '🎉' });
  await eventually(async () => {
    assert.deepEqual((await dora.api.request('notes/show', { noteId: note.id })).reactions, { '👀': 1, '❤': 1 });
  });
});

test('custom emoji in a note\'s text travel as Emoji tags and show with their images', async () => {
  const party = await addEmoji(a, adminA, 'party');
  const fay = await signup(a, 'fay');
  const gus = await signup(b, 'gus');
  await follow(gus, 'fay', a);
  const { createdNote: note } = await fay.api.request('notes/create', { text: 'time to :party: and :unknown:' });
  const doc = await (await fetch(`${a.origin}/notes/${note.id}`, { headers: { accept: 'application/activity+json' } })).json();
  const tag = doc.tag.find((t) => t.type === 'Emoji');
  assert.equal(tag.name, ':party:');
  assert.equal(tag.icon.url, party.url);
  assert.equal(tag.icon.mediaType, 'image/png');
  assert.equal(doc.tag.filter((t) => t.type === 'Emoji').length, 1, 'only emoji that exist are tagged');
  const emojiDoc = await (await fetch(tag.id, { headers: { accept: 'application/activity+json' } })).json();
  assert.equal(emojiDoc.type, 'Emoji');

  const onB = await arrived(gus, 'time to :party: and :unknown:');
  assert.deepEqual(onB.emojis, { party: proxied(b, party.url) });
});

test('polls cross servers as Questions; a vote reaches the poll\'s server, and the new counts the others', async () => {
  const hana = await signup(a, 'hana');
  const ivan = await signup(b, 'ivan');
  const jun = await signup(c, 'jun');
  await follow(ivan, 'hana', a);
  await follow(jun, 'hana', a);
  const { createdNote: poll } = await hana.api.request('notes/create', {
    text: 'what do you drink?', poll: { choices: ['tea', 'coffee', 'water'], expiredAfter: 3_600_000 },
  });
  const doc = await (await fetch(`${a.origin}/notes/${poll.id}`, { headers: { accept: 'application/activity+json' } })).json();
  assert.equal(doc.type, 'Question');
  assert.deepEqual(doc.oneOf.map((o) => o.name), ['tea', 'coffee', 'water']);
  assert.ok(doc.endTime);

  const onB = await arrived(ivan, 'what do you drink?');
  assert.deepEqual(onB.poll.choices.map((ch) => [ch.text, ch.votes, ch.isVoted]), [['tea', 0, false], ['coffee', 0, false], ['water', 0, false]]);
  assert.equal(onB.poll.multiple, false);
  assert.equal(onB.poll.expiresAt, poll.poll.expiresAt);
  const onC = await arrived(jun, 'what do you drink?');

  await ivan.api.request('notes/polls/vote', { noteId: onB.id, choice: 1 });
  const votedOnB = await ivan.api.request('notes/show', { noteId: onB.id });
  assert.deepEqual(votedOnB.poll.choices.map((ch) => [ch.votes, ch.isVoted]), [[0, false], [1, true], [0, false]]);
  // Hana's server counts it…
  await eventually(async () => {
    const n = await hana.api.request('notes/show', { noteId: poll.id });
    assert.deepEqual(n.poll.choices.map((ch) => ch.votes), [0, 1, 0]);
  });
  // …and tells the servers of her followers.
  await eventually(async () => {
    const n = await jun.api.request('notes/show', { noteId: onC.id });
    assert.deepEqual(n.poll.choices.map((ch) => [ch.votes, ch.isVoted]), [[0, false], [1, false], [0, false]]);
  });
  const twice = await ivan.api.request('notes/polls/vote', { noteId: onB.id, choice: 2 }).catch((e) => e);
  assert.equal(twice.code, 'ALREADY_VOTED');
  await hana.api.request('notes/polls/vote', { noteId: poll.id, choice: 0 });
  assert.deepEqual((await hana.api.request('notes/show', { noteId: poll.id })).poll.choices.map((ch) => ch.votes), [1, 1, 0]);

  // Several choices, the other way round.
  await follow(hana, 'ivan', b);
  const { createdNote: multi } = await ivan.api.request('notes/create', {
    text: 'pick any', poll: { choices: ['red', 'green', 'blue'], multiple: true },
  });
  const multiOnA = await arrived(hana, 'pick any');
  assert.equal(multiOnA.poll.multiple, true);
  assert.equal(multiOnA.poll.expiresAt, null);
  await hana.api.request('notes/polls/vote', { noteId: multiOnA.id, choice: 0 });
  await hana.api.request('notes/polls/vote', { noteId: multiOnA.id, choice: 2 });
  await eventually(async () => {
    const n = await ivan.api.request('notes/show', { noteId: multi.id });
    assert.deepEqual(n.poll.choices.map((ch) => ch.votes), [1, 0, 1]);
  });
});

test('a quote across servers reaches the quoted author and embeds what it quotes', async () => {
  const kai = await signup(a, 'kai');
  const lin = await signup(b, 'lin');
  await follow(lin, 'kai', a);
  const { createdNote: original } = await kai.api.request('notes/create', { text: 'quote me' });
  const onB = await arrived(lin, 'quote me');
  const { createdNote: quote } = await lin.api.request('notes/create', { text: 'so true', renoteId: onB.id });
  const doc = await (await fetch(`${b.origin}/notes/${quote.id}`, { headers: { accept: 'application/activity+json' } })).json();
  assert.equal(doc._misskey_quote, `${a.origin}/notes/${original.id}`);
  assert.equal(doc.quoteUrl, doc._misskey_quote);
  assert.match(doc.content, /RE: <a href="http:\/\/127\.0\.0\.1:\d+\/notes\//);
  // Kai's server got it though kai does not follow lin, as the quoted author.
  const onA = await eventually(async () => {
    const quotes = await kai.api.request('notes/renotes', { noteId: original.id });
    assert.equal(quotes.length, 1);
    return quotes[0];
  });
  assert.equal(onA.text, 'so true');
  assert.equal(onA.renoteId, original.id);
  assert.equal(onA.renote.text, 'quote me');
  assert.equal(onA.user.host, hostOf(b));
});

test('/tags/{tag} shows the public notes with a hashtag, local and from other servers', async () => {
  const mia = await signup(a, 'mia');
  const ned = await signup(b, 'ned');
  await follow(mia, 'ned', b);
  await mia.api.request('notes/create', { text: 'local #Gardening note' });
  await mia.api.request('notes/create', { text: 'quiet #gardening note', visibility: 'home' });
  await ned.api.request('notes/create', { text: 'remote #ＧＡＲＤＥＮＩＮＧ note' });
  await arrived(mia, 'remote #ＧＡＲＤＥＮＩＮＧ note');
  for (const path of ['/tags/gardening', '/tags/Gardening']) {
    const res = await fetch(`${a.origin}${path}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/html/);
    const html = await res.text();
    assert.match(html, /<meta property="og:title" content="#gardening">/);
    assert.match(html, /local <a[^>]*>#Gardening<\/a> note/);
    assert.match(html, /remote <a[^>]*>#ＧＡＲＤＥＮＩＮＧ<\/a> note/);
    assert.match(html, new RegExp(`@ned@${hostOf(b).replace(/[.]/g, '\\.')}`));
    assert.doesNotMatch(html, /quiet/);
  }
  assert.match(await (await fetch(`${a.origin}/tags/nothing-here`)).text(), /No public notes/);
});

test('a block between servers: the follows end on both, and the blocked user can neither follow, react nor reply until it is lifted', async () => {
  const ida = await signup(a, 'ida');
  const jon = await signup(b, 'jon');
  const jonOnA = await follow(ida, 'jon', b);
  const idaOnB = await follow(jon, 'ida', a);
  const { createdNote: post } = await ida.api.request('notes/create', { text: 'before the block' });
  const onB = await arrived(jon, 'before the block');
  const relationOnB = async () => (await jon.api.request('users/relation', { userId: [idaOnB.id] }))[0];

  await ida.api.request('blocking/create', { userId: jonOnA.id });
  // Jon's server learns it: no follows either way, and jon is told he is blocked.
  await eventually(async () => {
    const r = await relationOnB();
    assert.deepEqual([r.isBlocked, r.isFollowing, r.isFollowed], [true, false, false]);
  });
  const jonSeen = await jon.api.request('users/show', { userId: jon.id });
  assert.deepEqual([jonSeen.followingCount, jonSeen.followersCount], [0, 0]);
  await assert.rejects(jon.api.request('following/create', { userId: idaOnB.id }), (e) => e.code === 'BLOCKED');
  await assert.rejects(jon.api.request('notes/reactions/create', { noteId: onB.id, reaction: '👍' }), (e) => e.code === 'YOU_HAVE_BEEN_BLOCKED');
  await assert.rejects(jon.api.request('notes/create', { text: 'hello?', replyId: onB.id }), (e) => e.code === 'YOU_HAVE_BEEN_BLOCKED');
  const idaSeen = await ida.api.request('i', {});
  assert.deepEqual([idaSeen.followingCount, idaSeen.followersCount], [0, 0]);

  // Lifted: jon may follow and react again, and ida's server hears both.
  await ida.api.request('blocking/delete', { userId: jonOnA.id });
  await eventually(async () => assert.equal((await relationOnB()).isBlocked, false));
  await follow(jon, 'ida', a);
  await jon.api.request('notes/reactions/create', { noteId: onB.id, reaction: '👍' });
  await eventually(async () => assert.deepEqual((await ida.api.request('notes/show', { noteId: post.id })).reactions, { '👍': 1 }));
});
