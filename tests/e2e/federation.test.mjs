// Two Tsudoi servers on loopback, each with its own database, federating through their
// inboxes: discovery, follows (plain and locked), notes in each visibility, replies,
// mentions, deletions and unfollows, driven through misskey-js as users would.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, signup, apiError, eventually } from './lib/server.mjs';

const federating = {
  TSUDOI_FEDERATION_ALLOW_PRIVATE: 'true',
  TSUDOI_FEDERATION_RETRY_BASE_MS: '200',
};

let a;
let b;
before(async () => {
  [a, b] = await Promise.all([startServer(federating), startServer(federating)]);
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const hostOf = (server) => new URL(server.origin).host;

/** `username`'s account on `server` as `viewer` (on another server) sees it, found by WebFinger. */
async function remoteUser(viewer, username, server) {
  return viewer.api.request('users/show', { username, host: hostOf(server) });
}

test('WebFinger, host-meta, actors and notes answer ActivityPub JSON at the URLs pages use', async () => {
  const ada = await signup(a, 'ada');
  const finger = await fetch(`${a.origin}/.well-known/webfinger?resource=acct:ada@${hostOf(a)}`);
  assert.equal(finger.status, 200);
  assert.match(finger.headers.get('content-type'), /application\/jrd\+json/);
  const jrd = await finger.json();
  assert.equal(jrd.subject, `acct:ada@${hostOf(a)}`);
  const self = jrd.links.find((l) => l.rel === 'self');
  assert.equal(self.type, 'application/activity+json');
  assert.equal(self.href, `${a.origin}/users/${ada.id}`);
  assert.equal((await fetch(`${a.origin}/.well-known/webfinger?resource=acct:nobody@${hostOf(a)}`)).status, 404);
  assert.equal((await fetch(`${a.origin}/.well-known/webfinger?resource=acct:ada@elsewhere.example`)).status, 404);

  const hostMeta = await (await fetch(`${a.origin}/.well-known/host-meta`)).text();
  assert.match(hostMeta, /template="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/webfinger\?resource=\{uri\}"/);

  for (const accept of ['application/activity+json', 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"']) {
    const res = await fetch(self.href, { headers: { accept } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /application\/activity\+json/);
    const person = await res.json();
    assert.equal(person.type, 'Person');
    assert.equal(person.id, self.href);
    assert.equal(person.preferredUsername, 'ada');
    assert.equal(person.inbox, `${self.href}/inbox`);
    assert.equal(person.endpoints.sharedInbox, `${a.origin}/inbox`);
    assert.equal(person.publicKey.id, `${self.href}#main-key`);
    assert.equal(person.publicKey.owner, self.href);
    assert.match(person.publicKey.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(person.manuallyApprovesFollowers, false);
  }
  // The same actor at its profile page, by content negotiation; a browser gets HTML.
  const viaPage = await (await fetch(`${a.origin}/@ada`, { headers: { accept: 'application/activity+json' } })).json();
  assert.equal(viaPage.id, self.href);
  const page = await fetch(`${a.origin}/@ada`);
  assert.match(page.headers.get('content-type'), /text\/html/);
  const html = await page.text();
  assert.match(html, /<meta property="og:title" content="ada \(@ada@127\.0\.0\.1:\d+\)">/);
  const browserActor = await fetch(self.href, { redirect: 'manual' });
  assert.equal(browserActor.status, 303);
  assert.equal(browserActor.headers.get('location'), '/@ada');

  const note = (await ada.api.request('notes/create', { text: 'hello **fediverse** #tsudoi' })).createdNote;
  const doc = await (await fetch(`${a.origin}/notes/${note.id}`, { headers: { accept: 'application/activity+json' } })).json();
  assert.equal(doc.type, 'Note');
  assert.equal(doc.id, `${a.origin}/notes/${note.id}`);
  assert.equal(doc.attributedTo, self.href);
  assert.equal(doc._misskey_content, 'hello **fediverse** #tsudoi');
  assert.deepEqual(doc.source, { content: 'hello **fediverse** #tsudoi', mediaType: 'text/x.misskeymarkdown' });
  assert.match(doc.content, /<b>fediverse<\/b>/);
  assert.deepEqual(doc.to, ['https://www.w3.org/ns/activitystreams#Public']);
  assert.deepEqual(doc.cc, [`${self.href}/followers`]);
  assert.ok(doc.tag.some((t) => t.type === 'Hashtag' && t.name === '#tsudoi'));
  const secret = (await ada.api.request('notes/create', { text: 'just followers', visibility: 'followers' })).createdNote;
  assert.equal((await fetch(`${a.origin}/notes/${secret.id}`, { headers: { accept: 'application/activity+json' } })).status, 404);

  const home = await (await fetch(`${a.origin}/`)).text();
  assert.match(home, /Misskey app/);

});

test('a follow across servers, then notes in each visibility reach exactly whom they should', async () => {
  const alice = await signup(a, 'alice');
  const amy = await signup(a, 'amy');
  const bob = await signup(b, 'bob');
  const bea = await signup(b, 'bea');

  const aliceOnB = await remoteUser(bob, 'alice', a);
  assert.equal(aliceOnB.host, hostOf(a));
  assert.equal(aliceOnB.uri, `${a.origin}/users/${alice.id}`);
  await bob.api.request('following/create', { userId: aliceOnB.id });
  const [rel] = await bob.api.request('users/relation', { userId: [aliceOnB.id] });
  assert.equal(rel.isFollowing, true);

  // Alice's server learns of the follow through its inbox.
  await eventually(async () => {
    const followers = await a.client().request('users/followers', { userId: alice.id });
    assert.equal(followers.length, 1);
    assert.equal(followers[0].follower.username, 'bob');
    assert.equal(followers[0].follower.host, hostOf(b));
  });

  const bobOnA = (await a.client().request('users/followers', { userId: alice.id }))[0].follower;
  const posted = {};
  for (const visibility of ['public', 'home', 'followers']) {
    posted[visibility] = (await alice.api.request('notes/create', { text: `a ${visibility} note`, visibility })).createdNote;
  }
  posted.toBob = (await alice.api.request('notes/create', {
    text: 'only for bob', visibility: 'specified', visibleUserIds: [bobOnA.id],
  })).createdNote;
  posted.toAmy = (await alice.api.request('notes/create', {
    text: 'only for amy', visibility: 'specified', visibleUserIds: [amy.id],
  })).createdNote;

  const onB = await eventually(async () => {
    const home = await bob.api.request('notes/timeline', { limit: 20 });
    const texts = home.map((n) => n.text);
    for (const t of ['a public note', 'a home note', 'a followers note', 'only for bob']) {
      assert.ok(texts.includes(t), `${t} reached bob: ${texts}`);
    }
    return home;
  }, 10_000);
  const byText = Object.fromEntries(onB.map((n) => [n.text, n]));
  assert.equal(byText['a public note'].visibility, 'public');
  assert.equal(byText['a home note'].visibility, 'home');
  assert.equal(byText['a followers note'].visibility, 'followers');
  assert.equal(byText['only for bob'].visibility, 'specified');
  assert.equal(byText['a public note'].user.host, hostOf(a));
  assert.equal(byText['a public note'].uri, `${a.origin}/notes/${posted.public.id}`);
  assert.ok(!onB.some((n) => n.text === 'only for amy'), 'a note for someone else never left its server');

  // Bea, on the same server but not a follower, sees only what was public.
  const asBea = await bea.api.request('users/notes', { userId: aliceOnB.id });
  const beaTexts = asBea.map((n) => n.text);
  assert.ok(beaTexts.includes('a public note'));
  assert.ok(!beaTexts.includes('a followers note'));
  assert.ok(!beaTexts.includes('only for bob'));
  const global = await bea.api.request('notes/global-timeline', {});
  assert.ok(global.some((n) => n.text === 'a public note'));
  assert.ok(!global.some((n) => n.text === 'a home note'));

  // A reply from bob reaches alice's server, threaded under her note, and mentions her.
  const remoteNote = byText['a public note'];
  const reply = (await bob.api.request('notes/create', { text: 'nice one', replyId: remoteNote.id })).createdNote;
  await eventually(async () => {
    const replies = await alice.api.request('notes/replies', { noteId: posted.public.id });
    assert.deepEqual(replies.map((n) => n.text), ['nice one']);
    const mentions = await alice.api.request('notes/mentions', {});
    assert.ok(mentions.some((n) => n.text === 'nice one'));
  }, 10_000);

  // A mention of someone bob's server has never heard of, resolved through WebFinger when
  // posting.
  await bob.api.request('notes/create', { text: `hi @amy@${hostOf(a)}` });
  await eventually(async () => {
    const mentions = await amy.api.request('notes/mentions', {});
    assert.ok(mentions.some((n) => n.text === `hi @amy@${hostOf(a)}`));
  }, 10_000);

  // Deleting on A deletes on B; so does deleting the reply on B for A.
  await alice.api.request('notes/delete', { noteId: posted.home.id });
  await bob.api.request('notes/delete', { noteId: reply.id });
  await eventually(async () => {
    const home = await bob.api.request('notes/timeline', { limit: 20 });
    assert.ok(!home.some((n) => n.text === 'a home note'));
    const replies = await alice.api.request('notes/replies', { noteId: posted.public.id });
    assert.deepEqual(replies, []);
  }, 10_000);

  // Unfollowing reaches A.
  await bob.api.request('following/delete', { userId: aliceOnB.id });
  await eventually(async () => {
    const me = await alice.api.request('i', {});
    assert.equal(me.followersCount, 0);
  });
  // Ada, alice and amy: the instance actor, which signed a's fetches, is nobody's account.
  const info = await (await fetch(`${a.origin}/nodeinfo/2.1`)).json();
  assert.equal(info.usage.users.total, 3);
});

test('a locked account accepts one follow request from another server and rejects another', async () => {
  const carol = await signup(a, 'carol');
  await carol.api.request('i/update', { isLocked: true });
  const dan = await signup(b, 'dan');
  const eve = await signup(b, 'eve');

  const carolOnB = await remoteUser(dan, 'carol', a);
  assert.equal(carolOnB.isLocked, true);
  await dan.api.request('following/create', { userId: carolOnB.id });
  await eve.api.request('following/create', { userId: carolOnB.id });
  const [pending] = await dan.api.request('users/relation', { userId: [carolOnB.id] });
  assert.equal(pending.isFollowing, false);
  assert.equal(pending.hasPendingFollowRequestFromYou, true);

  const requests = await eventually(async () => {
    const list = await carol.api.request('following/requests/list', {});
    assert.equal(list.length, 2);
    return list;
  });
  const from = (name) => requests.find((r) => r.follower.username === name).follower;
  await carol.api.request('following/requests/accept', { userId: from('dan').id });
  await carol.api.request('following/requests/reject', { userId: from('eve').id });

  await eventually(async () => {
    const [danRel] = await dan.api.request('users/relation', { userId: [carolOnB.id] });
    assert.equal(danRel.isFollowing, true);
    assert.equal(danRel.hasPendingFollowRequestFromYou, false);
    const [eveRel] = await eve.api.request('users/relation', { userId: [carolOnB.id] });
    assert.equal(eveRel.isFollowing, false);
    assert.equal(eveRel.hasPendingFollowRequestFromYou, false);
  });
  const note = (await carol.api.request('notes/create', { text: 'for my followers', visibility: 'followers' })).createdNote;
  await eventually(async () => {
    const home = await dan.api.request('notes/timeline', {});
    assert.ok(home.some((n) => n.uri === `${a.origin}/notes/${note.id}`));
  });
});

test('renotes and profile updates cross servers, and so does taking a renote back', async () => {
  const kim = await signup(a, 'kim');
  const lee = await signup(b, 'lee');
  const kimOnB = await remoteUser(lee, 'kim', a);
  await lee.api.request('following/create', { userId: kimOnB.id });
  const leeOnA = await eventually(async () => {
    const followers = await a.client().request('users/followers', { userId: kim.id });
    assert.equal(followers.length, 1);
    return followers[0].follower;
  });
  await kim.api.request('following/create', { userId: leeOnA.id });
  const original = (await kim.api.request('notes/create', { text: 'worth spreading' })).createdNote;
  const onB = await eventually(async () => {
    const home = await lee.api.request('notes/timeline', {});
    const n = home.find((x) => x.text === 'worth spreading');
    assert.ok(n);
    return n;
  });
  // Lee's renote is an Announce: kim's server stores it as lee's renote of her note.
  await lee.api.request('notes/create', { renoteId: onB.id });
  await eventually(async () => {
    const home = await kim.api.request('notes/timeline', {});
    const renote = home.find((x) => x.renoteId === original.id && x.user.username === 'lee');
    assert.ok(renote, 'the renote arrived');
    assert.equal(renote.text, null);
    const shown = await kim.api.request('notes/show', { noteId: original.id });
    assert.equal(shown.renoteCount, 1);
  });
  // Undo of the Announce.
  await lee.api.request('notes/unrenote', { noteId: onB.id });
  await eventually(async () => {
    const shown = await kim.api.request('notes/show', { noteId: original.id });
    assert.equal(shown.renoteCount, 0);
  });
  // A profile change reaches the servers of her followers.
  await kim.api.request('i/update', { name: 'Kim K.', description: 'now with a **bio**' });
  await eventually(async () => {
    const seen = await lee.api.request('users/show', { userId: kimOnB.id });
    assert.equal(seen.name, 'Kim K.');
    assert.equal(seen.description, 'now with a **bio**');
  });
});

test('ap/show finds users and notes of another server by id or by @user@host', async () => {
  const fay = await signup(a, 'fay');
  const gus = await signup(b, 'gus');
  const note = (await fay.api.request('notes/create', { text: 'find me' })).createdNote;

  const user = await gus.api.request('ap/show', { uri: `@fay@${hostOf(a)}` });
  assert.equal(user.type, 'User');
  assert.equal(user.object.username, 'fay');
  assert.equal(user.object.host, hostOf(a));
  const found = await gus.api.request('ap/show', { uri: `${a.origin}/notes/${note.id}` });
  assert.equal(found.type, 'Note');
  assert.equal(found.object.text, 'find me');
  assert.equal(found.object.user.id, user.object.id);
  const missing = await apiError(() => gus.api.request('ap/show', { uri: `${a.origin}/notes/nothinghere0` }));
  assert.equal(missing.code, 'NO_SUCH_OBJECT');
});

test('an inbox refuses unsigned and oversized requests and stores nothing', async () => {
  const hal = await signup(a, 'hal');
  const activity = {
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: 'http://127.0.0.1:1/activities/1',
    type: 'Create',
    actor: 'http://127.0.0.1:1/users/mallory',
    object: { id: 'http://127.0.0.1:1/notes/1', type: 'Note', attributedTo: 'http://127.0.0.1:1/users/mallory', content: 'spam', to: ['https://www.w3.org/ns/activitystreams#Public'] },
  };
  for (const inbox of [`${a.origin}/inbox`, `${a.origin}/users/${hal.id}/inbox`]) {
    const res = await fetch(inbox, {
      method: 'POST',
      headers: { 'content-type': 'application/activity+json' },
      body: JSON.stringify(activity),
    });
    assert.equal(res.status, 401);
  }
  // 5 MB announced: refused before the body is sent (the client waits for `100 Continue`,
  // which never comes), so the answer cannot race the upload.
  const big = await new Promise((resolve, reject) => {
    const req = http.request(`${a.origin}/inbox`, {
      method: 'POST',
      headers: { 'content-type': 'application/activity+json', 'content-length': 5 << 20, expect: '100-continue' },
    });
    req.on('continue', () => req.end('x'.repeat(5 << 20)));
    req.on('response', (res) => { res.resume(); resolve({ status: res.statusCode }); });
    req.on('error', reject);
  });
  assert.equal(big.status, 413);
  const global = await hal.api.request('notes/global-timeline', {});
  assert.ok(!global.some((n) => n.text === 'spam'));
});

test('notes of people nobody follows stay off a server', async () => {
  const ivy = await signup(a, 'ivy');
  const jon = await signup(b, 'jon');
  await ivy.api.request('notes/create', { text: 'nobody follows me' });
  await new Promise((r) => setTimeout(r, 500));
  const global = await jon.api.request('notes/global-timeline', {});
  assert.ok(!global.some((n) => n.text === 'nobody follows me'));
});
