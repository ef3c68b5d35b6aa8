// Files on other servers' notes: recorded from the note's attachments, never fetched into
// storage, shown through the media proxy (`/proxy/…`), which fetches through the guarded
// client, lets only pictures, video and sound through, strips their metadata and makes the
// small variants clients ask for. Unless the admin chose to keep a server's files: then
// they are fetched once, cleaned as uploads are, and served from here.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { startServer, signup, createAdmin, eventually } from './lib/server.mjs';
import { startRemote } from './lib/remote.mjs';

const PUBLIC = 'https://www.w3.org/ns/activitystreams#Public';
let server;
let remote;
let watcher;
let photo;

before(async () => {
  [server, remote] = await Promise.all([
    // The fake remote is on loopback: federation and the proxy may reach it here.
    startServer({ TSUDOI_FEDERATION_ALLOW_PRIVATE: 'true', TSUDOI_ALLOWED_PRIVATE_NETWORKS: '127.0.0.1/32' }),
    startRemote({ name: 'media' }),
  ]);
  watcher = await signup(server, 'watcher');
  photo = await sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#204060' } })
    .jpeg()
    .withExif({ IFD0: { Make: 'RemoteCam' }, IFD3: { GPSMapDatum: 'REMOTE-GPS' } })
    .toBuffer();
  remote.serve('/media/photo.jpg', (req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    res.end(photo);
  });
  remote.serve('/media/page.html', (req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' }); // a lie: it is a page
    res.end('<!DOCTYPE html><script>alert(1)</script>');
  });
});
after(async () => {
  await Promise.all([server?.stop(), remote?.close()]);
});

