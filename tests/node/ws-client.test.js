// Subscriptions from the `graphql-ws` client (the library frontends use) over the `ws`
// package, against the real server: the lazy connect/close cycle, authentication, access to
// rooms and the per-connection limits.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import * as market from './lib/market.js';
import { startServer } from './lib/server.js';
import { describeError, sendUntilReceived, wsClient } from './lib/ws.js';

const MESSAGE_ADDED = 'subscription($roomId: ID!) { messageAdded(roomId: $roomId) { id body sender { id } } }';
const idOf = (value) => value?.data?.messageAdded?.id;

let server;
let chat;
before(async () => {
  server = await startServer();
  chat = await market.chat(server);
});
after(async () => { await server?.stop(); });

const fromVendor = (body) => () => market.sendMessage(server, chat.vendor.owner, chat.roomId, body);

describe('graphql-ws client', () => {
  test('lazy mode: subscribe, receive, unsubscribe (socket closed cleanly), subscribe again, receive again', async () => {
    const ws = wsClient(server, chat.buyer.token); // lazy (the default), lazyCloseTimeout 0
    try {
      const first = ws.subscribe(MESSAGE_ADDED, { roomId: chat.roomId });
      const m1 = await sendUntilReceived(first, fromVendor('first round'), idOf);
      assert.equal(first.values.find((v) => idOf(v) === m1.id).data.messageAdded.body, 'first round');
      assert.deepEqual(first.graphqlErrors, [], 'no errors');
      first.unsubscribe();
      // The client sends `complete` and closes the now idle socket with 1000; the server must
      // answer with its own close frame (without one, `ws` reports 1006).
      const close1 = await ws.nthClose(1);
      assert.equal(first.error, undefined, `no error after unsubscribing: ${first.describe()}`);

      const second = ws.subscribe(MESSAGE_ADDED, { roomId: chat.roomId });
      const m2 = await sendUntilReceived(second, fromVendor('second round'), idOf);
      assert.equal(second.values.find((v) => idOf(v) === m2.id).data.messageAdded.body, 'second round');
      assert.deepEqual(second.graphqlErrors, [], 'no errors');
      assert.equal(ws.sockets.length, 2, 'the second subscription opened a new socket');
      assert.equal(ws.connects, 2);
      second.unsubscribe();
      const close2 = await ws.nthClose(2);
      assert.equal(second.error, undefined, `no error after unsubscribing: ${second.describe()}`);
      assert.deepEqual(ws.errors, [], 'the client saw no socket errors');
      // Both sockets closed cleanly: the server answered the client's close frame with its own.
      assert.deepEqual([close1, close2].map((c) => c.code), [1000, 1000],
        `close events ${JSON.stringify([close1, close2])} (1006 = the server sent no close frame)`);
      assert.ok(close1.wasClean && close2.wasClean, JSON.stringify([close1, close2]));
    } finally {
      await ws.dispose();
    }
  });

  test('a bad token in connectionParams: the socket closes with 4403', async () => {
    const ws = wsClient(server, 'nope'); // connectionParams { Authorization: "Bearer nope" }
    try {
      const sub = ws.subscribe(MESSAGE_ADDED, { roomId: chat.roomId });
      await sub.ended();
      assert.deepEqual(describeError(sub.error)?.close, 4403, `expected close 4403: ${sub.describe()}`);
      assert.equal(ws.closes[0]?.code, 4403);
      assert.deepEqual(sub.values, []);
    } finally {
      await ws.dispose();
    }
  });

  test('a signed-in user outside the room: NOT_FOUND for that subscription', async () => {
    const ws = wsClient(server, chat.outsider.token);
    try {
      const sub = ws.subscribe(MESSAGE_ADDED, { roomId: chat.roomId });
      await sub.until((s) => s.graphqlErrors.length > 0 || s.error !== undefined || s.completed, 10_000, 'an error');
      const codes = sub.graphqlErrors.map((e) => e.extensions?.code);
      assert.ok(codes.includes('NOT_FOUND'), `expected NOT_FOUND: ${sub.describe()}`);
      assert.deepEqual(sub.data.filter((d) => d?.messageAdded), [], 'no messages of the room');
      // A message sent now does not reach the outsider.
      await market.sendMessage(server, chat.vendor.owner, chat.roomId, 'not for outsiders');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(sub.data.filter((d) => d?.messageAdded), []);
    } finally {
      await ws.dispose();
    }
  });

  test('101 subscriptions on one connection: the 101st gets RATE_LIMITED, the others keep receiving', async () => {
    const ws = wsClient(server, chat.buyer.token);
    try {
      const subs = [];
      for (let i = 0; i < 100; i += 1) subs.push(ws.subscribe(MESSAGE_ADDED, { roomId: chat.roomId }));
      const extra = ws.subscribe(MESSAGE_ADDED, { roomId: chat.roomId });
      await extra.until((s) => s.error !== undefined || s.completed || s.values.length > 0, 10_000, 'a refusal');
      assert.ok(Array.isArray(extra.error), `the 101st subscription gets an \`error\` message: ${extra.describe()}`);
      assert.deepEqual(extra.error.map((e) => e.extensions?.code), ['RATE_LIMITED'], extra.describe());
      // The socket stays open and the first 100 keep receiving.
      await sendUntilReceived(subs[0], fromVendor('still here'), idOf);
      const last = await market.sendMessage(server, chat.vendor.owner, chat.roomId, 'to all hundred');
      await Promise.all(subs.map((s, i) => s.until((x) => x.values.some((v) => idOf(v) === last.id), 10_000, `message on subscription #${i + 1}`)));
      subs.forEach((s, i) => assert.equal(s.error, undefined, `subscription #${i + 1}: ${s.describe()}`));
      assert.equal(ws.sockets.length, 1, 'one socket all along');
      assert.deepEqual(ws.closes, [], 'the socket was not closed');
      assert.deepEqual(extra.values, [], 'the refused subscription received nothing');
    } finally {
      await ws.dispose();
    }
  });

  test('a message just over 64 KiB closes the socket with 1009', async () => {
    const ws = wsClient(server, chat.buyer.token);
    try {
      const sub = ws.subscribe(MESSAGE_ADDED, { roomId: chat.roomId, pad: 'x'.repeat(64 * 1024) });
      await sub.ended(20_000);
      assert.equal(describeError(sub.error)?.close, 1009, `expected close 1009: ${sub.describe()}`);
      assert.equal(ws.closes[0]?.code, 1009);
    } finally {
      await ws.dispose();
    }
  });

  // The client is still writing when the server refuses the message: the server's close frame
  // reaches it only if the server reads (and discards) the rest rather than resetting the TCP
  // connection with unread data (then the client sees 1006).
  test('an 8 MiB message closes the socket with 1009', async () => {
    const ws = wsClient(server, chat.buyer.token);
    try {
      const pad = 'x'.repeat(8 * 1024 * 1024);
      const sub = ws.subscribe(MESSAGE_ADDED, { roomId: chat.roomId, pad });
      await sub.ended(20_000);
      assert.equal(describeError(sub.error)?.close, 1009,
        `expected close 1009: ${sub.describe()}; socket errors: ${JSON.stringify(ws.errors.map((e) => e?.error?.message ?? e?.message ?? e?.type ?? String(e)))}`);
      assert.equal(ws.closes[0]?.code, 1009);
      // The server is fine afterwards.
      const res = await fetch(`${server.base}/healthz`);
      assert.equal(res.status, 200);
    } finally {
      await ws.dispose();
    }
  });
});
