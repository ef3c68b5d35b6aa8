// Entity shapes checked by the TypeScript compiler against misskey-js's own typings: real
// responses from a real server are written into a .ts file as values of the response type of
// their endpoint (`Misskey.Endpoints[name]['res']`), and `tsc --strict` must accept them. A
// missing field, a wrong type or a wrong nullability fails the test with tsc's message.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startServer, signup } from './lib/server.mjs';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('responses satisfy misskey-js response types under tsc --strict', async () => {
  const samples = []; // [endpoint, response]
  const call = async (api, endpoint, params) => {
    const res = await api.request(endpoint, params);
    samples.push([endpoint, res]);
    return res;
  };
  const anon = server.client();
  const signupRes = await call(anon, 'signup', { username: 'shape_a', password: 'pw' });
  const a = { id: signupRes.id, api: server.client(signupRes.token) };
  const b = await signup(server, 'shape_b', 'pw');
  await call(anon, 'signin-flow', { username: 'shape_b', password: 'pw' });
  await call(a.api, 'i', {});
  await call(a.api, 'i/update', { name: 'A', fields: [{ name: 'k', value: 'v' }], birthday: '2001-02-03' });
  await call(b.api, 'following/create', { userId: a.id });
  await call(a.api, 'following/create', { userId: b.id });
  await call(anon, 'users/show', { userId: a.id });
  await call(b.api, 'users/show', { userId: a.id });
  await call(b.api, 'users/show', { userIds: [a.id, b.id] });
  await call(anon, 'users/followers', { userId: a.id });
  await call(anon, 'users/following', { userId: a.id });
  await call(b.api, 'users/relation', { userId: a.id });
  const { createdNote: root } = await call(a.api, 'notes/create', {
    text: 'hello @shape_b #shapes', cw: 'cw', poll: { choices: ['x', 'y'], expiredAfter: 60_000 },
  });
  await call(b.api, 'notes/create', { text: 'reply', replyId: root.id });
  await call(b.api, 'notes/create', { renoteId: root.id });
  await call(b.api, 'notes/create', { text: 'quote', renoteId: root.id, visibility: 'home' });
  await call(a.api, 'notes/create', { text: 'direct', visibility: 'specified', visibleUserIds: [b.id] });
  await call(anon, 'notes/show', { noteId: root.id });
  for (const ep of ['notes/timeline', 'notes/hybrid-timeline', 'notes/mentions']) await call(b.api, ep, {});
  for (const ep of ['notes/local-timeline', 'notes/global-timeline']) await call(anon, ep, {});
  await call(anon, 'users/notes', { userId: a.id });
  await call(anon, 'notes/children', { noteId: root.id });
  await call(anon, 'notes/replies', { noteId: root.id });
  await call(anon, 'notes/renotes', { noteId: root.id });
  await call(anon, 'meta', { detail: true });
  const locked = await signup(server, 'shape_locked', 'pw');
  await locked.api.request('i/update', { isLocked: true });
  await a.api.request('following/create', { userId: locked.id });
  await call(locked.api, 'following/requests/list', {});
  await call(a.api, 'following/requests/sent', {});
  const app = await call(anon, 'app/create', { name: 'x', description: 'y', permission: ['read:account'] });
  await call(anon, 'auth/session/generate', { appSecret: app.secret });
  await call(anon, 'endpoints', {});
  await call(anon, 'endpoint', { endpoint: 'notes/create' });
  await call(anon, 'endpoint', { endpoint: 'no/such/endpoint' });
  await call(a.api, 'blocking/create', { userId: b.id });
  await call(a.api, 'blocking/list', {});
  await call(a.api, 'blocking/delete', { userId: b.id });
  await b.api.request('notes/reactions/create', { noteId: root.id, reaction: '👍' });
  await a.api.request('notifications/create', { body: 'b', header: 'h' });
  await call(a.api, 'i/notifications', { markAsRead: false });
  await call(a.api, 'i/notifications-grouped', {});
  await call(locked.api, 'i/notifications', {});
  await a.api.request('i/registry/set', { scope: ['client', 'base'], key: 'k', value: { x: 1 } });
  // (get-all and get are typed Record<string, never> in misskey-js, which no stored value
  // satisfies, Misskey's own included; registry.test.mjs checks what they return.)
  for (const ep of ['i/registry/keys', 'i/registry/keys-with-type']) {
    await call(a.api, ep, { scope: ['client', 'base'] });
  }
  await call(a.api, 'i/registry/get-detail', { scope: ['client', 'base'], key: 'k' });
  await call(a.api, 'i/registry/scopes-with-domain', {});
  // The drive: a real picture (a 1x1 PNG), in a folder, on a note.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  const folder = await call(a.api, 'drive/folders/create', { name: 'f' });
  const file = await call(a.api, 'drive/files/create', { file: new File([png], 'dot.png'), folderId: folder.id });
  await call(a.api, 'drive/folders/show', { folderId: folder.id });
  await call(a.api, 'drive/folders', {});
  await call(a.api, 'drive/files', { folderId: folder.id });
  await call(a.api, 'drive/stream', {});
  await call(a.api, 'drive/files/show', { fileId: file.id });
  await call(a.api, 'drive/files/update', { fileId: file.id, comment: 'alt' });
  await call(a.api, 'drive', {});
  await call(a.api, 'notes/create', { text: 'with a file', fileIds: [file.id] });
  // Search, favourites and the smaller note endpoints.
  await call(anon, 'notes/search', { query: 'hello' });
  await call(anon, 'notes/search-by-tag', { tag: 'shapes' });
  await call(anon, 'users/search', { query: 'shape' });
  await call(anon, 'users/search-by-username-and-host', { username: 'shape', host: null });
  await call(anon, 'hashtags/search', { query: 'sha' });
  await call(anon, 'hashtags/show', { tag: 'shapes' });
  await call(anon, 'hashtags/trend', {});
  await b.api.request('notes/favorites/create', { noteId: root.id });
  await call(b.api, 'i/favorites', {});
  await call(b.api, 'notes/state', { noteId: root.id });
  const { createdNote: deep } = await b.api.request('notes/create', { text: 'deeper', replyId: root.id });
  await call(anon, 'notes/conversation', { noteId: deep.id });
  await call(anon, 'notes/show-partial-bulk', { noteIds: [root.id, deep.id] });
  const session = randomUUID();
  await fetch(`${server.origin}/miauth/${session}?name=S&permission=read:account`);
  await fetch(`${server.origin}/miauth/${session}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'shape_a', password: 'pw' }),
  });
  const check = await anon.request(`miauth/${session}/check`, {});
  assert.equal(check.ok, true);

  const lines = [
    "import type * as Misskey from 'misskey-js';",
    "type Res<E extends keyof Misskey.Endpoints> = Misskey.Endpoints[E]['res'];",
    // Inferred against the expected type: literals keep their literal types ('public',
    // true) and every required field must be present with the right type, while fields the
    // type does not know are allowed, as they are for any client.
    'const conforms = <T,>() => <U extends T>(value: U): U => value;',
  ];
  samples.forEach(([endpoint, res], i) => {
    // users/show's response type is a hand-written switch on `userIds` in misskey-js.
    const type = endpoint === 'users/show'
      ? (Array.isArray(res) ? 'Misskey.entities.UserDetailed[]' : 'Misskey.entities.UserDetailed')
      : `Res<'${endpoint}'>`;
    lines.push(`export const typed${i} = conforms<${type}>()(${JSON.stringify(res)});`);
  });
  lines.push(`export const miauth = conforms<{ ok: true; token: string; user: Misskey.entities.UserDetailedNotMe }>()(${JSON.stringify(check)});`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsudoi-shapes-'));
  try {
    const file = path.join(dir, 'responses.ts');
    await writeFile(file, lines.join('\n'));
    await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext',
        skipLibCheck: true, typeRoots: [], baseUrl: here, paths: { 'misskey-js': [path.join(here, 'node_modules/misskey-js')] },
      },
      files: ['responses.ts'],
    }));
    try {
      await run(path.join(here, 'node_modules/.bin/tsc'), ['-p', dir], { maxBuffer: 16 << 20 });
    } catch (e) {
      assert.fail(`tsc rejected the responses:\n${e.stdout}${e.stderr}`);
    }
  } finally {
    // TSUDOI_KEEP_SHAPES=1 keeps the generated file to read alongside tsc's message.
    if (!process.env.TSUDOI_KEEP_SHAPES) await rm(dir, { recursive: true, force: true });
  }
});

test('endpoints lists what the server answers, readable without a token; endpoint describes the parameters', async () => {
  const anon = server.client();
  const names = await anon.request('endpoints', {});
  // Miria refuses a server whose list lacks `emojis`.
  for (const name of ['emojis', 'endpoints', 'endpoint', 'meta', 'notes/create', 'blocking/create']) assert.ok(names.includes(name), name);
  assert.deepEqual([...names].sort(), names);
  // Every name it lists answers (a 404 would mean the list lies), asked without a token.
  for (const name of names) {
    const res = await fetch(`${server.origin}/api/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.notEqual(res.status, 404, name);
    await res.arrayBuffer();
  }
  const create = await anon.request('endpoint', { endpoint: 'notes/create' });
  const types = Object.fromEntries(create.params.map((p) => [p.name, p.type]));
  assert.equal(types.text, 'String');
  assert.equal(types.visibleUserIds, 'Array');
  assert.equal(types.localOnly, 'Boolean');
  assert.equal(types.poll, 'Object');
  const timeline = Object.fromEntries((await anon.request('endpoint', { endpoint: 'notes/local-timeline' })).params.map((p) => [p.name, p.type]));
  assert.equal(timeline.limit, 'Integer');
  assert.equal(timeline.untilId, 'String');
  assert.equal(await anon.request('endpoint', { endpoint: 'no/such/endpoint' }), null);
});
