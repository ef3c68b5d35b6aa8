// The Fedify peer on its own: two real Fedify servers federate with each other through the
// control API, so the interop tests that pair one with Tsudoi can trust the peer.
// Needs scripts/setup-peers (Fedify 2.3.6 and the Node 22 it runs on).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFedify } from './lib/fedify.mjs';

const PUBLIC = 'https://www.w3.org/ns/activitystreams#Public';

describe('Fedify peer', () => {
  let a;
  let b;
  before(async () => {
    [a, b] = await Promise.all([startFedify(), startFedify()]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('serves its actor with an RSA key, inbox, shared inbox and followers', async () => {
    const res = await fetch(b.actorUrl, { headers: { accept: 'application/activity+json' } });
    assert.equal(res.status, 200);
    const actor = await res.json();
    assert.equal(actor.id, b.actorUrl);
    assert.equal(actor.type, 'Person');
    assert.equal(actor.preferredUsername, 'fedi');
    assert.equal(actor.inbox, `${b.actorUrl}/inbox`);
    assert.equal(actor.endpoints.sharedInbox, b.sharedInbox);
    assert.equal(actor.followers, `${b.actorUrl}/followers`);
    assert.equal(actor.publicKey.id, `${b.actorUrl}#main-key`);
    assert.equal(actor.publicKey.owner, b.actorUrl);
    assert.match(actor.publicKey.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    // RSA-2048 (SPKI DER of 294 bytes) and an Ed25519 multikey besides.
    const der = Buffer.from(actor.publicKey.publicKeyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    assert.equal(der.length, 294);
    assert.equal(actor.assertionMethod.length, 2);
  });

  test('follow, accept, note, unfollow between two peers', async () => {
    // A follows B: B receives the Follow and answers with an Accept before the call returns
    // (no queue: sends and inbox listeners run inline).
    const follow = await a.control('follow', { actor: b.actorUrl });
    assert.equal(follow.actor, b.actorUrl);

    const gotFollow = (await b.received()).find((x) => x.type === 'Follow' && x.id === follow.id);
    assert.ok(gotFollow, 'B received the Follow');
    assert.equal(gotFollow.actor, a.actorUrl);
    assert.equal(gotFollow.object, b.actorUrl);
    assert.equal(gotFollow.answered, 'Accept');

    const gotAccept = (await a.received()).find((x) => x.type === 'Accept');
    assert.ok(gotAccept, 'A received the Accept');
    assert.equal(gotAccept.actor, b.actorUrl);
    assert.equal(gotAccept.object, follow.id);
    assert.equal(gotAccept.objectType, 'Follow');

    assert.deepEqual((await b.control('state')).followers, [a.actorUrl]);
    assert.deepEqual((await a.control('state')).following, [{ actor: b.actorUrl, followId: follow.id, state: 'accepted' }]);
    const followers = await (await fetch(`${b.actorUrl}/followers`, { headers: { accept: 'application/activity+json' } })).json();
    assert.deepEqual(followers.orderedItems, [a.actorUrl]);

    // Fedify's first knock is RFC 9421, which Fedify itself accepts: no second knock needed.
    const followPost = (await b.control('requests')).find((r) => r.method === 'POST' && r.activityId === follow.id);
    assert.equal(followPost.spec, 'rfc9421');
    assert.equal(followPost.keyId, `${a.actorUrl}#main-key`);
    assert.equal(followPost.status, 202);
    assert.equal((await a.control(`signature-spec?origin=${encodeURIComponent(b.origin)}`)).spec, 'rfc9421');
    assert.deepEqual(await b.control('unverified'), []);

    // B posts a public note: its follower A gets the Create on its shared inbox.
    const note = await b.control('note', { content: '<p>Hello from <b>B</b></p>', to: 'public' });
    const create = (await a.received()).find((x) => x.type === 'Create' && x.object === note.id);
    assert.ok(create, 'A received the Create');
    assert.equal(create.id, note.activityId);
    assert.equal(create.actor, b.actorUrl);
    assert.equal(create.objectType, 'Note');
    assert.equal(create.note.content, '<p>Hello from <b>B</b></p>');
    assert.equal(create.note.attributedTo, b.actorUrl);
    assert.deepEqual(create.note.to, [PUBLIC]);
    assert.deepEqual(create.note.cc, [`${b.actorUrl}/followers`]);
    assert.ok(create.raw.signature, 'a Linked Data signature (RSA)');
    assert.ok(create.raw.proof, 'an Object Integrity Proof (Ed25519)');
    const createPost = (await a.control('requests')).find((r) => r.activityId === note.activityId);
    assert.equal(createPost.path, '/inbox', 'delivered to the shared inbox');

    // The note can be fetched by its id.
    const fetched = await (await fetch(note.id, { headers: { accept: 'application/activity+json' } })).json();
    assert.equal(fetched.id, note.id);
    assert.equal(fetched.content, '<p>Hello from <b>B</b></p>');

    // A unfollows B.
    const undo = await a.control('unfollow', { actor: b.actorUrl });
    const gotUndo = (await b.received()).find((x) => x.type === 'Undo' && x.id === undo.id);
    assert.ok(gotUndo, 'B received the Undo');
    assert.equal(gotUndo.objectType, 'Follow');
    assert.equal(gotUndo.object, follow.id);
    assert.deepEqual((await b.control('state')).followers, []);
    assert.ok((await b.control('sent')).every((s) => s.ok), JSON.stringify(await b.control('sent')));
  });

  test('signs with draft-cavage first when told to, and can reject follows', async () => {
    const c = await startFedify({ actor: 'cavage', firstKnock: 'draft-cavage-http-signatures-12' });
    try {
      await b.control('config', { onFollow: 'reject' });
      const follow = await c.control('follow', { actor: b.actorUrl });
      const post = (await b.control('requests')).find((r) => r.activityId === follow.id);
      assert.equal(post.spec, 'draft-cavage');
      assert.equal(post.keyId, `${c.actorUrl}#main-key`);
      assert.equal(post.status, 202);
      const reject = await c.waitFor((x) => x.type === 'Reject', { what: 'a Reject' });
      assert.equal(reject.object, follow.id);
      assert.equal((await c.control('state')).following[0].state, 'rejected');
      assert.deepEqual((await b.control('state')).followers, []);
    } finally {
      await b.control('config', { onFollow: 'accept' });
      await c.stop();
    }
  });
});
