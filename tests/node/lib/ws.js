// graphql-ws clients (the library frontends use) over the `ws` package, with what the tests
// need to see: every socket the client opened, every close event, and subscriptions whose
// values, errors and completion can be awaited.

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * A graphql-ws client for `server`, signed in as `token` (or anonymous); lazy, closing the
 * idle socket at once and never retrying unless `options` say otherwise.
 */
export function wsClient(server, token, options = {}) {
  const sockets = [];
  const closes = [];
  const errors = [];
  let connects = 0;
  // The `ws` WebSocket, remembering each socket so a test can drop one.
  class TrackedWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  }
  const closeWaiters = new Set();
  const client = createClient({
    url: server.ws,
    webSocketImpl: TrackedWebSocket,
    connectionParams: token ? { Authorization: `Bearer ${token}` } : undefined,
    lazyCloseTimeout: 0,
    retryAttempts: 0,
    ...options,
    on: {
      connected: () => { connects += 1; },
      closed: (event) => {
        closes.push({ code: event.code, reason: String(event.reason ?? ''), wasClean: event.wasClean });
        for (const w of closeWaiters) w();
      },
      error: (e) => errors.push(e),
      ...options.on,
    },
  });
  return {
    client,
    sockets,
    closes,
    errors,
    get connects() { return connects; },
    subscribe: (query, variables) => subscribe(client, query, variables),
    /** Resolves with the `n`th close event (1-based), or rejects after `ms`. */
    nthClose(n, ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (closes.length >= n) {
            closeWaiters.delete(check);
            clearTimeout(timer);
            resolve(closes[n - 1]);
          }
        };
        const timer = setTimeout(() => {
          closeWaiters.delete(check);
          reject(new Error(`socket close #${n} not seen within ${ms} ms (closes so far: ${JSON.stringify(closes)})`));
        }, ms);
        closeWaiters.add(check);
        check();
      });
    },
    dispose: () => client.dispose(),
  };
}

/** What an error sink received, as plain data: a close event or GraphQL errors. */
export function describeError(error) {
  if (error == null) return null;
  if (Array.isArray(error)) return { errors: error.map((e) => ({ message: e.message, extensions: e.extensions })) };
  if (typeof error.code === 'number') return { close: error.code, reason: String(error.reason ?? '') };
  return { thrown: String(error?.message ?? error) };
}

/**
 * Subscribes with `client`. The returned object collects `values` (each `next` payload),
 * `error` (what the `error` sink got: GraphQL errors from an `error` message, or a close event)
 * and `completed`; `until(predicate)` waits for a state.
 */
export function subscribe(client, query, variables = {}) {
  const waiters = new Set();
  const sub = {
    values: [],
    error: undefined,
    completed: false,
    /** `data` of each `next` that had some, in order. */
    get data() {
      return sub.values.filter((v) => v.data).map((v) => v.data);
    },
    /** GraphQL errors received in `next` payloads or in an `error` message. */
    get graphqlErrors() {
      const inNext = sub.values.flatMap((v) => v.errors ?? []);
      const inError = Array.isArray(sub.error) ? sub.error : [];
      return [...inNext, ...inError];
    },
    until(predicate, ms = 10_000, what = 'the expected state') {
      return new Promise((resolve, reject) => {
        const check = () => {
          let ok = false;
          try { ok = predicate(sub); } catch (e) { ok = false; }
          if (ok) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(sub);
          } else if (sub.error !== undefined || sub.completed) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`subscription ended before ${what}: ${sub.describe()}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`subscription did not reach ${what} within ${ms} ms: ${sub.describe()}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    /** Waits until the subscription ended (error or complete). */
    ended(ms = 10_000) {
      return sub.until((s) => s.error !== undefined || s.completed, ms, 'its end');
    },
    describe() {
      return JSON.stringify({
        values: sub.values.length > 5 ? [`${sub.values.length} values, last:`, sub.values.at(-1)] : sub.values,
        error: sub.error === undefined ? 'none' : describeError(sub.error),
        completed: sub.completed,
      });
    },
  };
  const notify = () => { for (const w of [...waiters]) w(); };
  sub.unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (value) => { sub.values.push(value); notify(); },
      error: (error) => { sub.error = error; notify(); },
      complete: () => { sub.completed = true; notify(); },
    },
  );
  return sub;
}

/**
 * Sends (with `send`, which returns the message) until `sub` received one it sent: a new
 * subscription is live only once the server has registered it, and the protocol has no
 * acknowledgement for that. Returns the message received.
 */
export async function sendUntilReceived(sub, send, idOf, ms = 15_000) {
  const deadline = Date.now() + ms;
  const sent = new Set();
  for (;;) {
    const message = await send();
    sent.add(message.id);
    try {
      await sub.until((s) => s.values.some((v) => sent.has(idOf(v))), 400, 'a message');
      return message;
    } catch (e) {
      if (sub.error !== undefined || sub.completed || Date.now() > deadline) {
        throw new Error(`no sent message arrived: ${sub.describe()}`);
      }
    }
  }
}