test('a remote note\'s pictures are shown through the proxy, stripped, and never stored here', async () => {
  const alice = remote.actor('alice');
  const watcherUri = `${server.origin}/users/${watcher.id}`;
  const note = {
    id: `${remote.origin}/notes/with-photo`,
    type: 'Note',
    attributedTo: alice.id,
    content: '<p>look @watcher</p>',
    published: new Date().toISOString(),
    to: [PUBLIC],
    cc: [watcherUri],
    tag: [{ type: 'Mention', href: watcherUri, name: `@watcher@${new URL(server.origin).host}` }],
    attachment: [
      { type: 'Document', mediaType: 'image/jpeg', url: `${remote.origin}/media/photo.jpg`, name: 'a blue field', blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj', width: 1600, height: '1200' },
      { type: 'Document', mediaType: 'image/png', url: `${remote.origin}/media/page.html` },
      { type: 'Document', mediaType: 'image/png', url: 'javascript:alert(1)' },
    ],
  };
  const activity = { '@context': 'https://www.w3.org/ns/activitystreams', id: `${note.id}/activity`, type: 'Create', actor: alice.id, to: note.to, cc: note.cc, object: note };
  assert.equal((await remote.send('alice', `${server.origin}/inbox`, activity)).status, 202);
  const shown = await eventually(async () => {
    const [n] = (await watcher.api.request('notes/mentions', {})).filter((m) => m.uri === note.id);
    assert.ok(n, 'the note arrived');
    return n;
  });
  assert.equal(shown.files.length, 2, 'a file without an http(s) URL is left out');
  const [pic, page] = shown.files;
  assert.equal(pic.type, 'image/jpeg');
  assert.equal(pic.comment, 'a blue field');
  assert.equal(pic.name, 'photo.jpg');
  assert.equal(pic.blurhash, 'LEHV6nWB2yk8pyo0adR*.7kCMdnj');
  assert.deepEqual(pic.properties, { width: 1600 }, 'a size sent as text is dropped, not the note');
  assert.equal(pic.userId, shown.userId);
  assert.ok(pic.url.startsWith(`${server.origin}/proxy/`), pic.url);
  assert.match(pic.thumbnailUrl, /static=1/);

  // Nothing of the remote file was fetched into this server's storage.
  const stored = await readdir(path.join(server.dataDir, 'files')).catch(() => []);
  assert.deepEqual(stored, []);

  const original = await fetch(pic.url);
  assert.equal(original.status, 200);
  assert.equal(original.headers.get('content-type'), 'image/jpeg');
  assert.match(original.headers.get('content-security-policy'), /sandbox/);
  const bytes = Buffer.from(await original.arrayBuffer());
  assert.ok(!bytes.includes('REMOTE-GPS') && !bytes.includes('RemoteCam'), 'metadata stripped on the way');
  assert.equal((await sharp(bytes).metadata()).width, 1600);

  const still = await sharp(Buffer.from(await (await fetch(pic.thumbnailUrl)).arrayBuffer())).metadata();
  assert.deepEqual([still.width, still.height], [498, 374]);
  const preview = new URL(pic.url);
  preview.searchParams.set('preview', '1');
  const small = await sharp(Buffer.from(await (await fetch(preview)).arrayBuffer())).metadata();
  assert.ok(small.width <= 200 && small.height <= 200);

  // The page claiming to be a PNG is refused by its content.
  assert.equal((await fetch(page.url)).status, 403);
  // Another proxy (or this one) asking through this one would loop: refused.
  assert.equal((await fetch(pic.url, { headers: { 'user-agent': 'Misskey/2025.1.0 (https://example.com)' } })).status, 403);
  // A URL that names nothing reachable is a plain 404, and nothing is fetched twice for it.
  const nowhere = `${server.origin}/proxy/image.webp?url=${encodeURIComponent(`${remote.origin}/media/missing.jpg`)}`;
  assert.equal((await fetch(nowhere)).status, 404);
});

test('the proxy refuses private addresses the admin did not allow', async () => {
  const strict = await startServer();
  try {
    const fetchesOfPhoto = () => remote.requests.filter((r) => r.path === '/media/photo.jpg').length;
    const before = fetchesOfPhoto();
    const url = `${strict.origin}/proxy/image.webp?url=${encodeURIComponent(`${remote.origin}/media/photo.jpg`)}`;
    assert.equal((await fetch(url)).status, 404);
    assert.equal(fetchesOfPhoto(), before, 'no connection was made');
  } finally {
    await strict.stop();
  }
});

test('the files of a server the admin chose to keep are fetched once, cleaned, and served from here', async () => {
  const admin = await createAdmin(server, 'media_admin');
  await admin.api.request('admin/update-meta', { mediaCachedHosts: [remote.host] });
  assert.deepEqual((await admin.api.request('admin/meta', {})).mediaCachedHosts, [remote.host]);
  const carol = remote.actor('carol');
  const watcherUri = `${server.origin}/users/${watcher.id}`;
  const note = {
    id: `${remote.origin}/notes/kept-photo`,
    type: 'Note',
    attributedTo: carol.id,
    content: '<p>keep this @watcher</p>',
    published: new Date().toISOString(),
    to: [PUBLIC],
    cc: [watcherUri],
    tag: [{ type: 'Mention', href: watcherUri, name: `@watcher@${new URL(server.origin).host}` }],
    attachment: [{ type: 'Document', mediaType: 'image/jpeg', url: `${remote.origin}/media/photo.jpg` }],
  };
  const activity = { '@context': 'https://www.w3.org/ns/activitystreams', id: `${note.id}/activity`, type: 'Create', actor: carol.id, to: note.to, cc: note.cc, object: note };
  assert.equal((await remote.send('carol', `${server.origin}/inbox`, activity)).status, 202);
  const pic = await eventually(async () => {
    const [n] = (await watcher.api.request('notes/mentions', {})).filter((m) => m.uri === note.id);
    assert.ok(n, 'the note arrived');
    assert.ok(n.files[0].url.startsWith(`${server.origin}/files/`), n.files[0].url);
    return n.files[0];
  }, 10_000);
  assert.equal(pic.type, 'image/jpeg');
  assert.equal(pic.md5.length, 32);
  const bytes = Buffer.from(await (await fetch(pic.url)).arrayBuffer());
  assert.ok(!bytes.includes('REMOTE-GPS') && !bytes.includes('RemoteCam'), 'metadata stripped before it was kept');
  assert.equal((await sharp(bytes).metadata()).width, 1600);
  assert.ok(pic.thumbnailUrl.startsWith(`${server.origin}/files/thumbnail-`), pic.thumbnailUrl);
  const stored = await readdir(path.join(server.dataDir, 'files'));
  assert.equal(stored.length, 2, 'the file and its thumbnail');
  await admin.api.request('admin/update-meta', { mediaCachedHosts: [] });
});
