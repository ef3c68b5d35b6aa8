// A plugin that sleeps or hangs, in a hook or while it loads, costs its own deadline and
// nothing else: notes are answered in time, sign-up keeps its pace, the plugin is disabled,
// the server starts at once and stops cleanly. What a plugin returns, logs or keeps is bounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, signup, apiError, tsudoiBinary, pluginWasm, eventually } from './lib/server.mjs';

const run = promisify(execFile);
const cli = (server, ...args) => run(tsudoiBinary(), ['plugin', ...args], { env: { ...process.env, ...server.env } });

/** Runs `fn` and returns [its result, the milliseconds it took]. */
async function timed(fn) {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

test('hooks that sleep or hang end at their deadline, sign-up keeps its pace, the plugin is disabled', async () => {
  const server = await startServer();
  try {
    const alice = await signup(server, 'sleepy_alice');
    // Another author for the flood: notes/create allows 300 an hour per user.
    const flooder = await signup(server, 'sleepy_flooder');
    const [, signupAlone] = await timed(() => signup(server, 'pace_before'));
    // Fail-closed, so a failed call shows: the note is refused.
    await cli(server, 'install', pluginWasm('hostile_plugin'), '--fail-closed');
    // A note asking the plugin to sleep 3 s waits for its 50 ms deadline only.
    await eventually(async () => {
      const [refused, took] = await timed(() => apiError(() => alice.api.request('notes/create', { text: 'sleep:3000' })));
      assert.equal(refused.code, 'REJECTED_BY_MODERATION');
      assert.ok(took < 1000, `a 3 s sleep held the note ${took} ms`);
    });

    // Hundreds of calls that would never return, with a sign-up in the middle of them. Each
    // note is refused at the deadline, or stored once the plugin has been disabled.
    const hung = Array.from({ length: 200 }, () =>
      timed(() => flooder.api.request('notes/create', { text: 'hang' }).catch((e) => e)));
    const [, signupDuring] = await timed(() => signup(server, 'pace_during'));
    const answered = await Promise.all(hung);
    for (const [outcome, took] of answered) {
      assert.ok(outcome.createdNote?.text === 'hang' || outcome.code === 'REJECTED_BY_MODERATION', JSON.stringify(outcome));
      assert.ok(took < 5000, `a hung plugin call held a note ${took} ms`);
    }
    assert.ok(answered.some(([o]) => o.code === 'REJECTED_BY_MODERATION'), 'the plugin saw the flood');
    assert.ok(signupDuring < Math.max(2000, signupAlone * 10), `sign-up took ${signupDuring} ms during the flood (${signupAlone} ms alone)`);

    const list = (await cli(server, 'list')).stdout;
    assert.match(list, /hostile\t0\.1\.0\tmoderation\tdisabled/);
    assert.match(list, /notice \(plugin-disabled\): The moderation plugin hostile failed 5 times in a row/);
    const [, signupAfter] = await timed(() => signup(server, 'pace_after'));
    assert.ok(signupAfter < Math.max(1000, signupAlone * 5), `sign-up took ${signupAfter} ms after the flood`);
    // Servers drop a disabled plugin within a second.
    await eventually(async () => {
      const [{ createdNote }, noteAfter] = await timed(() => alice.api.request('notes/create', { text: 'hang' }));
      assert.equal(createdNote.text, 'hang', 'a disabled plugin refuses nothing');
      assert.ok(noteAfter < 500, `a disabled plugin still cost ${noteAfter} ms`);
    });
  } finally {
    await server.stop();
    assert.doesNotMatch(server.log(), /panicked/, 'a clean shutdown');
  }
});

test('a plugin that sleeps while loading in a server neither delays its start nor lets notes skip moderation', async () => {
  const first = await startServer();
  let second;
  try {
    const bob = await signup(first, 'loader_bob');
    // Outside a server (the install's check) it loads at once; inside, with kv granted, its
    // `configure` sleeps a minute.
    await cli(first, 'install', pluginWasm('hostile_plugin'), '--plugin-config', '{"sleep_in_server_ms": 60000}');
    await cli(first, 'grant', 'hostile', 'kv');
    await first.kill();

    const [restarted, startup] = await timed(() => startServer({}, first.storage));
    second = restarted;
    assert.ok(startup < 3000, `the server took ${startup} ms to answer`);
    const [, meta] = await timed(() => second.client().request('meta', {}));
    assert.ok(meta < 500, `meta took ${meta} ms while a plugin was loading`);
    // A note posted now waits for the chain to load; the load ends at its 5 s deadline, and
    // the plugin is left out.
    const api = second.client(bob.token);
    const [{ createdNote }, took] = await timed(() => api.request('notes/create', { text: 'while loading' }));
    assert.equal(createdNote.text, 'while loading');
    assert.ok(took < 9000, `the note waited ${took} ms`);
    await eventually(() => assert.match(second.log(), /plugin not loaded.*deadline|deadline.*plugin not loaded/s));
    // The admin sees it too, not a plain "enabled".
    await eventually(async () => {
      const list = (await cli(second, 'list')).stdout;
      assert.match(list, /hostile\t0\.1\.0\tmoderation\tenabled but not loaded \(.*deadline.*\)/);
    });
  } finally {
    if (second) {
      await second.stop();
      assert.doesNotMatch(second.log(), /panicked/, 'a clean shutdown');
    } else {
      await first.stop();
    }
  }
});

test('nothing oversized that a plugin returns or logs is stored, logged or sent back', async () => {
  const server = await startServer();
  try {
    const created = await run(tsudoiBinary(), ['user', 'create', 'sandbox_admin', '--admin', '--password', 'pw'], {
      env: { ...process.env, ...server.env },
    });
    const admin = server.client(/token: (\S+)/.exec(created.stdout)[1]);
    const amy = await signup(server, 'oversize_amy');
    await cli(server, 'install', pluginWasm('hostile_plugin'));
    const big = 4_000_000;
    const refused = await eventually(() => apiError(() => amy.api.request('notes/create', { text: `reject:${big}` })));
    assert.equal(refused.code, 'REJECTED_BY_MODERATION');
    assert.ok(refused.message.length < 1000, `a ${refused.message.length}-character error message`);

    // A flag and a failure (fail-open) are stored for review, each with a sentence.
    const flagged = (await amy.api.request('notes/create', { text: `flag:${big}` })).createdNote;
    const failed = (await amy.api.request('notes/create', { text: `error:${big}` })).createdNote;
    // A CW rewritten past the limit clients are held to (100) is refused, and flagged.
    const rewritten = (await amy.api.request('notes/create', { text: 'cw:5000', cw: 'mine' })).createdNote;
    assert.equal(rewritten.cw, 'mine');
    assert.equal((await server.client().request('notes/show', { noteId: rewritten.id })).cw, 'mine');
    const flags = await admin.request('admin/moderation/flags', {});
    const reasonOf = (note) => flags.find((f) => f.noteId === note.id)?.reason;
    for (const note of [flagged, failed, rewritten]) {
      const reason = reasonOf(note);
      assert.equal(typeof reason, 'string', `a flag for ${note.text}`);
      assert.ok(reason.length < 1000, `a ${reason.length}-character flag for ${note.text}`);
    }
    assert.match(reasonOf(rewritten), /rewrite refused.*cw.*100/);

    // Five thousand lines of a kilobyte for one note: a few are logged, and a line says so.
    const before = server.log().length;
    const flood = (await amy.api.request('notes/create', { text: 'log:5000' })).createdNote;
    assert.equal(flood.text, 'log:5000');
    await eventually(() => assert.match(server.log().slice(before), /plugin log lines dropped/));
    const logged = server.log().length - before;
    assert.ok(logged < 64 * 1024, `${logged} bytes of log for one note`);
  } finally {
    await server.stop();
  }
});

test('a plugin flooding its key-value store with large values or tiny rows is refused at its quota, and nobody else waits', async () => {
  // A small quota, so that tiny rows reach it in a few notes; a generous deadline, so that a
  // slow disk times nothing out (deadlines are the first test's concern).
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsudoi-kv-'));
  const config = path.join(dir, 'tsudoi.toml');
  await writeFile(config, '[plugins]\nmoderation_deadline_ms = 2000\nkv_quota_bytes = 262144\n');
  const server = await startServer({ TSUDOI_CONFIG: config });
  try {
    const kim = await signup(server, 'flood_kim');
    const other = await signup(server, 'calm_other');
    await cli(server, 'install', pluginWasm('hostile_plugin'));
    await cli(server, 'grant', 'hostile', 'kv');
    const post = (text) => kim.api.request('notes/create', { text }).then((r) => r.createdNote, (e) => e);
    // Each entry is charged its value, the names (plugin, bucket, key: the note's id and a
    // number) and 64 bytes for its row.
    const charge = (id, i, value) => 64 + 'hostile'.length + 'flood'.length + `${id}${i}`.length + value;
    let used = 0;

    // Loaded (it refuses), then granted (an empty flood is stored, not refused access).
    await eventually(async () => assert.equal((await post('reject:10')).code, 'REJECTED_BY_MODERATION'));
    await eventually(async () => assert.equal((await post('kv-rows:0')).text, 'kv-rows:0'));

    // Large values: four of 60 KiB fit in 256 KiB, the fifth does not.
    for (let i = 0; i < 4; i++) {
      const stored = await post('kv-big:1');
      assert.equal(stored.text, 'kv-big:1', JSON.stringify(stored));
      used += charge(stored.id, 0, 60 << 10);
    }
    const [bigRefused, bigTook] = await timed(() => post('kv-big:1'));
    assert.equal(bigRefused.code, 'REJECTED_BY_MODERATION', JSON.stringify(bigRefused));
    assert.match(bigRefused.message, /QuotaExceeded/);
    assert.ok(bigTook < 2000, `a refused write took ${bigTook} ms`);

    // Tiny rows: empty values under short keys are charged for their rows, and refused when
    // the rows reach the quota, not a hundred thousand rows later.
    let rows = 0;
    let lastId = '';
    for (;;) {
      const outcome = await post('kv-rows:50');
      if (outcome.code) {
        assert.equal(outcome.code, 'REJECTED_BY_MODERATION', JSON.stringify(outcome));
        assert.match(outcome.message, /QuotaExceeded/);
        break;
      }
      for (let i = 0; i < 50; i++) used += charge(outcome.id, i, 0);
      lastId = outcome.id;
      rows += 50;
      assert.ok(rows < 1000, `${rows} tiny rows and no refusal`);
    }
    assert.ok(rows > 0, 'tiny rows fit beside the large values');
    assert.ok(used <= 262144, `${used} bytes stored past the quota`);
    // The refused note would have taken the store past its quota with its 50 rows.
    // (Its row numbers went up to 49: at most two digits more than its id.)
    assert.ok(used + 50 * charge(lastId, 10, 0) > 262144, `refused at ${used} bytes, well below the quota`);

    // Everyone else posts as before.
    const [calm, calmTook] = await timed(() => other.api.request('notes/create', { text: 'hello' }));
    assert.equal(calm.createdNote.text, 'hello');
    assert.ok(calmTook < 1000, `another author's note took ${calmTook} ms`);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
