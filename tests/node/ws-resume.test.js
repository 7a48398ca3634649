// Resumable subscriptions (`after` = the id of the last message or notification the client
// saw): the server first sends everything later from the database, in order, then the live
// ones, with no gap and no duplicate at the seam.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { gql } from './lib/gql.js';
import * as market from './lib/market.js';
import { startServer } from './lib/server.js';
import { wsClient } from './lib/ws.js';

let server;
let chat;
before(async () => {
  server = await startServer();
  chat = await market.chat(server);
});
after(async () => { await server?.stop(); });

/** Another order of the chat's buyer from its vendor, and its chat room. */
async function freshRoom() {
  const orderId = await market.placeOrder(server, chat.buyer, [{ productId: chat.productId, quantity: 1 }], chat.addressId);
  const roomId = await market.chatRoom(server, chat.buyer, orderId);
  return { orderId, roomId };
}

/** Waits (at most `ms`) until `condition()` holds; polls, never sleeps a fixed time. */
async function until(condition, ms, what) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

const MESSAGE_ADDED = 'subscription($roomId: ID!, $after: ID) { messageAdded(roomId: $roomId, after: $after) { id body } }';
const idOf = (value) => value?.data?.messageAdded?.id;

describe('resumable subscriptions', () => {
  test('messageAdded: dropped, messages sent meanwhile, resumed with `after`: every message exactly once, in order', async () => {
    const { roomId } = await freshRoom();
    // The vendor sends all along: before the drop, while the subscriber is away and while it
    // reconnects.
    const sent = [];
    let sending = true;
    let sendError = null;
    const sender = (async () => {
      for (let i = 1; sending; i += 1) {
        try {
          sent.push((await market.sendMessage(server, chat.vendor.owner, roomId, `message ${i}`)).id);
        } catch (e) {
          sendError = e;
          return;
        }
        await sleep(15);
      }
    })();

    const a = wsClient(server, chat.buyer.token);
    const b = wsClient(server, chat.buyer.token);
    try {
      const first = a.subscribe(MESSAGE_ADDED, { roomId });
      await first.until((s) => s.values.filter(idOf).length >= 5, 15_000, 'five messages');
      // The connection drops (no close frame, as when a phone loses its network).
      a.sockets.at(-1).terminate();
      await first.ended(5000);
      const seenBefore = first.values.map(idOf);
      assert.ok(seenBefore.every(Boolean), `only messages before the drop: ${first.describe()}`);
      const last = seenBefore.at(-1);
      const countAtDrop = sent.length;
      await until(() => sent.length >= countAtDrop + 5, 10_000, 'messages sent while the subscriber is away');
      assert.ok(sent.length > countAtDrop, 'messages were sent while the subscriber was away');

      const awayCount = sent.length - sent.indexOf(last) - 1;
      const resumed = b.subscribe(MESSAGE_ADDED, { roomId, after: last });
      await resumed.until((s) => s.values.length > 0, 10_000, 'the first resumed message');
      const sentAtResume = sent.length;
      await until(() => sent.length >= sentAtResume + 10, 10_000, 'live messages after the backlog');
      sending = false;
      await sender;
      assert.equal(sendError, null, `sendMessage failed: ${sendError?.message}`);
      // A last message as a fence: one subscription delivers in order, so a late duplicate of
      // any earlier message would arrive before it.
      sent.push((await market.sendMessage(server, chat.vendor.owner, roomId, 'fence')).id);
      const final = sent.at(-1);
      await resumed.until((s) => s.values.some((v) => idOf(v) === final), 10_000, 'the fence, sent last');

      assert.deepEqual(resumed.graphqlErrors, [], resumed.describe());
      console.log(`resumption: ${seenBefore.length} seen before the drop, ${awayCount} sent while away (before resubscribing), ${resumed.values.length} after resubscribing, ${sent.length} sent in all`);
      assert.ok(awayCount > 0, 'messages were sent between the drop and the resubscription');
      const seen = [...seenBefore, ...resumed.values.map(idOf)];
      const expected = sent.slice(sent.indexOf(seenBefore[0]));
      assert.ok(expected.length >= seenBefore.length, 'the first seen message was one the vendor sent');
      const seenSet = new Set(seen);
      const missing = expected.filter((id) => !seenSet.has(id));
      const duplicates = seen.filter((id, i) => seen.indexOf(id) !== i);
      assert.deepEqual({ missing, duplicates }, { missing: [], duplicates: [] },
        `${seen.length} seen, ${expected.length} expected (${seenBefore.length} before the drop)`);
      assert.deepEqual(seen, expected, 'in the order they were sent');
      // The server's own order (messages over HTTP) is the order they were sent in.
      const stored = (await market.allMessages(server, chat.buyer, roomId)).map((m) => m.id);
      assert.deepEqual(stored.slice(stored.indexOf(expected[0])), expected);
    } finally {
      sending = false;
      await sender;
      await a.dispose();
      await b.dispose();
    }
  });

  test('roomEvents with `after`: the later messages from the database, then live ones', async () => {
    const { roomId } = await freshRoom();
    const m = [];
    for (let i = 1; i <= 3; i += 1) m.push(await market.sendMessage(server, chat.vendor.owner, roomId, `event ${i}`));
    const ws = wsClient(server, chat.buyer.token);
    try {
      const sub = ws.subscribe(
        'subscription($roomId: ID!, $after: ID) { roomEvents(roomId: $roomId, after: $after) { __typename ... on ChatMessageAdded { message { id body } } } }',
        { roomId, after: m[0].id },
      );
      const added = (s) => s.values.filter((v) => v.data?.roomEvents?.__typename === 'ChatMessageAdded').map((v) => v.data.roomEvents.message.id);
      // Sent right away, while the server may still be reading the backlog: each one arrives
      // exactly once whether it is read from the database or received live.
      const live = [];
      for (let i = 1; i <= 3; i += 1) live.push(await market.sendMessage(server, chat.vendor.owner, roomId, `live ${i}`));
      // A fence, sent last: a late duplicate of any earlier message would arrive before it.
      const fence = await market.sendMessage(server, chat.vendor.owner, roomId, 'fence');
      await sub.until((s) => added(s).includes(fence.id), 10_000, 'every message and the fence');
      assert.deepEqual(added(sub), [m[1].id, m[2].id, ...live.map((l) => l.id), fence.id], 'no gap, no duplicate, in order');
      assert.deepEqual(sub.graphqlErrors, [], sub.describe());
    } finally {
      await ws.dispose();
    }
  });

  test('notificationAdded with `after`: the later notifications from the database, then live ones', async () => {
    const { orderId } = await freshRoom();
    const move = (status) => gql(
      server.graphql,
      'mutation($id: ID!, $status: OrderStatus!) { updateOrderStatus(orderId: $id, status: $status, note: "step") { id status } }',
      { id: orderId, status },
      chat.vendor.owner.token,
    );
    await move('CONFIRMED');
    await move('PACKED');
    const { notifications } = await gql(
      server.graphql,
      '{ notifications(first: 50) { edges { node { id kind order { id } } } } }',
      {},
      chat.buyer.token,
    );
    const mine = notifications.edges.map((e) => e.node).filter((n) => n.order?.id === orderId);
    const confirmed = mine.find((n) => n.kind === 'ORDER_CONFIRMED');
    const packed = mine.find((n) => n.kind === 'ORDER_PACKED');
    assert.ok(confirmed && packed, `the buyer was notified: ${JSON.stringify(mine)}`);

    const ws = wsClient(server, chat.buyer.token);
    try {
      const sub = ws.subscribe('subscription($after: ID) { notificationAdded(after: $after) { id kind order { id } } }', { after: confirmed.id });
      const got = (s) => s.values.filter((v) => v.data?.notificationAdded).map((v) => v.data.notificationAdded);
      await sub.until((s) => got(s).length >= 1, 10_000, 'the stored notification');
      assert.deepEqual(got(sub).map((n) => n.id), [packed.id], sub.describe());
      await move('SHIPPED'); // whether read from the database or live, it arrives once
      await sub.until((s) => got(s).length >= 2, 10_000, 'the live notification');
      // A fence, moved last: a late duplicate would arrive before its notification.
      await move('DELIVERED');
      await sub.until((s) => got(s).some((n) => n.kind === 'ORDER_DELIVERED'), 10_000, 'the fence');
      assert.deepEqual(got(sub).map((n) => n.kind), ['ORDER_PACKED', 'ORDER_SHIPPED', 'ORDER_DELIVERED'], sub.describe());
      assert.deepEqual(sub.graphqlErrors, [], sub.describe());
    } finally {
      await ws.dispose();
    }
  });
});
