// Moderation plugins through the whole server: installed from the shell while the server
// runs, applied to notes posted with misskey-js, upgraded under load, and failing safely.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, signup, apiError, tsudoiBinary, pluginWasm, eventually } from './lib/server.mjs';

const run = promisify(execFile);
let server;
let alice;

const cli = (...args) => run(tsudoiBinary(), ['plugin', ...args], { env: { ...process.env, ...server.env } });

before(async () => {
  server = await startServer();
  alice = await signup(server, 'plugin_alice');
});
after(async () => { await server?.stop(); });

test('a keyword filter installed at runtime rejects, and a rejected note is not stored', async () => {
  const out = await cli('install', pluginWasm('keyword_filter'), '--plugin-config', '{"keywords":["buy now"]}');
  assert.match(out.stdout, /installed keyword-filter 0\.1\.0 \(moderation\)/);
  await eventually(async () => {
    const e = await apiError(() => alice.api.request('notes/create', { text: 'buy now (probe)' }));
    assert.equal(e.code, 'REJECTED_BY_MODERATION');
  });
  // Probes posted before the server picked the plugin up were stored; count from here.
  const before = (await alice.api.request('i', {})).notesCount;
  const err = await apiError(() => alice.api.request('notes/create', { text: 'BUY NOW cheap pills' }));
  assert.equal(err.code, 'REJECTED_BY_MODERATION');
  assert.match(err.message, /keyword-filter/);
  assert.match(err.message, /buy now/);
  assert.equal((await alice.api.request('i', {})).notesCount, before, 'nothing was stored');
  const texts = (await alice.api.request('users/notes', { userId: alice.id, limit: 100 })).map((n) => n.text);
  assert.ok(!texts.includes('BUY NOW cheap pills'));
  const ok = (await alice.api.request('notes/create', { text: 'a normal note' })).createdNote;
  assert.equal(ok.text, 'a normal note');
  const list = (await cli('list')).stdout;
  assert.match(list, /keyword-filter\t0\.1\.0\tmoderation\tenabled\tfail-open/);
});

