// Tsudoi with a real ActivityPub implementation: Fedify 2.3.6 (scripts/setup-peers) on
// Node 22. Fedify follows a Tsudoi user and receives her notes; a Tsudoi user follows the
// Fedify actor and sees its notes. Fedify signs with RFC 9421 first (and keeps using it when
// it is accepted); a second peer is started on draft-cavage to check that form too.

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
