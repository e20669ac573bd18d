'use strict';
// Tests of pymetrics/staff/static/staff/live-socket.js with a fake WebSocket and
// manual timers: pings are answered, a closed socket comes back after a doubling
// wait, the server's reconnect hint replaces that wait once, and 4401/4403 stop it.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const PmLiveSocket = require(
  path.join(__dirname, '..', 'pymetrics', 'staff', 'static', 'staff', 'live-socket.js')
);

function harness(options) {
  const sockets = [];
  const timers = [];
  const states = [];
  const messages = [];
  const opens = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      sockets.push(this);
    }
    send(text) {
      this.sent.push(JSON.parse(text));
    }
    serverSends(message) {
      this.onmessage({ data: typeof message === 'string' ? message : JSON.stringify(message) });
    }
  }
  const live = PmLiveSocket.keepOpen({
    url: 'ws://example.test/ws/dashboard/7/',
    WebSocket: FakeSocket,
    setTimeout: (fn, delay) => timers.push({ fn, delay }),
    random: () => 0.5,
    onMessage: (message) => messages.push(message),
    onState: (state) => states.push(state),
    onOpen: (again) => opens.push(again),
    ...options,
  });
  return { live, sockets, timers, states, messages, opens };
}

test('answers pings itself and hands every other message on', () => {
  const h = harness();
  const socket = h.sockets[0];
  assert.equal(socket.url, 'ws://example.test/ws/dashboard/7/');
  socket.onopen();
  socket.serverSends({ type: 'ping' });
  socket.serverSends({ type: 'scores.updated', session_id: 3 });
  socket.serverSends('not json');
  assert.deepEqual(socket.sent, [{ type: 'pong' }]);
  assert.deepEqual(h.messages, [{ type: 'scores.updated', session_id: 3 }]);
  assert.deepEqual(h.states, ['connecting', 'open']);
  assert.deepEqual(h.opens, [false]);
});

test('a closed socket is opened again after 1 s, 2 s, 4 s ... up to 30 s, plus jitter', () => {
  const h = harness();
  const waits = [];
  for (let i = 0; i < 7; i += 1) {
    h.sockets[i].onclose({ code: 1006 });
    waits.push(h.timers[i].delay);
    h.timers[i].fn();
  }
  // random() = 0.5 gives 250 ms of the 500 ms jitter
  assert.deepEqual(waits, [1250, 2250, 4250, 8250, 16250, 30250, 30250]);
  assert.equal(h.sockets.length, 8);
  // never open yet: still connecting, not reconnecting
  assert.deepEqual(h.states.slice(0, 3), ['connecting', 'connecting', 'connecting']);
});

test('an open socket resets the wait, and its opening says it is a reconnect', () => {
  const h = harness();
  h.sockets[0].onopen();
  h.sockets[0].onclose({ code: 1006 });
  h.timers[0].fn();
  h.sockets[1].onclose({ code: 1006 });
  h.timers[1].fn();
  h.sockets[2].onopen();
  h.sockets[2].onclose({ code: 1006 });
  assert.deepEqual(h.timers.map((t) => t.delay), [1250, 2250, 1250]);
  assert.deepEqual(h.opens, [false, true]);
  assert.deepEqual(h.states, [
    'connecting', 'open', 'reconnecting', 'reconnecting', 'reconnecting', 'reconnecting', 'open', 'reconnecting',
  ]);
});

test("the server's reconnect hint sets the next wait once, then backoff resumes", () => {
  const h = harness();
  h.sockets[0].onopen();
  h.sockets[0].serverSends({ type: 'reconnect', after_ms: 3712 });
  h.sockets[0].onclose({ code: 1012 });
  h.timers[0].fn();
  h.sockets[1].onclose({ code: 1006 });
  assert.deepEqual(h.timers.map((t) => t.delay), [3712, 1250]);
  assert.deepEqual(h.messages, []); // the hint is the socket's business, not the page's
});

test('a hint outside 0..30 s is ignored for the ordinary backoff', () => {
  const h = harness();
  h.sockets[0].serverSends({ type: 'reconnect', after_ms: 3600000 });
  h.sockets[0].onclose({ code: 1012 });
  h.timers[0].fn();
  h.sockets[1].serverSends({ type: 'reconnect', after_ms: 'soon' });
  h.sockets[1].onclose({ code: 1012 });
  assert.deepEqual(h.timers.map((t) => t.delay), [1250, 2250]);
});

for (const code of [4401, 4403]) {
  test(`close ${code} stops the socket for good`, () => {
    const h = harness();
    h.sockets[0].onopen();
    h.sockets[0].onclose({ code });
    assert.equal(h.timers.length, 0);
    assert.equal(h.live.stopped(), true);
    assert.deepEqual(h.states, ['connecting', 'open', 'stopped']);
  });
}