test('reconfigured to add a CW, the note is stored rewritten; disabled, it does nothing', async () => {
  await cli('configure', 'keyword-filter', '{"keywords":["spoiler"],"action":"cw"}');
  const note = await eventually(async () => {
    const { createdNote } = await alice.api.request('notes/create', { text: 'the spoiler is here' });
    if (createdNote.cw == null) {
      await alice.api.request('notes/delete', { noteId: createdNote.id });
      throw new Error('not rewritten yet');
    }
    return createdNote;
  });
  assert.equal(note.cw, 'filtered: spoiler');
  assert.equal((await server.client().request('notes/show', { noteId: note.id })).cw, 'filtered: spoiler');
  const refused = await cli('configure', 'keyword-filter', '{"keywords": 5}').catch((e) => e);
  assert.match(refused.stderr, /was not reconfigured/);
  assert.match(refused.stderr, /does not match the plugin's schema/);
  await cli('disable', 'keyword-filter');
  await eventually(async () => {
    const { createdNote } = await alice.api.request('notes/create', { text: 'spoiler again' });
    assert.equal(createdNote.cw, null);
  });
  await cli('enable', 'keyword-filter');
});

test('hostile plugins cost a call, not the server: fail-open accepts, fail-closed rejects', async () => {
  await cli('install', pluginWasm('hostile_plugin'), '--position', '5');
  // `trap` and `loop` are accepted (fail-open); the server keeps answering.
  const trapped = await eventually(async () => {
    const { createdNote } = await alice.api.request('notes/create', { text: 'trap' });
    return createdNote;
  });
  assert.equal(trapped.text, 'trap');
  const started = Date.now();
  const looped = (await alice.api.request('notes/create', { text: 'loop' })).createdNote;
  assert.equal(looped.text, 'loop');
  assert.ok(Date.now() - started < 2000, 'a looping plugin is cut off at its deadline');
  assert.equal((await server.client().request('meta', {})).name, 'Tsudoi');
  await cli('install', pluginWasm('hostile_plugin'), '--fail-closed');
  const rejected = await eventually(async () => {
    const e = await apiError(() => alice.api.request('notes/create', { text: 'trap' }));
    return e;
  });
  assert.equal(rejected.code, 'REJECTED_BY_MODERATION');
  await cli('remove', 'hostile');
});

test('a plugin that keeps failing is disabled, the admin is told, and /metrics counts it', async () => {
  await cli('install', pluginWasm('hostile_plugin'), '--position', '7');
  // The first `trap` the new (fail-open) plugin sees is accepted: its first failure.
  await eventually(async () => {
    const { createdNote } = await alice.api.request('notes/create', { text: 'trap' });
    assert.equal(createdNote.text, 'trap');
  });
  for (let i = 0; i < 4; i++) {
    const { createdNote } = await alice.api.request('notes/create', { text: 'trap' });
    assert.equal(createdNote.text, 'trap', 'fail-open: the note is accepted');
  }
  const list = (await cli('list')).stdout;
  assert.match(list, /hostile\t0\.1\.0\tmoderation\tdisabled/);
  assert.match(list, /notice \(plugin-disabled\): The moderation plugin hostile failed 5 times in a row/);
  const metrics = await (await fetch(`${server.origin}/metrics`)).text();
  const failures = Number(/tsudoi_plugin_failures_total\{kind="moderation",plugin="hostile"\} (\d+)/.exec(metrics)?.[1]);
  assert.ok(failures >= 5, `failures counted: ${failures}`);
  assert.match(metrics, /tsudoi_plugin_call_seconds_count\{kind="moderation",plugin="hostile"\} \d+/);
  await cli('remove', 'hostile');
});

test('plugin test leaves the working directory alone and stops quietly when its reader does', async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'tsudoi-author-'));
  try {
    const notes = path.join(work, 'notes.json');
    await writeFile(notes, JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ text: `note ${i}` }))));
    const env = { ...process.env, XDG_CACHE_HOME: path.join(work, 'cache') };
    delete env.TSUDOI_DATA_DIR;
    // Only the first verdict is read: the rest meet a closed pipe.
    const { stdout, stderr } = await run('bash', ['-c',
      `set -o pipefail; "${tsudoiBinary()}" plugin test "${pluginWasm('keyword_filter')}" --notes notes.json --plugin-config '{"keywords":["buy now"]}' | head -n 1`,
    ], { cwd: work, env });
    assert.equal(JSON.parse(stdout).result.verdict, 'accept');
    assert.doesNotMatch(stderr, /panicked/);
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual((await readdir(work)).sort(), ['cache', 'notes.json'], 'no ./data');
    assert.ok((await readdir(path.join(work, 'cache', 'tsudoi', 'plugin-cache'))).length > 0, 'compiled code cached');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('plugin test fixtures describe the author: a month-old account passes a guard for new ones', async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'tsudoi-fixtures-'));
  try {
    const notes = path.join(work, 'notes.json');
    await writeFile(notes, JSON.stringify([
      { text: 'hello', author: { username: 'old', accountAgeDays: 30, followers: 12, notes: 400 } },
      { text: 'hello', author: { username: 'new', accountAgeDays: 0.1 } },
      { text: 'hello', author: { username: 'remote', host: 'example.com', accountAgeDays: 400 } },
    ]));
    const env = { ...process.env, XDG_CACHE_HOME: path.join(work, 'cache') };
    const { stdout } = await run(tsudoiBinary(), ['plugin', 'test', pluginWasm('new_account_guard'), '--notes', notes], { env });
    const results = stdout.trim().split('\n').map((l) => JSON.parse(l).result);
    assert.deepEqual(results[0], { verdict: 'accept' });
    // A young account is counted in the key-value store, which offline runs do not have.
    assert.equal(results[1].verdict, 'error');
    assert.match(results[1].error, /key-value store is not available/);
    assert.deepEqual(results[2], { verdict: 'accept' });
    // Granted `kv`, the run keeps a store in memory across its notes: the guard counts a new
    // account's notes and refuses the eleventh of the hour.
    await writeFile(notes, JSON.stringify(Array.from({ length: 12 }, (_, i) => ({ text: `n${i}`, author: { username: 'new' } }))));
    const counted = await run(tsudoiBinary(), ['plugin', 'test', pluginWasm('new_account_guard'), '--notes', notes, '--grant', 'kv'], { env });
    const verdicts = counted.stdout.trim().split('\n').map((l) => JSON.parse(l).result.verdict);
    assert.deepEqual(verdicts, [...Array(10).fill('accept'), 'reject', 'reject']);
    // Granted `http:HOST`, a run reaches recorded answers only, never the network.
    const answers = path.join(work, 'answers.json');
    await writeFile(answers, JSON.stringify({ 'https://example.com/check': { body: 'ok' } }));
    await writeFile(notes, JSON.stringify([{ text: 'http:https://example.com/check' }, { text: 'http:https://example.com/other' }]));
    const fetched = await run(tsudoiBinary(), [
      'plugin', 'test', pluginWasm('hostile_plugin'), '--notes', notes,
      '--grant', 'http:example.com', '--http-answers', answers,
    ], { env });
    const [hit, miss] = fetched.stdout.trim().split('\n').map((l) => JSON.parse(l).result);
    assert.deepEqual(hit, { verdict: 'flag', reason: 'fetched 200 ok' });
    assert.equal(miss.verdict, 'reject');
    assert.match(miss.reason, /no recorded answer/);
    // A misspelt author field is an error, not a silent default.
    await writeFile(notes, JSON.stringify([{ text: 'x', author: { accountAge: 3 } }]));
    const typo = await run(tsudoiBinary(), ['plugin', 'test', pluginWasm('new_account_guard'), '--notes', notes], { env }).catch((e) => e);
    assert.notEqual(typo.code, 0);
    assert.match(typo.stderr, /accountAge/);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('plugin test runs a plugin on fixture notes offline and prints its verdicts', async () => {
  const { writeFile, mkdtemp } = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsudoi-fixtures-'));
  const notes = path.join(dir, 'notes.json');
  await writeFile(notes, JSON.stringify([{ text: 'hello' }, { text: 'BUY NOW' }, { text: 'x', cw: 'free crypto' }]));
  const { stdout } = await run(tsudoiBinary(), [
    'plugin', 'test', pluginWasm('keyword_filter'), '--notes', notes,
    '--plugin-config', '{"keywords":["buy now","free crypto"],"action":"flag"}',
  ], { env: { ...process.env, TSUDOI_DATA_DIR: dir } });
  const verdicts = stdout.trim().split('\n').map((l) => JSON.parse(l).result);
  assert.deepEqual(verdicts, [
    { verdict: 'accept' },
    { verdict: 'flag', reason: 'contains buy now' },
    { verdict: 'flag', reason: 'contains free crypto' },
  ]);
});

test('a plugin built against another WIT version is refused with a clear message', async () => {
  const e = await cli('install', pluginWasm('future_version_plugin')).catch((err) => err);
  assert.notEqual(e.code, 0);
  assert.match(e.stderr, /tsudoi:plugin\/moderation@0\.2\.0/);
  assert.match(e.stderr, /0\.1\.0/);
});

test('a link guard sees the links the server parsed, and a plugin built against WIT 0.1.0 still works', async () => {
  const own = await startServer();
  const ownCli = (...args) => run(tsudoiBinary(), ['plugin', ...args], { env: { ...process.env, ...own.env } });
  try {
    const newcomer = await signup(own, 'link_newcomer');
    await ownCli('install', pluginWasm('link_guard'), '--plugin-config', '{"blocked_hosts":["spam.example"]}');
    const post = (text) => newcomer.api.request('notes/create', { text }).then((r) => r.createdNote, (e) => e);
    // An account made seconds ago may not link (the default: younger than a day).
    const young = await eventually(async () => {
      const refused = await post('my blog: https://blog.example/hello');
      assert.equal(refused.code, 'REJECTED_BY_MODERATION', JSON.stringify(refused));
      return refused;
    });
    assert.match(young.message, /accounts younger than 24 hours may not post links/);
    // A URL in code is not a link, and neither is a host without a scheme.
    assert.equal((await post('run `curl https://blog.example/x`')).text, 'run `curl https://blog.example/x`');
    assert.equal((await post('blog.example is mine')).text, 'blog.example is mine');

    // Everyone may link, except to the blocked site, whatever the label says.
    await ownCli('configure', 'link-guard', '{"blocked_hosts":["spam.example"],"new_account_hours":0}');
    await eventually(async () => assert.equal((await post('https://blog.example/a')).text, 'https://blog.example/a'));
    const blocked = await post('see [docs.example](https://WWW.Spam.Example:8443/x)');
    assert.equal(blocked.code, 'REJECTED_BY_MODERATION', JSON.stringify(blocked));
    assert.match(blocked.message, /links to a blocked site \(www\.spam\.example\)/);

    // A component built against 0.1.0, before links existed, installs and answers through the
    // server's 0.1.1 bindings: its rejection and its rewrite of the whole note arrive.
    await ownCli('install', pluginWasm('legacy_0_1_0_plugin'));
    const legacy = await eventually(async () => {
      const refused = await post('legacy:reject');
      assert.equal(refused.code, 'REJECTED_BY_MODERATION', JSON.stringify(refused));
      return refused;
    });
    assert.match(legacy.message, /legacy refuses @link_newcomer/);
    const rewritten = await post('legacy:cw');
    assert.equal(rewritten.cw, 'legacy cw');
    assert.equal((await own.client().request('notes/show', { noteId: rewritten.id })).cw, 'legacy cw');
  } finally {
    await own.stop();
  }
});

test('upgrading a plugin while a client posts continuously fails no request', async () => {
  await cli('configure', 'keyword-filter', '{"keywords":["forbidden"]}');
  let stop = false;
  const failures = [];
  let posted = 0;
  // Several authors, so the per-user posting limit (300 an hour) is not what is measured.
  const authors = [];
  for (let i = 0; i < 6; i++) authors.push(await signup(server, `steady_${i}`));
  const poster = async (k) => {
    while (!stop) {
      try {
        await authors[(posted + k) % authors.length].api.request('notes/create', { text: `steady ${posted}` });
        posted += 1;
      } catch (e) {
        failures.push(e);
      }
    }
  };
  const posters = [poster(0), poster(1)];
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 400));
    await cli('install', pluginWasm('keyword_filter'), '--plugin-config', '{"keywords":["forbidden"]}');
  }
  await new Promise((r) => setTimeout(r, 1200));
  stop = true;
  await Promise.all(posters);
  assert.deepEqual(failures, []);
  assert.ok(posted > 20, `posted ${posted}`);
});

