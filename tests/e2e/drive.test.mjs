// The drive as Misskey's apps use it: uploads through misskey-js (multipart, token in the form),
// the type found from the content, EXIF and GPS gone from everything served, thumbnails and
// blurhash, folders, capacity, files on notes, timelines `withFiles`, `driveFileCreated` and
// `urlUploadFinished` on the main stream, and uploads from a URL through the guarded client.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { startServer, signup, apiError, rawPost, tsudoiBinary } from './lib/server.mjs';
import { openStream, record, waitFor, synced } from './lib/stream.mjs';

let server;
let ann;
let bob;

before(async () => {
  // Uploads from URLs on loopback are allowed here (the test's own file server).
  server = await startServer({ TSUDOI_ALLOWED_PRIVATE_NETWORKS: '127.0.0.1/32' });
  ann = await signup(server, 'drive_ann');
  bob = await signup(server, 'drive_bob');
});
after(async () => { await server?.stop(); });

const GPS = 'GPS-MARKER-35.6586N';
const CAMERA = 'TsudoiCam 3000';

/** A picture 1200 wide and 900 high in `format`, whose EXIF names a camera, carries a GPS
 * tag and says to turn it a quarter (orientation 6): as phones write photos. */
async function photo(format, { orientation = 6, alpha = false } = {}) {
  const channels = alpha ? 4 : 3;
  const background = alpha ? { r: 30, g: 120, b: 200, alpha: 0.5 } : { r: 30, g: 120, b: 200 };
  const base = sharp({ create: { width: 1200, height: 900, channels, background } })
    .composite([{ input: { create: { width: 300, height: 900, channels, background: alpha ? { r: 250, g: 200, b: 0, alpha: 1 } : { r: 250, g: 200, b: 0 } } }, left: 0, top: 0 }]);
  return base[format]()
    .withExif({ IFD0: { Make: CAMERA }, IFD3: { GPSMapDatum: GPS, GPSLatitudeRef: 'N' } })
    .withMetadata({ orientation })
    .toBuffer();
}

/** A small MP4 (ftyp, moov with a location in its user data, mdat), as phones record. */
function mp4WithLocation() {
  const box = (type, ...payload) => {
    const body = Buffer.concat(payload);
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length + 8);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, body]);
  };
  const location = box('\xA9xyz', Buffer.from([0, 18, 0x15, 0xC7]), Buffer.from('+35.6586+139.7454/'));
  return Buffer.concat([
    box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2mp41', 'latin1')),
    box('moov', box('mvhd', Buffer.alloc(100)), box('udta', location)),
    box('mdat', Buffer.from('not really frames, but where they would be')),
  ]);
}

const upload = (user, data, name, params = {}, type = 'application/octet-stream') =>
  user.api.request('drive/files/create', { file: new File([data], name, { type }), ...params });

