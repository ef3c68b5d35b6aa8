// The binary itself: configuration errors, help, migrations, and no data lost to a kill.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startServer, signup, tsudoiBinary, ids } from './lib/server.mjs';

const run = promisify(execFile);

async function runFails(args, env) {
  try {
    await run(tsudoiBinary(), args, { env: { ...process.env, ...env } });
  } catch (e) {
    return e;
  }
  throw new Error(`tsudoi ${args.join(' ')} should have failed`);
}

test('invalid configuration stops the program with a message naming the key', async () => {
  const cases = [
    [{ TSUDOI_LISTEN: 'not-an-address' }, /`listen`/],
    [{ TSUDOI_URL: 'ftp://example.com' }, /`url`/],
    [{ TSUDOI_DATABASE_URL: 'mysql://localhost/x' }, /`database_url`/],
    [{ TSUDOI_REGISTRATION: 'sometimes' }, /`registration`.*open, invite-only or closed/],
    [{ TSUDOI_MAX_NOTE_LENGTH: 'lots' }, /`max_note_length`/],
  ];
  for (const [env, message] of cases) {
    const e = await runFails(['serve'], env);
    assert.notEqual(e.code, 0);
    assert.match(e.stderr, message, JSON.stringify(env));
  }
});

test('--help documents the commands and settings', async () => {
  const { stdout } = await run(tsudoiBinary(), ['--help']);
  for (const word of ['serve', 'migrate', 'user', 'invite', 'TSUDOI_LISTEN', 'TSUDOI_DATABASE_URL', 'TSUDOI_REGISTRATION']) {
    assert.ok(stdout.includes(word), `--help mentions ${word}`);
  }
  const user = await run(tsudoiBinary(), ['user', 'create', '--help']);
  assert.match(user.stdout, /--admin/);
});

test('a killed server loses no acknowledged note, and restarts on its data', async () => {
  const first = await startServer();
  let second;
  try {
    const alice = await signup(first, 'durable');
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) => alice.api.request('notes/create', { text: `durable ${i}` })),
    );
    await first.kill();
    second = await startServer({}, first.storage);
    const notes = await second.client().request('users/notes', { userId: alice.id, limit: 100 });
    assert.deepEqual(new Set(ids(notes)), new Set(created.map((c) => c.createdNote.id)));
    const me = await second.client(alice.token).request('i', {});
    assert.equal(me.notesCount, 40);
  } finally {
    await first.kill();
    if (second) await second.stop();
    else await first.stop();
  }
});

test('meta, NodeInfo and the OpenAPI document describe this server', async () => {
  const server = await startServer({ TSUDOI_INSTANCE_NAME: 'Test Gathering' });
  try {
    const meta = await server.client().request('meta', { detail: true });
    assert.equal(meta.name, 'Test Gathering');
    assert.equal(meta.uri, server.origin);
    assert.equal(meta.maxNoteTextLength, 3000);
    assert.equal(meta.disableRegistration, false);
    assert.equal(meta.features.miauth, true);
    const links = await (await fetch(`${server.origin}/.well-known/nodeinfo`)).json();
    assert.deepEqual(links.links.map((l) => l.href), [`${server.origin}/nodeinfo/2.1`, `${server.origin}/nodeinfo/2.0`]);
    for (const version of ['2.0', '2.1']) {
      const info = await (await fetch(`${server.origin}/nodeinfo/${version}`)).json();
      assert.equal(info.version, version);
      assert.equal(info.software.name, 'tsudoi');
      assert.deepEqual(info.protocols, ['activitypub']);
      assert.equal(info.openRegistrations, true);
      assert.equal(typeof info.usage.users.total, 'number');
    }
    const api = await (await fetch(`${server.origin}/api.json`)).json();
    assert.equal(api.openapi, '3.1.0');
    const paths = Object.keys(api.paths);
    for (const endpoint of ['signup', 'signin-flow', 'i', 'i/update', 'users/show', 'users/followers', 'users/following',
      'users/relation', 'app/create', 'auth/session/generate', 'auth/session/userkey', 'following/create',
      'following/delete', 'following/requests/list', 'following/requests/accept', 'following/requests/reject',
      'following/requests/cancel', 'following/requests/sent', 'notes/create', 'notes/show', 'notes/delete',
      'notes/unrenote', 'notes/children', 'notes/replies', 'notes/renotes', 'notes/polls/vote', 'notes/timeline',
      'notes/local-timeline', 'notes/hybrid-timeline', 'notes/global-timeline', 'users/notes', 'notes/mentions', 'meta']) {
      assert.ok(paths.includes(`/${endpoint}`), `api.json lists ${endpoint}`);
    }
    const create = api.paths['/notes/create'].post;
    assert.equal(create['x-permission'], 'write:notes');
    const schema = create.requestBody.content['application/json'].schema;
    const resolved = schema.$ref ? api.components.schemas[schema.$ref.split('/').pop()] : schema;
    assert.ok(resolved.properties.text, 'the request schema names the parameters');
  } finally {
    await server.stop();
  }
});

test('mfm parse and render read standard input', async () => {
  const runWith = (args, input) => new Promise((resolve, reject) => {
    const child = execFile(tsudoiBinary(), args, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin.end(input);
  });
  const tree = JSON.parse(await runWith(['mfm', 'parse'], '**hi** @bob@example.com #tag'));
  assert.deepEqual(tree[0], { type: 'bold', children: [{ type: 'text', props: { text: 'hi' } }] });
  assert.deepEqual(tree[2], { type: 'mention', props: { username: 'bob', host: 'example.com', acct: '@bob@example.com' } });
  const simple = JSON.parse(await runWith(['mfm', 'parse', '--simple'], '**hi** :e:'));
  assert.deepEqual(simple, [{ type: 'text', props: { text: '**hi** ' } }, { type: 'emojiCode', props: { name: 'e' } }]);
  const html = await runWith(['mfm', 'render'], '**hi** <script>x</script>');
  assert.equal(html.trim(), '<p><b>hi</b> &lt;script&gt;x&lt;/script&gt;</p>');
  const text = await runWith(['mfm', 'render', '--text'], '$[x2 **big**] [l](https://x.test)');
  assert.equal(text.trim(), 'big l (https://x.test)');
});
