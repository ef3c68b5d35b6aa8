// The drive on S3: a real S3-compatible server (s3s-fs, installed by scripts/setup-peers)
// holds the files; Tsudoi signs its requests, serves the files from there, and removes them
// with their records.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { startServer, signup, freePort, tsudoiBinary } from './lib/server.mjs';

const s3sFs = process.env.TSUDOI_S3S_FS
  ?? path.join(process.env.TSUDOI_TOOLS_DIR ?? path.join(os.homedir(), '.cache', 'tsudoi', 'tools'), 'bin', 's3s-fs');

let s3;
let root;
let server;
let ann;

before(async () => {
  assert.ok(existsSync(s3sFs), `${s3sFs} is missing: run scripts/setup-peers`);
  root = await mkdtemp(path.join(os.tmpdir(), 'tsudoi-s3-'));
  await mkdir(path.join(root, 'tsudoi-bucket'));
  const port = await freePort();
  s3 = spawn(s3sFs, ['--host', '127.0.0.1', '--port', String(port), '--access-key', 'AKIDTSUDOI', '--secret-key', 'tsudoi-secret-key', root], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(endpoint);
      break;
    } catch {
      if (i > 100) throw new Error('s3s-fs did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  server = await startServer({
    TSUDOI_S3_ENDPOINT: endpoint,
    TSUDOI_S3_BUCKET: 'tsudoi-bucket',
    TSUDOI_S3_ACCESS_KEY_ID: 'AKIDTSUDOI',
    TSUDOI_S3_SECRET_ACCESS_KEY: 'tsudoi-secret-key',
    TSUDOI_S3_PREFIX: 'media',
  });
  ann = await signup(server, 's3_ann');
});
after(async () => {
  await server?.stop();
  s3?.kill();
  if (root) await rm(root, { recursive: true, force: true });
});

test('uploads land in the bucket without their EXIF, are served from it and removed with their record', async () => {
  assert.equal((await server.client().request('meta', { detail: true })).features.objectStorage, true);
  const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#808000' } })
    .jpeg()
    .withExif({ IFD0: { Make: 'S3Cam' }, IFD3: { GPSMapDatum: 'GPS-IN-S3' } })
    .toBuffer();
  const file = await ann.api.request('drive/files/create', { file: new File([photo], 'bucket.jpg') });
  const stored = await readdir(path.join(root, 'tsudoi-bucket', 'media'));
  const original = stored.find((k) => file.url.endsWith(`/${k}`));
  const thumbnail = stored.find((k) => file.thumbnailUrl.endsWith(`/${k}`));
  assert.ok(original && thumbnail, `the bucket holds both: ${stored}`);
  const inBucket = await readFile(path.join(root, 'tsudoi-bucket', 'media', original));
  assert.ok(!inBucket.includes('GPS-IN-S3') && !inBucket.includes('S3Cam'), 'stripped before storing');
  assert.equal(inBucket.length, file.size);

  const served = Buffer.from(await (await fetch(file.url)).arrayBuffer());
  assert.deepEqual(served, inBucket);
  const ranged = await fetch(file.url, { headers: { range: 'bytes=2-5' } });
  assert.equal(ranged.status, 206);
  assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), inBucket.subarray(2, 6));
  assert.equal((await sharp(Buffer.from(await (await fetch(file.thumbnailUrl)).arrayBuffer())).metadata()).width, 498);

  await ann.api.request('drive/files/delete', { fileId: file.id });
  assert.deepEqual(await readdir(path.join(root, 'tsudoi-bucket', 'media')), [], 'both objects removed');
  assert.equal((await fetch(file.url)).status, 404);
});

test('the sweep lists the bucket too: an object no record names goes, the rest stays', async () => {
  const photo = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#004080' } }).png().toBuffer();
  const file = await ann.api.request('drive/files/create', { file: new File([photo], 'kept.png') });
  const dir = path.join(root, 'tsudoi-bucket', 'media');
  await writeFile(path.join(dir, 'orphan.png'), 'an object whose record never came');
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
  for (const name of await readdir(dir)) await utimes(path.join(dir, name), twoDaysAgo, twoDaysAgo);
  const out = await new Promise((resolve, reject) => {
    execFile(tsudoiBinary(), ['drive', 'sweep'], { env: { ...process.env, ...server.env } },
      (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
  });
  assert.match(out, /removed 1 stored file/);
  assert.ok(!(await readdir(dir)).includes('orphan.png'));
  assert.equal((await fetch(file.url)).status, 200);
  assert.equal((await fetch(file.thumbnailUrl)).status, 200);
});
