// misskey-js's Stream over the `ws` package, as a Node client uses it, with helpers to wait
// for what it receives.
//
//   const s = openStream(server, alice.token);
//   const home = record(s.useChannel('homeTimeline'), 'note');
//   await synced(s);                        // every connect sent so far is in effect
//   await waitFor(home, (n) => n.id === id);

import * as Misskey from 'misskey-js';
import WebSocket from 'ws';

/** A misskey-js Stream to `server` with `token` (null: not signed in). */
export function openStream(server, token) {
  return new Misskey.Stream(server.origin, token ? { token } : null, { WebSocket });
}

/** Everything `emitter` emits as `event`, in order, as an array that fills as it comes. */
export function record(emitter, event) {
  const got = [];
  emitter.on(event, (body) => got.push(body));
  return got;
}

/** Waits until `got` holds an item matching `pred` (within `ms`) and returns it. */
export async function waitFor(got, pred, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = got.find(pred);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`nothing matching arrived in ${ms} ms; got ${JSON.stringify(got).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let syncId = 0;

/** Resolves once the server has handled every message `stream` sent before: a `connect`
 * with `pong` is answered in order. */
export async function synced(stream) {
  if (stream.state !== 'connected') await new Promise((r) => stream.once('_connected_', r));
  const id = `sync-${++syncId}`;
  const answered = new Promise((resolve) => {
    const on = (body) => {
      if (body?.id === id) {
        stream.off('connected', on);
        resolve();
      }
    };
    stream.on('connected', on);
  });
  stream.send('connect', { channel: 'localTimeline', id, params: {}, pong: true });
  await answered;
  stream.send('disconnect', { id });
}

/** Gives in-flight events time to arrive, then checks none of `got` matches `pred`. */
export async function nothingLike(got, pred, ms = 500) {
  await new Promise((r) => setTimeout(r, ms));
  const found = got.find(pred);
  if (found !== undefined) throw new Error(`unexpected: ${JSON.stringify(found).slice(0, 500)}`);
}