test('the Python and JavaScript ports install with their manifests and rewrite like the Rust plugin', async () => {
  for (const [file, name] of [['keyword_filter_js', 'keyword-filter-js'], ['keyword_filter_py', 'keyword-filter-py']]) {
    const wasm = pluginWasm(file);
    const out = await cli('install', wasm, '--manifest', wasm.replace(/\.wasm$/, '.toml'),
      '--plugin-config', '{"keywords":["polyglot"],"action":"cw"}', '--position', '9');
    assert.match(out.stdout, new RegExp(`installed ${name} 0\\.1\\.0 \\(moderation\\)`));
    const note = await eventually(async () => {
      const { createdNote } = await alice.api.request('notes/create', { text: `a POLYGLOT note (${name})` });
      if (createdNote.cw == null) {
        await alice.api.request('notes/delete', { noteId: createdNote.id });
        throw new Error(`${name} not running yet`);
      }
      return createdNote;
    }, 60_000);
    assert.equal(note.cw, 'filtered: polyglot');
    const plain = (await alice.api.request('notes/create', { text: 'nothing to see' })).createdNote;
    assert.equal(plain.cw, null);
    await cli('remove', name);
  }
});

test('a bridge plugin is polled offline page by page, within the configured deadline, and the server refuses to install it', async () => {
  const poll = async (...args) => JSON.parse((await cli('poll', pluginWasm('echo_bridge_plugin'), ...args)).stdout);
  const first = await poll('--plugin-config', '{"page":2}');
  assert.deepEqual(first.posts.map((p) => p.text), ['echo 0', 'echo 1']);
  assert.equal(first.actors[0].remote_id, 'did:plc:echo');
  assert.equal(first.next_cursor, '2');
  const second = await poll('--plugin-config', '{"page":2}', '--cursor', first.next_cursor);
  assert.deepEqual(second.posts.map((p) => p.remote_id), ['at://did:plc:echo/app.bsky.feed.post/2', 'at://did:plc:echo/app.bsky.feed.post/3']);
  const bad = await cli('poll', pluginWasm('echo_bridge_plugin'), '--cursor', 'x').catch((e) => e);
  assert.match(bad.stderr, /not a cursor of mine: x/);

  // A poll that never ends is cut at `[plugins] bridge_poll_deadline_ms`.
  const dir = await mkdtemp(path.join(tmpdir(), 'tsudoi-bridge-'));
  const config = path.join(dir, 'tsudoi.toml');
  await writeFile(config, '[plugins]\nbridge_poll_deadline_ms = 300\n');
  const started = Date.now();
  const looped = await cli('--config', config, 'poll', pluginWasm('echo_bridge_plugin'), '--plugin-config', '{"loop":true}').catch((e) => e);
  assert.match(looped.stderr, /ran past its 300ms deadline/);
  assert.ok(Date.now() - started < 5000, 'stopped at the deadline, not at the 10 s default');
  await rm(dir, { recursive: true });

  const refused = await cli('install', pluginWasm('echo_bridge_plugin')).catch((e) => e);
  assert.match(refused.stderr, /does not poll bridge plugins yet/);
  assert.doesNotMatch((await cli('list')).stdout, /echo-bridge/);
});