async function fetchBytes(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

const md5 = (b) => createHash('md5').update(b).digest('hex');

for (const format of ['jpeg', 'png', 'webp']) {
  test(`a ${format} photo is served upright without its EXIF or GPS, with a thumbnail and a blurhash`, async () => {
    const original = await photo(format);
    assert.ok(original.includes(GPS) && original.includes(CAMERA), 'the upload carries GPS and camera');
    const file = await upload(ann, original, `holiday.${format}`);
    assert.equal(file.type, `image/${format}`);
    assert.equal(file.name, `holiday.${format}`);
    assert.deepEqual(file.properties, { width: 900, height: 1200 }, 'turned a quarter, as shown');
    assert.match(file.blurhash, /^[0-9A-Za-z#$%*+,.:;=?@[\]^_{|}~-]{54}$/, '5x5 components');
    assert.equal(file.isSensitive, false);
    assert.equal(file.userId, ann.id);

    const { res, bytes } = await fetchBytes(file.url);
    assert.equal(res.headers.get('content-type'), `image/${format}`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('content-security-policy'), /sandbox/);
    assert.ok(!bytes.includes(GPS) && !bytes.includes(CAMERA), 'nothing of the EXIF is served');
    const served = await sharp(bytes).metadata();
    assert.equal(served.exif, undefined);
    assert.equal(served.orientation, undefined);
    assert.equal(served.width, 900);
    assert.equal(served.height, 1200);
    assert.equal(file.size, bytes.length);
    assert.equal(file.md5, md5(bytes));

    assert.ok(file.thumbnailUrl && file.thumbnailUrl !== file.url);
    const thumb = await fetchBytes(file.thumbnailUrl);
    const t = await sharp(thumb.bytes).metadata();
    assert.ok(t.width <= 498 && t.height <= 422, `${t.width}x${t.height} fits 498x422`);
    assert.equal(t.height, 422, 'portrait: as high as the box');
    assert.equal(t.exif, undefined);
    assert.ok(!thumb.bytes.includes(GPS));
  });
}

test('a PNG with transparency gets a thumbnail that keeps it', async () => {
  const file = await upload(ann, await photo('png', { orientation: 1, alpha: true }), 'glass.png');
  const thumb = await fetchBytes(file.thumbnailUrl);
  const t = await sharp(thumb.bytes).metadata();
  assert.equal(t.hasAlpha, true);
  assert.equal(t.width, 498);
  assert.ok([373, 374].includes(t.height), `${t.height}`);
});

test('a GIF and an MP4: types from their content, the video\'s location gone, no thumbnail for video', async () => {
  const gif = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } }).gif().toBuffer();
  const g = await upload(ann, gif, 'wave');
  assert.equal(g.type, 'image/gif');
  assert.equal(g.name, 'wave.gif');
  assert.deepEqual(g.properties, { width: 64, height: 48 });
  assert.ok(g.thumbnailUrl && g.blurhash);

  const video = mp4WithLocation();
  const v = await upload(ann, video, 'clip.mp4', {}, 'video/mp4');
  assert.equal(v.type, 'video/mp4');
  assert.equal(v.thumbnailUrl, null);
  const { res, bytes } = await fetchBytes(v.url);
  assert.equal(res.headers.get('content-type'), 'video/mp4');
  assert.equal(bytes.length, video.length, 'same size: sample offsets stay right');
  assert.ok(!bytes.includes('+35.6586'), 'the location is gone');
  assert.ok(bytes.includes('not really frames'), 'the media data is untouched');

  // Video players ask for ranges.
  const part = await fetch(v.url, { headers: { range: 'bytes=0-3' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 0-3/${video.length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(0, 4));
  const beyond = await fetch(v.url, { headers: { range: `bytes=${video.length + 10}-` } });
  assert.equal(beyond.status, 416);
});

test('files lying about their type are judged by their content', async () => {
  // A page named and sent as a JPEG is not a picture, and pages are not uploadable.
  const page = Buffer.from('<!DOCTYPE html><html><script>alert(document.cookie)</script></html>');
  const lie = await apiError(() => upload(ann, page, 'cat.jpg', {}, 'image/jpeg'));
  assert.equal(lie.code, 'UNALLOWED_FILE_TYPE');
  assert.equal(lie.id, '4becd248-7f2c-48c4-a9f0-75edc4f9a1ea');
  // A PNG named as text is a PNG.
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).png().toBuffer();
  const p = await upload(ann, png, 'notes.txt', {}, 'text/plain');
  assert.equal(p.type, 'image/png');
  assert.equal(p.name, 'notes.txt.png');
  // A file that claims to be a PNG but is cut short is refused, not stored half-read.
  const broken = await apiError(() => upload(ann, Buffer.concat([png.subarray(0, 40)]), 'broken.png'));
  assert.equal(broken.code, 'INVALID_FILE');
  // Plain text is text, served as text that cannot run.
  const t = await upload(ann, Buffer.from('just some words\n'), 'readme');
  assert.equal(t.type, 'text/plain');
  const { res } = await fetchBytes(t.url);
  assert.equal(res.headers.get('content-type'), 'text/plain');
  assert.match(res.headers.get('content-security-policy'), /sandbox/);
});

test('the same bytes twice give the same file unless forced; names are checked', async () => {
  const png = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#123456' } }).png().toBuffer();
  const a = await upload(ann, png, 'dot.png');
  const again = await upload(ann, png, 'other-name.png', { isSensitive: true });
  assert.equal(again.id, a.id);
  assert.equal(again.isSensitive, true, 'asking for sensitive marks the existing file');
  const forced = await upload(ann, png, 'dot.png', { force: true });
  assert.notEqual(forced.id, a.id);
  assert.equal(await ann.api.request('drive/files/check-existence', { md5: a.md5 }), true);
  assert.equal(await bob.api.request('drive/files/check-existence', { md5: a.md5 }), false);
  const byHash = await ann.api.request('drive/files/find-by-hash', { md5: a.md5 });
  assert.deepEqual(byHash.map((f) => f.id).sort(), [a.id, forced.id].sort());

  const bad = await apiError(() => upload(ann, png, '../../etc/passwd', { force: true }));
  assert.equal(bad.code, 'INVALID_FILE_NAME');
  assert.equal(bad.id, 'f449b209-0c60-4e51-84d5-29486263bfd4');
});

test('show, update, find and delete: own files only, with Misskey\'s error ids', async () => {
  const png = await sharp({ create: { width: 12, height: 12, channels: 3, background: '#abcdef' } }).png().toBuffer();
  const f = await upload(ann, png, 'mine.png', { comment: 'a pale blue square' });
  assert.equal(f.comment, 'a pale blue square');
  assert.deepEqual((await ann.api.request('drive/files/show', { fileId: f.id })).id, f.id);
  assert.equal((await ann.api.request('drive/files/show', { url: f.url })).id, f.id);
  const denied = await apiError(() => bob.api.request('drive/files/show', { fileId: f.id }));
  assert.equal(denied.code, 'ACCESS_DENIED');
  assert.equal(denied.id, '25b73c73-68b1-41d0-bad1-381cfdf6579f');
  const missing = await apiError(() => ann.api.request('drive/files/show', { fileId: 'aaaaaaaaaaaaaaaa' }));
  assert.equal(missing.id, '067bc436-2718-4795-b0fb-ecbe43949e31');

  const renamed = await ann.api.request('drive/files/update', { fileId: f.id, name: 'square.png', isSensitive: true, comment: null });
  assert.equal(renamed.name, 'square.png');
  assert.equal(renamed.isSensitive, true);
  assert.equal(renamed.comment, null);
  const badName = await apiError(() => ann.api.request('drive/files/update', { fileId: f.id, name: 'a/b' }));
  assert.equal(badName.id, '395e7156-f9f0-475e-af89-53c3c23080c2');
  const notBobs = await apiError(() => bob.api.request('drive/files/update', { fileId: f.id, name: 'x.png' }));
  assert.equal(notBobs.id, '01a53b27-82fc-445b-a0c1-b558465a8ed2');
  assert.deepEqual((await ann.api.request('drive/files/find', { name: 'square.png' })).map((x) => x.id), [f.id]);

  const notBobsToDelete = await apiError(() => bob.api.request('drive/files/delete', { fileId: f.id }));
  assert.equal(notBobsToDelete.id, '5eb8d909-2540-4970-90b8-dd6f86088121');
  await ann.api.request('drive/files/delete', { fileId: f.id });
  assert.equal((await fetch(f.url)).status, 404, 'its bytes are gone');
  assert.equal((await fetch(f.thumbnailUrl)).status, 404);
  const gone = await apiError(() => ann.api.request('drive/files/delete', { fileId: f.id }));
  assert.equal(gone.id, '908939ec-e52b-4458-b395-1025195cea58');
});

test('folders nest, hold files, refuse loops and are deleted only when empty', async () => {
  const carol = await signup(server, 'drive_carol');
  const trips = await carol.api.request('drive/folders/create', { name: 'Trips' });
  const kyoto = await carol.api.request('drive/folders/create', { name: 'Kyoto', parentId: trips.id });
  assert.equal(kyoto.parentId, trips.id);
  const untitled = await carol.api.request('drive/folders/create', {});
  assert.equal(untitled.name, 'Untitled');
  const notHers = await apiError(() => bob.api.request('drive/folders/create', { name: 'x', parentId: trips.id }));
  assert.equal(notHers.id, '53326628-a00d-40a6-a3cd-8975105c0f95');

  const png = await sharp({ create: { width: 6, height: 6, channels: 3, background: '#f00' } }).png().toBuffer();
  const f = await upload(carol, png, 'temple.png', { folderId: kyoto.id });
  assert.equal(f.folderId, kyoto.id);
  const root = await upload(carol, await sharp({ create: { width: 7, height: 7, channels: 3, background: '#0f0' } }).png().toBuffer(), 'root.png');
  assert.deepEqual((await carol.api.request('drive/files', { folderId: kyoto.id })).map((x) => x.id), [f.id]);
  assert.deepEqual((await carol.api.request('drive/files', {})).map((x) => x.id), [root.id], 'the root by default');
  assert.deepEqual((await carol.api.request('drive/stream', {})).map((x) => x.id), [root.id, f.id], 'every folder');
  assert.deepEqual((await carol.api.request('drive/stream', { type: 'image/*' })).length, 2);
  assert.deepEqual((await carol.api.request('drive/stream', { type: 'video/*' })).length, 0);
  assert.deepEqual((await carol.api.request('drive/folders', {})).map((x) => x.name).sort(), ['Trips', 'Untitled']);
  assert.deepEqual((await carol.api.request('drive/folders', { folderId: trips.id })).map((x) => x.id), [kyoto.id]);
  assert.deepEqual((await carol.api.request('drive/folders/find', { name: 'Kyoto', parentId: trips.id })).map((x) => x.id), [kyoto.id]);

  const shown = await carol.api.request('drive/folders/show', { folderId: kyoto.id });
  assert.equal(shown.filesCount, 1);
  assert.equal(shown.foldersCount, 0);
  assert.equal(shown.parent.id, trips.id);
  assert.equal(shown.parent.parent, null);

  const loop = await apiError(() => carol.api.request('drive/folders/update', { folderId: trips.id, parentId: kyoto.id }));
  assert.equal(loop.code, 'RECURSIVE_NESTING');
  const self = await apiError(() => carol.api.request('drive/folders/update', { folderId: trips.id, parentId: trips.id }));
  assert.equal(self.code, 'RECURSIVE_NESTING');
  const moved = await carol.api.request('drive/folders/update', { folderId: kyoto.id, parentId: null, name: 'Kyoto 2026' });
  assert.equal(moved.parentId, null);
  assert.equal(moved.name, 'Kyoto 2026');

  const full = await apiError(() => carol.api.request('drive/folders/delete', { folderId: kyoto.id }));
  assert.equal(full.code, 'HAS_CHILD_FILES_OR_FOLDERS');
  assert.equal(full.id, 'b0fc8a17-963c-405d-bfbc-859a487295e1');
  await carol.api.request('drive/files/update', { fileId: f.id, folderId: null });
  await carol.api.request('drive/folders/delete', { folderId: kyoto.id });
  const gone = await apiError(() => carol.api.request('drive/folders/show', { folderId: kyoto.id }));
  assert.equal(gone.id, 'd74ab9eb-bb09-4bba-bf24-fb58f761e1e9');
});

test('notes show files in order; timelines and streams with withFiles carry only such notes', async () => {
  const dan = await signup(server, 'drive_dan');
  const stream = openStream(server, dan.token);
  const main = stream.useChannel('main');
  const local = stream.useChannel('localTimeline', { withFiles: true });
  const created = record(main, 'driveFileCreated');
  const streamed = record(local, 'note');
  await synced(stream);
  try {
    const a = await upload(dan, await sharp({ create: { width: 20, height: 10, channels: 3, background: '#111' } }).jpeg().toBuffer(), 'a.jpg');
    const b = await upload(dan, await sharp({ create: { width: 10, height: 20, channels: 3, background: '#eee' } }).jpeg().toBuffer(), 'b.jpg');
    const told = await waitFor(created, (f) => f.id === b.id);
    assert.equal(told.userId, null, 'as Misskey sends it');
    assert.equal(told.url, b.url);

    await dan.api.request('notes/create', { text: 'words only' });
    const { createdNote } = await dan.api.request('notes/create', { text: 'two pictures', fileIds: [b.id, a.id] });
    assert.deepEqual(createdNote.fileIds, [b.id, a.id]);
    assert.deepEqual(createdNote.files.map((f) => f.id), [b.id, a.id]);
    assert.deepEqual(createdNote.files[0].properties, { width: 10, height: 20 });
    const onlyFiles = await dan.api.request('notes/create', { mediaIds: [a.id] });
    assert.equal(onlyFiles.createdNote.text, null, 'files alone make a note');

    const withFiles = await dan.api.request('notes/local-timeline', { withFiles: true });
    assert.deepEqual(withFiles.map((n) => n.id), [onlyFiles.createdNote.id, createdNote.id]);
    const shown = await bob.api.request('notes/show', { noteId: createdNote.id });
    assert.equal(shown.files[1].url, a.url);
    await waitFor(streamed, (n) => n.id === onlyFiles.createdNote.id);
    assert.ok(!streamed.some((n) => n.text === 'words only'), 'the stream skips notes without files');

    const notHis = await upload(bob, await sharp({ create: { width: 5, height: 5, channels: 3, background: '#0ff' } }).png().toBuffer(), 'bob.png');
    const refused = await apiError(() => dan.api.request('notes/create', { text: 'stolen', fileIds: [notHis.id] }));
    assert.equal(refused.code, 'NO_SUCH_FILE');
    assert.equal(refused.id, 'b6992544-63e7-67f0-fa7f-32444b1b5306');

    // A deleted file leaves the note, which stops showing it.
    await dan.api.request('drive/files/delete', { fileId: a.id });
    const after = await dan.api.request('notes/show', { noteId: createdNote.id });
    assert.deepEqual(after.files.map((f) => f.id), [b.id]);
  } finally {
    stream.close();
  }
});

test('upload from a URL: through the guarded client, announced with its marker', async () => {
  const picture = await photo('jpeg', { orientation: 1 });
  const files = http.createServer((req, res) => {
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/pics/sunset.jpg' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    res.end(picture);
  });
  await new Promise((r) => files.listen(0, '127.0.0.1', r));
  const stream = openStream(server, ann.token);
  const main = stream.useChannel('main');
  const finished = record(main, 'urlUploadFinished');
  await synced(stream);
  try {
    const url = `http://127.0.0.1:${files.address().port}/moved`;
    const answer = await rawPost(server, 'drive/files/upload-from-url', { i: ann.token, url, marker: 'm-1', comment: 'from the web' });
    assert.equal(answer.status, 204, 'answered at once');
    const done = await waitFor(finished, (e) => e.marker === 'm-1', 15_000);
    assert.equal(done.file.name, 'moved.jpg', 'named after the URL asked for');
    assert.equal(done.file.comment, 'from the web');
    const { bytes } = await fetchBytes(done.file.url);
    assert.ok(!bytes.includes(GPS), 'stripped like any upload');
    const bad = await apiError(() => ann.api.request('drive/files/upload-from-url', { url: 'file:///etc/passwd' }));
    assert.equal(bad.code, 'INVALID_PARAM');
  } finally {
    stream.close();
    files.close();
  }
});

test('capacity and the largest file are enforced, and what is allowed is told in meta and policies', async () => {
  const small = await startServer({ TSUDOI_DRIVE_CAPACITY_MB: '1', TSUDOI_DRIVE_MAX_FILE_MB: '1', TSUDOI_DRIVE_UPLOADABLE_TYPES: 'image/*,text/plain' });
  try {
    const eve = await signup(small, 'drive_eve');
    const meta = await small.client().request('meta', {});
    assert.equal(meta.maxFileSize, 1 << 20);
    assert.equal(meta.policies.driveCapacityMb, 1);
    assert.equal(meta.policies.maxFileSizeMb, 1);
    assert.deepEqual(meta.policies.uploadableFileTypes, ['image/*', 'text/plain']);
    assert.equal((await eve.api.request('i', {})).policies.driveCapacityMb, 1);

    const text = (seed) => Buffer.from(Array.from({ length: 400_000 }, (_, i) => String.fromCharCode(97 + ((i * seed) % 26))).join(''));
    const first = await upload(eve, text(7), 'a.txt');
    await upload(eve, text(11), 'b.txt');
    const full = await apiError(() => upload(eve, text(13), 'c.txt'));
    assert.equal(full.code, 'NO_FREE_SPACE');
    assert.equal(full.id, 'd08dbc37-a6a9-463a-8c47-96c32ab5f064');
    assert.deepEqual(await eve.api.request('drive', {}), { capacity: 1 << 20, usage: 800_000 });
    await eve.api.request('drive/files/delete', { fileId: first.id });
    await upload(eve, text(13), 'c.txt');

    const big = await apiError(() => upload(eve, Buffer.alloc((1 << 20) + 1, 'x'), 'big.txt'));
    assert.equal(big.code, 'MAX_FILE_SIZE_EXCEEDED');
    const json = await apiError(() => upload(eve, Buffer.from('{"a":1}'), 'data.json'));
    assert.equal(json.code, 'UNALLOWED_FILE_TYPE', 'JSON is not in this server\'s list');
  } finally {
    await small.stop();
  }
});

test('the drive channel tells the owner of files and folders made, changed, moved and deleted', async () => {
  const s = openStream(server, bob.token);
  const bobsOthers = openStream(server, ann.token);
  try {
    const ch = s.useChannel('drive');
    const got = {};
    for (const kind of ['fileCreated', 'fileUpdated', 'fileDeleted', 'folderCreated', 'folderUpdated', 'folderDeleted']) {
      got[kind] = record(ch, kind);
    }
    const annSees = record(bobsOthers.useChannel('drive'), 'fileCreated');
    await Promise.all([synced(s), synced(bobsOthers)]);

    const file = await upload(bob, await photo('png', { orientation: 1 }), 'channel.png');
    const created = await waitFor(got.fileCreated, (f) => f.id === file.id);
    assert.equal(created.name, 'channel.png');
    const folder = await bob.api.request('drive/folders/create', { name: 'albums' });
    await waitFor(got.folderCreated, (f) => f.id === folder.id && f.name === 'albums');
    await bob.api.request('drive/folders/update', { folderId: folder.id, name: 'photo albums' });
    await waitFor(got.folderUpdated, (f) => f.id === folder.id && f.name === 'photo albums');

    // move-bulk: only the caller's files move; each moved one is told as updated.
    const annFile = await upload(ann, await photo('png', { orientation: 1, alpha: true }), 'not-bobs.png');
    await bob.api.request('drive/files/move-bulk', { fileIds: [file.id, annFile.id], folderId: folder.id });
    const moved = await waitFor(got.fileUpdated, (f) => f.id === file.id);
    assert.equal(moved.folderId, folder.id);
    assert.equal((await ann.api.request('drive/files/show', { fileId: annFile.id })).folderId, null);
    const wrongFolder = await apiError(() => ann.api.request('drive/files/move-bulk', { fileIds: [annFile.id], folderId: folder.id }));
    assert.equal(wrongFolder.code, 'NO_SUCH_FOLDER');
    const tooMany = await apiError(() => bob.api.request('drive/files/move-bulk', { fileIds: [] }));
    assert.equal(tooMany.code, 'INVALID_PARAM');
    await bob.api.request('drive/files/move-bulk', { fileIds: [file.id], folderId: null });
    assert.equal((await bob.api.request('drive/files/show', { fileId: file.id })).folderId, null);

    await bob.api.request('drive/files/delete', { fileId: file.id });
    assert.ok((await waitFor(got.fileDeleted, (id) => id === file.id)));
    await bob.api.request('drive/folders/delete', { folderId: folder.id });
    await waitFor(got.folderDeleted, (id) => id === folder.id);
    assert.ok(!annSees.some((f) => f.id === file.id), 'only the owner hears of their drive');
  } finally {
    s.close();
    bobsOthers.close();
  }
});

test('attached-notes: the notes that show a file, only the owner may ask', async () => {
  const file = await upload(ann, await photo('webp', { orientation: 1 }), 'attached.webp');
  const first = (await ann.api.request('notes/create', { text: 'first with it', fileIds: [file.id] })).createdNote;
  await ann.api.request('notes/create', { text: 'without it' });
  const second = (await ann.api.request('notes/create', { text: 'again', fileIds: [file.id], visibility: 'followers' })).createdNote;
  const attached = await ann.api.request('drive/files/attached-notes', { fileId: file.id });
  assert.deepEqual(attached.map((n) => n.id), [second.id, first.id]);
  const paged = await ann.api.request('drive/files/attached-notes', { fileId: file.id, limit: 1, untilId: second.id });
  assert.deepEqual(paged.map((n) => n.id), [first.id]);
  const notOwner = await apiError(() => bob.api.request('drive/files/attached-notes', { fileId: file.id }));
  assert.deepEqual([notOwner.code, notOwner.id], ['NO_SUCH_FILE', 'c118ece3-2e4b-4296-99d1-51756e32d232']);
});

test('`tsudoi drive sweep` removes stored bytes no record names, old enough not to be an upload in flight', async () => {
  const file = await upload(bob, await photo('jpeg', { orientation: 1 }), 'kept.jpg');
  const dir = path.join(server.dataDir, 'files');
  const orphan = path.join(dir, 'left-by-a-crash.jpg');
  const inFlight = path.join(dir, 'being-uploaded.jpg');
  await writeFile(orphan, 'bytes whose record never came');
  await writeFile(inFlight, 'bytes whose record is about to come');
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
  await utimes(orphan, twoDaysAgo, twoDaysAgo);
  // Every stored file old: only the orphan goes, not the files records name.
  for (const name of await readdir(dir)) {
    if (name !== 'being-uploaded.jpg') await utimes(path.join(dir, name), twoDaysAgo, twoDaysAgo);
  }
  const out = await new Promise((resolve, reject) => {
    execFile(tsudoiBinary(), ['drive', 'sweep'], { env: { ...process.env, ...server.env } },
      (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
  });
  assert.match(out, /removed 1 stored file/);
  const left = await readdir(dir);
  assert.ok(!left.includes('left-by-a-crash.jpg'));
  assert.ok(left.includes('being-uploaded.jpg'), 'younger than an hour: kept');
  const shown = await bob.api.request('drive/files/show', { fileId: file.id });
  assert.equal((await fetch(shown.url)).status, 200);
  assert.equal((await fetch(shown.thumbnailUrl)).status, 200);
});
