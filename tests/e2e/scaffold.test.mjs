// A plugin author's first hour: `tsudoi plugin new` makes a crate outside this repository
// that tests natively, builds as a component, passes `tsudoi plugin test` on its fixtures and
// installs into a running server, which then refuses what its rules refuse.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, signup, tsudoiBinary, eventually } from './lib/server.mjs';

const run = promisify(execFile);
const config = '{"blocked_words":["buy now"],"blocked_hosts":["spam.example"]}';

test('a scaffolded plugin tests, builds, passes its fixtures and refuses notes in a server', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsudoi-new-'));
  const crate = path.join(dir, 'no-spam');
  // Built where the server's own plugins are, so their compiled dependencies are shared.
  const env = { ...process.env };
  let server;
  try {
    const created = await run(tsudoiBinary(), ['plugin', 'new', 'no-spam', '--dir', crate]);
    assert.match(created.stdout, /created the moderation plugin no-spam/);
    assert.match(await readFile(path.join(crate, 'tsudoi-plugin.toml'), 'utf8'), /name = "no-spam"/);
    // A second `new` over it changes nothing.
    const again = await run(tsudoiBinary(), ['plugin', 'new', 'no-spam', '--dir', crate]).catch((e) => e);
    assert.match(again.stderr, /exists and is not empty/);
    const bad = await run(tsudoiBinary(), ['plugin', 'new', 'No Spam']).catch((e) => e);
    assert.match(bad.stderr, /cannot name a plugin crate/);

    // Offline: the crate carries the SDK and WIT it needs, the rest is in cargo's cache.
    const tested = await run('cargo', ['test', '--offline', '--quiet'], { cwd: crate, env });
    assert.match(tested.stdout, /2 passed/);
    await run('cargo', ['build', '--offline', '--quiet', '--profile', 'plugin', '--target', 'wasm32-wasip2'], { cwd: crate, env });
    const target = process.env.CARGO_TARGET_DIR ?? path.join(crate, 'target');
    const wasm = path.join(target, 'wasm32-wasip2', 'plugin', 'no_spam.wasm');

    const verdicts = (await run(tsudoiBinary(), ['plugin', 'test', wasm, '--notes', path.join(crate, 'notes.json'), '--plugin-config', config]))
      .stdout.trim().split('\n').map((line) => JSON.parse(line).result);
    assert.deepEqual(verdicts, [
      { verdict: 'accept' },
      { verdict: 'reject', reason: 'contains a blocked word (buy now)' },
      { verdict: 'reject', reason: 'links to a blocked site (www.spam.example)' },
    ]);

    server = await startServer();
    const author = await signup(server, 'scaffold_author');
    await run(tsudoiBinary(), ['plugin', 'install', wasm, '--plugin-config', config], { env: { ...process.env, ...server.env } });
    const refused = await eventually(async () => {
      const e = await author.api.request('notes/create', { text: 'cheap: [shop](https://shop.spam.example/)' }).catch((err) => err);
      assert.equal(e.code, 'REJECTED_BY_MODERATION', JSON.stringify(e));
      return e;
    });
    assert.match(refused.message, /no-spam/);
    assert.match(refused.message, /links to a blocked site \(shop\.spam\.example\)/);
    const { createdNote } = await author.api.request('notes/create', { text: 'a link in code: `https://spam.example`' });
    assert.equal(createdNote.text, 'a link in code: `https://spam.example`');
  } finally {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
