// Delivery limits against a scripted remote server: no more than `per_host_concurrency`
// deliveries to one server at a time, and a server that fails for longer than
// `dead_after_hours` is suspended (nothing more is sent to it, nothing piles up) until it
// sends something again.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, createAdmin, eventually } from './lib/server.mjs';
import { startRemote } from './lib/remote.mjs';

let server;
let remote;
let author;
let admin;
before(async () => {
  [server, remote] = await Promise.all([
    startServer({
      TSUDOI_FEDERATION_ALLOW_PRIVATE: 'true',
      TSUDOI_FEDERATION_RETRY_BASE_MS: '200',
      TSUDOI_FEDERATION_PER_HOST_CONCURRENCY: '2',
      // Two seconds.
      TSUDOI_FEDERATION_DEAD_AFTER_HOURS: '0.00056',
    }),
    startRemote({ name: 'limits' }),
  ]);
  author = await signup(server, 'author');
  admin = await createAdmin(server, 'limits_admin');
  const reader = remote.actor('reader');
  const authorUri = `${server.origin}/users/${author.id}`;
  assert.equal((await remote.send('reader', `${authorUri}/inbox`, {
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${reader.id}#follow`, type: 'Follow', actor: reader.id, object: authorUri,
  })).status, 202);
  await remote.waitFor((r) => r.body?.type === 'Accept');
});
after(async () => {
  await Promise.all([server?.stop(), remote?.close()]);
});

const creates = (prefix) => remote.received.filter((r) => r.body?.type === 'Create' && r.body.object?.content?.includes(prefix));

test('no more than per_host_concurrency deliveries to one server at a time', async () => {
  remote.respondWith(() => ({ status: 202, delayMs: 400 }));
  remote.resetInFlight();
  for (let i = 0; i < 8; i += 1) {
    await author.api.request('notes/create', { text: `burst ${i}` });
  }
  await eventually(() => assert.equal(creates('burst').length, 8), 15_000);
  assert.equal(remote.maxInFlight(), 2, 'two at a time, never more');
  remote.respondWith(null);
});

test('a server failing for longer than dead_after is suspended until it speaks again', async () => {
  remote.respondWith(() => ({ status: 503 }));
  await author.api.request('notes/create', { text: 'into the void 1' });
  await eventually(() => assert.ok(creates('into the void 1').length >= 1));
  // Failing for more than two seconds: suspended.
  await new Promise((r) => setTimeout(r, 2500));
  await author.api.request('notes/create', { text: 'into the void 2' });
  await eventually(async () => {
    const shown = await admin.api.request('federation/show-instance', { host: remote.host });
    assert.equal(shown.isNotResponding, true);
    assert.equal(shown.isSuspended, true);
  }, 10_000);
  // Nothing more goes out while it is suspended, retries of queued deliveries included.
  const sent = remote.received.length;
  await author.api.request('notes/create', { text: 'into the void 3' });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(remote.received.length, sent, 'nothing is sent to a suspended server');

  // It speaks again (a signed activity): deliveries resume.
  remote.respondWith(null);
  const reader = remote.actor('reader');
  assert.equal((await remote.send('reader', `${server.origin}/inbox`, {
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${reader.id}#like-${Date.now()}`, type: 'Like', actor: reader.id, object: `${server.origin}/notes/nothing`,
  })).status, 202);
  await eventually(async () => {
    const shown = await admin.api.request('federation/show-instance', { host: remote.host });
    assert.equal(shown.isSuspended, false);
  });
  await author.api.request('notes/create', { text: 'back again' });
  await eventually(() => assert.equal(creates('back again').length, 1), 10_000);
});
