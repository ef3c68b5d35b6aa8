// Self-test of lib/remote.mjs, the fake ActivityPub server: two fake remotes talk to each
// other (no Tsudoi needed), so the signing and the checking agree with Misskey's library.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRemote } from './lib/remote.mjs';

let alpha;
let beta;
before(async () => {
  [alpha, beta] = await Promise.all([startRemote({ name: 'alpha' }), startRemote({ name: 'beta' })]);
  alpha.actor('alice');
  beta.actor('bob');
});
after(async () => {
  await Promise.all([alpha?.close(), beta?.close()]);
});

const follow = (n) => ({
  '@context': 'https://www.w3.org/ns/activitystreams',
  id: `${alpha.origin}/follows/${n}`,
  type: 'Follow',
  actor: alpha.actor('alice').id,
  object: beta.actor('bob').id,
});

test('actor documents and WebFinger are served', async () => {
  const bob = beta.actor('bob');
  const finger = await fetch(`${beta.origin}/.well-known/webfinger?resource=acct:bob@${beta.host}`);
  assert.equal(finger.status, 200);
  assert.match(finger.headers.get('content-type'), /application\/jrd\+json/);
  const self = (await finger.json()).links.find((l) => l.rel === 'self');
  assert.deepEqual(self, { rel: 'self', type: 'application/activity+json', href: bob.id });
  assert.equal((await fetch(`${beta.origin}/.well-known/webfinger?resource=acct:nobody@${beta.host}`)).status, 404);

  const res = await fetch(bob.id, { headers: { accept: 'application/activity+json' } });
  assert.match(res.headers.get('content-type'), /application\/activity\+json/);
  const doc = await res.json();
  assert.equal(doc.type, 'Person');
  assert.equal(doc.preferredUsername, 'bob');
  assert.equal(doc.inbox, bob.inbox);
  assert.equal(doc.followers, `${bob.id}/followers`);
  assert.equal(doc.endpoints.sharedInbox, `${beta.origin}/inbox`);
  assert.deepEqual(doc.publicKey, { id: bob.keyId, owner: bob.id, publicKeyPem: bob.publicKeyPem });
});

test('a signed POST verifies; a tampered body does not', async () => {
  beta.reset();
  const sent = await alpha.send('alice', beta.actor('bob').inbox, follow(1));
  assert.equal(sent.status, 202);
  // Verification is awaited before the answer: the record is there already.
  assert.equal(beta.received.length, 1);
  const rec = beta.received[0];
  assert.equal(rec.verified, true, rec.error);
  assert.equal(rec.keyId, alpha.actor('alice').keyId);
  assert.equal(rec.body.type, 'Follow');
  assert.equal(rec.path, '/users/bob/inbox');

  await alpha.send('alice', `${beta.origin}/inbox`, follow(2), { body: JSON.stringify(follow(666)) });
  const tampered = await beta.waitFor((r) => r.body?.id?.endsWith('/666'));
  assert.equal(tampered.verified, false);
  assert.match(tampered.error, /digest/);
});

test('other tampering is caught too', async () => {
  const inbox = beta.actor('bob').inbox;
  const cases = {
    stale: { date: new Date(Date.now() - 3600_000) },
    otherHost: { host: 'elsewhere.example' },
    wrongDigest: { digest: 'SHA-256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
    foreignKey: { keyId: beta.actor('bob').keyId },
  };
  for (const [name, opts] of Object.entries(cases)) {
    beta.reset();
    await alpha.send('alice', inbox, follow(name), opts);
    assert.equal(beta.received[0].verified, false, name);
  }
  beta.reset();
  await alpha.send('alice', inbox, follow('unsigned'), { unsigned: true });
  assert.equal(beta.received[0].verified, null);
});

test('rotated keys are served, and old signatures stop verifying', async () => {
  const alice = alpha.actor('alice');
  const oldPem = alice.publicKeyPem;
  alpha.rotateKey('alice');
  assert.notEqual(alice.publicKeyPem, oldPem);
  const doc = await (await fetch(alice.id)).json();
  assert.equal(doc.publicKey.publicKeyPem, alice.publicKeyPem);

  beta.reset();
  await alpha.send('alice', beta.actor('bob').inbox, follow('rotated'));
  assert.equal(beta.received[0].verified, true, beta.received[0].error);

  // Serve the old key again: the new signature no longer matches it.
  alpha.setActorDocument('alice', (d) => ({ ...d, publicKey: { ...d.publicKey, publicKeyPem: oldPem } }));
  beta.reset();
  await alpha.send('alice', beta.actor('bob').inbox, follow('mismatch'));
  assert.equal(beta.received[0].verified, false);
  alpha.setActorDocument('alice', null);
});

test('scripted answers, overrides, signed GETs and waitFor timeouts', async () => {
  const inbox = beta.actor('bob').inbox;
  beta.respondWith((rec, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 410 }));
  beta.reset();
  assert.equal((await alpha.send('alice', inbox, follow('a'))).status, 429);
  assert.equal((await alpha.send('alice', inbox, follow('b'))).status, 410);
  beta.respondWith(null);

  // A signed GET, checked by a verifying override on the other side.
  let seen = null;
  beta.serve('/things/1', async (req, res) => {
    seen = req.headers.signature;
    res.writeHead(200, { 'content-type': 'application/activity+json' });
    res.end(JSON.stringify({ id: `${beta.origin}/things/1`, type: 'Note' }));
  });
  const got = await alpha.get('alice', `${beta.origin}/things/1`);
  assert.equal(got.status, 200);
  assert.equal(got.json.type, 'Note');
  assert.match(seen, /keyId="[^"]+#main-key",algorithm="rsa-sha256",headers="\(request-target\) host date"/);

  // Overrides win over built-in routes.
  beta.serveJson('/users/bob', { id: 'https://wrong.example/bob' }, { contentType: 'text/html' });
  const wrong = await fetch(beta.actor('bob').id);
  assert.match(wrong.headers.get('content-type'), /text\/html/);
  beta.unserve('/users/bob');

  await assert.rejects(beta.waitFor((r) => r.body?.type === 'Nope', 200), /nothing matching.*received:\n  #0/s);
});
