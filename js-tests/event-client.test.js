'use strict';
// Tests of pymetrics/play/static/play/event-client.js with a fake fetch, fake storage
// and manual timers, so every assertion is exact and nothing depends on wall time.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const PymetricsEventClient = require(
  path.join(__dirname, '..', 'pymetrics', 'play', 'static', 'play', 'event-client.js')
);

const EVENTS_URL = '/api/v1/play/game-sessions/7/events/';
const COMPLETE_URL = '/api/v1/play/game-sessions/7/complete/';
const STORAGE_KEY = 'pymetrics:events:7';

function fakeStorage(initial) {
  const items = new Map(Object.entries(initial || {}));
  return {
    items,
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  };
}

function jsonResponse(status, body, headers) {
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: { get: (name) => (headers && headers[name]) || null },
    json: async () => body,
  };
}

/** A fetch whose answers are queued by the test; every call is kept. */
function fakeFetch() {
  const calls = [];
  const answers = [];
  const fetchImpl = (url, init) => {
    calls.push({ url, init, body: JSON.parse(init.body) });
    const answer = answers.shift();
    if (!answer) {
      return Promise.reject(new Error('unexpected fetch to ' + url));
    }
    if (answer instanceof Error) {
      return Promise.reject(answer);
    }
    return Promise.resolve(typeof answer === 'function' ? answer(url, init) : answer);
  };
  const ackAll = () => (url, init) => {
    const events = JSON.parse(init.body).events;
    return jsonResponse(200, {
      acked_seq: events[events.length - 1].seq,
      accepted: events.length,
      duplicates: 0,
    });
  };
  return { calls, answers, fetchImpl, ackAll };
}

/** Timers the test fires by hand. */
function fakeTimers() {
  let next = 1;
  const pending = new Map();
  return {
    pending,
    setTimer: (fn, ms) => {
      const id = next++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimer: (id) => pending.delete(id),
    delays: () => [...pending.values()].map((t) => t.ms),
    async fireAll() {
      const due = [...pending.entries()];
      pending.clear();
      for (const [, timer] of due) {
        timer.fn();
      }
      await settle();
    },
  };
}

async function settle() {
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function makeClient(overrides) {
  const clock = { now: 1000 };
  const storage = (overrides && overrides.storage) || fakeStorage();
  const net = fakeFetch();
  const timers = fakeTimers();
  const statuses = [];
  const errors = [];
  const options = Object.assign(
    {
      eventsUrl: EVENTS_URL,
      completeUrl: COMPLETE_URL,
      sessionToken: 'tok-123',
      gameSessionId: 7,
      fetchImpl: net.fetchImpl,
      storage,
      now: () => clock.now,
      random: () => 0,
      setTimer: timers.setTimer,
      clearTimer: timers.clearTimer,
      documentTarget: null,
      windowTarget: null,
      onStatus: (s) => statuses.push(s),
      onError: (e) => errors.push(e),
    },
    overrides || {}
  );
  const client = new PymetricsEventClient(options);
  return { client, clock, storage, net, timers, statuses, errors };
}

function seqs(events) {
  return events.map((e) => e.seq);
}

test('record numbers events from startSeq and times them from start()', () => {
  const { client, clock } = makeClient({ startSeq: 5 });
  clock.now = 1000;
  client.start();
  clock.now = 1010.5;
  const first = client.record('balloon_start', { balloon: 1 });
  clock.now = 1250.25;
  const second = client.record('pump', { balloon: 1, pumps: 1 });

  assert.deepEqual(first, { seq: 5, t: 10.5, type: 'balloon_start', data: { balloon: 1 } });
  assert.deepEqual(second, { seq: 6, t: 250.25, type: 'pump', data: { balloon: 1, pumps: 1 } });
  assert.equal(client.lastSeq, 6);
});

test('record times an event at `at` (frame or key timestamp), never before the last t', () => {
  const { client, clock } = makeClient();
  clock.now = 1000;
  client.start();
  clock.now = 1300;
  // Painted on the frame that began at 1216.7; the key went down at 1290.1.
  const onset = client.record('stimulus', { trial: 1 }, 1216.7);
  const response = client.record('response', { trial: 1 }, 1290.1);
  // A timestamp older than the previous event is clamped so t stays ordered.
  const late = client.record('trial_end', { trial: 1 }, 1100);
  const now = client.record('trial_start', { trial: 2 }, Number.NaN);

  assert.equal(onset.t, 216.7);
  assert.equal(response.t, 290.1);
  assert.equal(late.t, 290.1);
  assert.equal(now.t, 300);
});

test('record starts at seq 1 by default and persists the buffer at once', () => {
  const { client, clock, storage } = makeClient();
  client.start();
  clock.now = 1002;
  client.record('balloon_start', { balloon: 1 });

  const saved = JSON.parse(storage.getItem(STORAGE_KEY));
  assert.deepEqual(saved, {
    v: 1,
    last_seq: 1,
    last_t: 2,
    events: [{ seq: 1, t: 2, type: 'balloon_start', data: { balloon: 1 } }],
  });
});

test('events wait flushIntervalMs and then go out together in one POST', async () => {
  const { client, net, timers } = makeClient({ flushIntervalMs: 250 });
  client.start();
  client.record('balloon_start', { balloon: 1 });
  client.record('pump', { balloon: 1, pumps: 1 });
  client.record('collect', { balloon: 1, pumps: 1 });

  assert.equal(net.calls.length, 0);
  assert.deepEqual(timers.delays(), [250]);

  net.answers.push(jsonResponse(200, { acked_seq: 3, accepted: 3, duplicates: 0 }));
  await timers.fireAll();

  assert.equal(net.calls.length, 1);
  const call = net.calls[0];
  assert.equal(call.url, EVENTS_URL);
  assert.equal(call.init.method, 'POST');
  assert.equal(call.init.headers.Authorization, 'Bearer tok-123');
  assert.equal(call.init.headers['Content-Type'], 'application/json');
  assert.equal(call.init.keepalive, true);
  assert.deepEqual(call.body, {
    events: [
      { seq: 1, t: 0, type: 'balloon_start', data: { balloon: 1 } },
      { seq: 2, t: 0, type: 'pump', data: { balloon: 1, pumps: 1 } },
      { seq: 3, t: 0, type: 'collect', data: { balloon: 1, pumps: 1 } },
    ],
  });
  assert.deepEqual(client.pending, []);
  assert.deepEqual(timers.delays(), []);
});

test('reaching maxBatch sends at once, at most maxBatch events per POST', async () => {
  const { client, net, timers } = makeClient({ maxBatch: 3 });
  client.start();
  net.answers.push(net.ackAll(), net.ackAll());
  for (let i = 1; i <= 3; i++) {
    client.record('pump', { balloon: 1, pumps: i });
  }
  // Sent without waiting for a timer.
  assert.equal(net.calls.length, 1);
  assert.deepEqual(seqs(net.calls[0].body.events), [1, 2, 3]);

  client.record('pump', { balloon: 1, pumps: 4 });
  client.record('pump', { balloon: 1, pumps: 5 });
  await settle();
  assert.equal(net.calls.length, 1);
  await timers.fireAll();
  assert.equal(net.calls.length, 2);
  assert.deepEqual(seqs(net.calls[1].body.events), [4, 5]);
});

test('an ack drops only the events up to acked_seq', async () => {
  const { client, net, timers, storage } = makeClient();
  client.start();
  for (let i = 1; i <= 4; i++) {
    client.record('pump', { balloon: 1, pumps: i });
  }
  net.answers.push(jsonResponse(200, { acked_seq: 2, accepted: 2, duplicates: 0 }));
  await timers.fireAll();

  assert.deepEqual(seqs(client.pending), [3, 4]);
  assert.deepEqual(seqs(JSON.parse(storage.getItem(STORAGE_KEY)).events), [3, 4]);

  // The rest is re-sent on the next flush, together with new events.
  client.record('collect', { balloon: 1, pumps: 4 });
  net.answers.push(jsonResponse(200, { acked_seq: 5, accepted: 3, duplicates: 0 }));
  await timers.fireAll();
  assert.deepEqual(seqs(net.calls[1].body.events), [3, 4, 5]);
  assert.deepEqual(client.pending, []);
});

test('a failed POST is retried with the same events and seq, with backoff and status', async () => {
  const { client, net, timers, statuses } = makeClient({ backoffBaseMs: 500 });
  client.start();
  client.record('balloon_start', { balloon: 1 });
  client.record('pump', { balloon: 1, pumps: 1 });

  net.answers.push(new TypeError('Failed to fetch'));
  await timers.fireAll();
  assert.deepEqual(statuses, ['reconnecting']);
  // Equal jitter with random() = 0: half of the 500 ms ceiling.
  assert.deepEqual(timers.delays(), [250]);

  // Events recorded while offline do not cut the backoff short.
  client.record('pump', { balloon: 1, pumps: 2 });
  assert.deepEqual(timers.delays(), [250]);

  net.answers.push(jsonResponse(503, { error: { code: 'unavailable', message: 'x' } }));
  await timers.fireAll();
  assert.deepEqual(timers.delays(), [500]);

  net.answers.push(jsonResponse(429, { error: { code: 'rate_limited', message: 'x' } }));
  await timers.fireAll();
  assert.deepEqual(timers.delays(), [1000]);

  net.answers.push(net.ackAll());
  await timers.fireAll();

  assert.equal(net.calls.length, 4);
  for (const call of net.calls.slice(1)) {
    assert.deepEqual(call.body, net.calls[1].body);
  }
  assert.deepEqual(net.calls[0].body.events, net.calls[1].body.events.slice(0, 2));
  assert.deepEqual(seqs(net.calls[3].body.events), [1, 2, 3]);
  assert.deepEqual(statuses, ['reconnecting', 'ok']);
  assert.deepEqual(client.pending, []);
});

test('backoff doubles up to a 10 s cap and honours Retry-After', async () => {
  const { client, net, timers } = makeClient({ random: () => 1 });
  client.start();
  client.record('pump', { balloon: 1, pumps: 1 });
  const seen = [];
  for (let i = 0; i < 7; i++) {
    net.answers.push(new TypeError('offline'));
    await timers.fireAll();
    seen.push(...timers.delays());
  }
  assert.deepEqual(seen, [500, 1000, 2000, 4000, 8000, 10000, 10000]);

  const again = makeClient({ random: () => 0 });
  again.client.start();
  again.client.record('pump', { balloon: 1, pumps: 1 });
  again.net.answers.push(jsonResponse(429, {}, { 'Retry-After': '3' }));
  await again.timers.fireAll();
  assert.deepEqual(again.timers.delays(), [3000]);
});

test('after a reload the buffer is re-sent and seq and t continue', async () => {
  const storage = fakeStorage();
  const before = makeClient({ storage });
  before.client.start();
  before.clock.now = 1100;
  before.client.record('balloon_start', { balloon: 1 });
  before.clock.now = 1200;
  before.client.record('pump', { balloon: 1, pumps: 1 });
  before.clock.now = 1300;
  before.client.record('pump', { balloon: 1, pumps: 2 });
  before.net.answers.push(jsonResponse(200, { acked_seq: 1, accepted: 1, duplicates: 0 }));
  await before.timers.fireAll();
  // The page is reloaded before the rest is acknowledged.

  const after = makeClient({ storage, startSeq: 2 });
  assert.deepEqual(seqs(after.client.pending), [2, 3]);
  assert.equal(after.client.lastSeq, 3);
  assert.deepEqual(after.timers.delays(), [0]);

  after.clock.now = 50; // performance.now() restarts on a new page
  after.client.start();
  after.clock.now = 80;
  const next = after.client.record('pump', { balloon: 1, pumps: 3 });
  assert.deepEqual(next, { seq: 4, t: 330, type: 'pump', data: { balloon: 1, pumps: 3 } });

  after.net.answers.push(after.net.ackAll());
  await after.timers.fireAll();
  assert.deepEqual(seqs(after.net.calls[0].body.events), [2, 3, 4]);
  assert.deepEqual(after.net.calls[0].body.events[0], {
    seq: 2, t: 200, type: 'pump', data: { balloon: 1, pumps: 1 },
  });
});

test('with nothing buffered, numbering resumes at the server\'s startSeq', () => {
  const { client, timers } = makeClient({ startSeq: 42 });
  assert.deepEqual(timers.delays(), []);
  client.start();
  assert.equal(client.record('balloon_start', { balloon: 9 }).seq, 42);
});

test('a 4xx other than 429 calls onError once and stops sending', async () => {
  const { client, net, timers, errors, statuses } = makeClient();
  client.start();
  client.record('pump', { balloon: 1, pumps: 1 });
  const error = { code: 'invalid_event', message: 'pumps must be an integer', details: { seq: 1 } };
  net.answers.push(jsonResponse(400, { error }));
  await timers.fireAll();

  assert.deepEqual(errors, [error]);
  assert.deepEqual(statuses, []);
  client.record('pump', { balloon: 1, pumps: 2 });
  await client.flush();
  await timers.fireAll();
  assert.equal(net.calls.length, 1);
  assert.deepEqual(timers.delays(), []);
  await assert.rejects(client.complete(), (err) => {
    assert.equal(err.name, 'HttpError');
    assert.deepEqual(err.error, error);
    return true;
  });
  assert.equal(net.calls.length, 1);
});

test('a 4xx without a JSON error body still reports a readable error', async () => {
  const { client, net, timers, errors } = makeClient();
  client.start();
  client.record('pump', { balloon: 1, pumps: 1 });
  net.answers.push({ ok: false, status: 401, headers: { get: () => null }, json: async () => { throw new SyntaxError('html'); } });
  await timers.fireAll();
  assert.deepEqual(errors, [{
    code: 'http_401',
    message: 'The server refused the request (HTTP 401).',
    details: {},
  }]);
});

test('complete() flushes everything, then posts complete and clears storage', async () => {
  const { client, net, timers, storage, statuses } = makeClient({ maxBatch: 2 });
  client.start();
  net.answers.push(new TypeError('offline'));
  client.record('balloon_start', { balloon: 1 });
  client.record('pump', { balloon: 1, pumps: 1 }); // maxBatch: sent now, fails
  client.record('collect', { balloon: 1, pumps: 1 });
  await settle();
  assert.equal(net.calls.length, 1);

  net.answers.push(net.ackAll(), net.ackAll(), jsonResponse(202, {}));
  const done = client.complete();
  let resolved = false;
  done.then(() => { resolved = true; });
  await settle();
  assert.equal(resolved, false); // still waiting out the backoff
  await timers.fireAll(); // retry: [1, 2]
  await timers.fireAll(); // next batch: [3]
  await done;

  assert.deepEqual(net.calls.map((c) => c.url), [EVENTS_URL, EVENTS_URL, EVENTS_URL, COMPLETE_URL]);
  assert.deepEqual(seqs(net.calls[1].body.events), [1, 2]);
  assert.deepEqual(seqs(net.calls[2].body.events), [3]);
  const last = net.calls[3];
  assert.equal(last.init.method, 'POST');
  assert.equal(last.init.headers.Authorization, 'Bearer tok-123');
  assert.deepEqual(last.body, {});
  assert.equal(storage.getItem(STORAGE_KEY), null);
  assert.deepEqual(statuses, ['reconnecting', 'ok']);
  assert.throws(() => client.record('pump', {}), /already complete/);
});

test('complete() with nothing pending posts complete straight away and retries 5xx', async () => {
  const { client, net, timers } = makeClient();
  client.start();
  net.answers.push(jsonResponse(502, {}), jsonResponse(202, {}));
  const done = client.complete();
  await settle();
  assert.deepEqual(net.calls.map((c) => c.url), [COMPLETE_URL]);
  await timers.fireAll();
  await done;
  assert.deepEqual(net.calls.map((c) => c.url), [COMPLETE_URL, COMPLETE_URL]);
});

test('complete() rejects and reports when the server refuses to complete', async () => {
  const { client, net, errors } = makeClient();
  client.start();
  const error = { code: 'already_completed', message: 'This game is already complete.', details: {} };
  net.answers.push(jsonResponse(409, { error }));
  await assert.rejects(client.complete(), /already complete/);
  assert.deepEqual(errors, [error]);
});

test('start() records visibility and focus changes', async () => {
  const documentTarget = new EventTarget();
  documentTarget.visibilityState = 'visible';
  const windowTarget = new EventTarget();
  const { client, net } = makeClient({ documentTarget, windowTarget });
  client.start();
  net.answers.push(net.ackAll());

  windowTarget.dispatchEvent(new Event('blur'));
  documentTarget.visibilityState = 'hidden';
  documentTarget.dispatchEvent(new Event('visibilitychange'));
  await settle();
  documentTarget.visibilityState = 'visible';
  documentTarget.dispatchEvent(new Event('visibilitychange'));
  windowTarget.dispatchEvent(new Event('focus'));

  const recorded = net.calls[0].body.events.concat(client.pending);
  assert.deepEqual(recorded.map((e) => [e.seq, e.type, e.data]), [
    [1, 'focus', { state: 'blur' }],
    [2, 'visibility', { state: 'hidden' }],
    [3, 'visibility', { state: 'visible' }],
    [4, 'focus', { state: 'focus' }],
  ]);
  // Becoming hidden flushes at once (the tab may be closing).
  assert.deepEqual(seqs(net.calls[0].body.events), [1, 2]);

  client.stop();
  windowTarget.dispatchEvent(new Event('blur'));
  assert.equal(client.lastSeq, 4);
});

test('the constructor refuses a missing endpoint or token', () => {
  assert.throws(
    () => new PymetricsEventClient({ eventsUrl: EVENTS_URL, gameSessionId: 1 }),
    /needs eventsUrl, completeUrl, sessionToken and gameSessionId/
  );
});

// --- WebSocket transport ----------------------------------------------------------

const SOCKET_PATH = '/ws/play/7/?token=tok-123';
const SOCKET_URL = 'wss://play.example' + SOCKET_PATH;
const PAGE = { protocol: 'https:', host: 'play.example', href: 'https://play.example/play/abc/games/7/' };

/** WebSocket fakes: every socket the client opens is kept; the test plays the server. */
function fakeSockets() {
  const opened = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.closedByClient = null;
      opened.push(this);
    }

    send(text) {
      this.sent.push(JSON.parse(text));
      this.lastText = text;
    }

    close(code) {
      this.closedByClient = { code };
    }

    // --- the server's side ---
    receive(message) {
      this.onmessage({ data: JSON.stringify(message) });
    }

    hello(ackedSeq) {
      this.receive({ type: 'hello', acked_seq: ackedSeq, next_seq: ackedSeq + 1 });
    }

    ack(ackedSeq, accepted) {
      this.receive({ type: 'ack', acked_seq: ackedSeq, accepted: accepted || 0, duplicates: 0 });
    }

    serverClose(code) {
      this.onclose({ code, reason: '', wasClean: code === 1000 });
    }

    /** The client's messages of one type (events frames: their seqs). */
    of(type) {
      return this.sent.filter((m) => m.type === type);
    }

    eventFrames() {
      return this.of('events').map((m) => seqs(m.events));
    }
  }
  return { FakeWebSocket, opened, last: () => opened[opened.length - 1] };
}

/** Fires only the pending timers of one delay (flush window, backoff, watchdog). */
async function fire(timers, ms) {
  const due = [...timers.pending.entries()].filter(([, t]) => t.ms === ms);
  assert.ok(due.length, `no timer of ${ms} ms pending (pending: ${timers.delays()})`);
  for (const [id, timer] of due) {
    timers.pending.delete(id);
    timer.fn();
  }
  await settle();
}

function makeSocketClient(overrides) {
  const sockets = fakeSockets();
  const made = makeClient(Object.assign({
    socketUrl: SOCKET_PATH,
    WebSocketImpl: sockets.FakeWebSocket,
    location: PAGE,
    flushIntervalMs: 250,
    backoffBaseMs: 1000, // first retry 500 ms with random() = 0: apart from the 250 ms window
    socketTimeoutMs: 15000,
  }, overrides || {}));
  return Object.assign(made, { sockets });
}

function savedSeqs(storage) {
  return seqs(JSON.parse(storage.getItem(STORAGE_KEY)).events);
}

function bufferOf(events, lastSeq) {
  return JSON.stringify({
    v: 1,
    last_seq: lastSeq,
    last_t: events.length ? events[events.length - 1].t : 0,
    events,
  });
}

function event(seq) {
  return { seq, t: seq * 10, type: 'pump', data: { balloon: 1, pumps: seq } };
}

test('socketUrl: a path becomes wss: on an https: page and ws: on http:; absolute URLs stay', () => {
  const secure = makeSocketClient();
  secure.client.start();
  assert.equal(secure.client.transport, 'socket');
  assert.deepEqual(secure.sockets.opened.map((s) => s.url), [SOCKET_URL]);

  const plain = makeSocketClient({ location: { protocol: 'http:', host: 'localhost:8000', href: 'http://localhost:8000/' } });
  plain.client.start();
  assert.equal(plain.sockets.last().url, 'ws://localhost:8000' + SOCKET_PATH);

  const absolute = makeSocketClient({ socketUrl: 'wss://events.example/ws/play/7/?token=x' });
  absolute.client.start();
  assert.equal(absolute.sockets.last().url, 'wss://events.example/ws/play/7/?token=x');

  const fromHttp = makeSocketClient({ socketUrl: 'https://events.example/ws/play/7/' });
  fromHttp.client.start();
  assert.equal(fromHttp.sockets.last().url, 'wss://events.example/ws/play/7/');
});

test('without socketUrl or without WebSocket support the client stays on HTTP', async () => {
  for (const overrides of [{ socketUrl: undefined }, { WebSocketImpl: null }]) {
    const { client, net, timers, sockets } = makeSocketClient(overrides);
    client.start();
    assert.equal(client.transport, 'http');
    client.record('pump', { balloon: 1, pumps: 1 });
    net.answers.push(net.ackAll());
    await timers.fireAll();
    assert.equal(sockets.opened.length, 0);
    assert.deepEqual(net.calls.map((c) => c.url), [EVENTS_URL]);
    assert.deepEqual(client.pending, []);
  }
});

test('socket: the hello says what the server has; the rest is resent in order at once', async () => {
  // A page reload left 1..5 buffered; the server had stored 1..3 before it.
  const storage = fakeStorage({ [STORAGE_KEY]: bufferOf([1, 2, 3, 4, 5].map(event), 5) });
  const { client, sockets, net, statuses, timers } = makeSocketClient({ storage, startSeq: 2 });
  client.start();
  assert.equal(sockets.opened.length, 1);
  const ws = sockets.last();
  assert.deepEqual(ws.sent, []); // nothing before the hello

  ws.hello(3);
  assert.deepEqual(ws.eventFrames(), [[4, 5]]);
  assert.deepEqual(ws.of('events')[0].events, [event(4), event(5)]);
  assert.deepEqual(seqs(client.pending), [4, 5]);
  assert.deepEqual(savedSeqs(storage), [4, 5]);

  // Numbering continues after the reload.
  assert.equal(client.record('collect', { balloon: 1, pumps: 5 }).seq, 6);
  ws.ack(5, 2);
  assert.deepEqual(savedSeqs(storage), [6]);
  await fire(timers, 250);
  assert.deepEqual(ws.eventFrames(), [[4, 5], [6]]);
  assert.equal(net.calls.length, 0);
  assert.deepEqual(statuses, []);
});

test('socket: events wait for the batch window, one frame in flight, acks drop and persist', async () => {
  const { client, sockets, timers, storage } = makeSocketClient({ maxBatch: 3 });
  client.start();
  const ws = sockets.last();
  ws.hello(0);
  client.record('balloon_start', { balloon: 1 });
  client.record('pump', { balloon: 1, pumps: 1 });
  assert.deepEqual(ws.sent, []);
  await fire(timers, 250);
  assert.deepEqual(ws.eventFrames(), [[1, 2]]);
  assert.deepEqual(ws.of('events')[0], {
    type: 'events',
    events: [
      { seq: 1, t: 0, type: 'balloon_start', data: { balloon: 1 } },
      { seq: 2, t: 0, type: 'pump', data: { balloon: 1, pumps: 1 } },
    ],
  });

  // While that frame waits for its ack, more events (even maxBatch of them) wait too.
  for (let i = 2; i <= 5; i++) {
    client.record('pump', { balloon: 1, pumps: i });
  }
  assert.deepEqual(ws.eventFrames(), [[1, 2]]);

  // A partial ack drops only what it covers.
  ws.ack(1, 1);
  assert.deepEqual(seqs(client.pending), [2, 3, 4, 5, 6]);
  assert.deepEqual(savedSeqs(storage), [2, 3, 4, 5, 6]);
  // maxBatch are waiting: the next frame goes at once, at most maxBatch events.
  await fire(timers, 0);
  assert.deepEqual(ws.eventFrames(), [[1, 2], [2, 3, 4]]);
  ws.ack(4, 2);
  await fire(timers, 250);
  assert.deepEqual(ws.eventFrames(), [[1, 2], [2, 3, 4], [5, 6]]);
  ws.ack(6, 2);
  assert.deepEqual(client.pending, []);
  assert.deepEqual(savedSeqs(storage), []);
  assert.deepEqual(timers.delays(), []); // no watchdog once everything is answered
});

test('socket: a drop mid-frame reconnects after backoff and resends from the new hello', async () => {
  const { client, sockets, timers, statuses, storage, net } = makeSocketClient();
  client.start();
  const first = sockets.last();
  first.hello(0);
  for (let i = 1; i <= 3; i++) {
    client.record('pump', { balloon: 1, pumps: i });
  }
  await fire(timers, 250);
  first.ack(3, 3);
  for (let i = 4; i <= 6; i++) {
    client.record('pump', { balloon: 1, pumps: i });
  }
  await fire(timers, 250);
  assert.deepEqual(first.eventFrames(), [[1, 2, 3], [4, 5, 6]]);

  // The connection drops before [4, 5, 6] is acknowledged.
  first.serverClose(1006);
  assert.deepEqual(statuses, ['reconnecting']);
  assert.deepEqual(timers.delays(), [500]); // equal jitter, random() = 0
  // Recorded while down: buffered once, sent later.
  client.record('collect', { balloon: 1, pumps: 6 });
  assert.deepEqual(seqs(client.pending), [4, 5, 6, 7]);
  assert.equal(sockets.opened.length, 1);

  await fire(timers, 500);
  assert.equal(sockets.opened.length, 2);
  const second = sockets.last();
  // The server had stored only up to 3 (the frame was lost): all of it goes again.
  second.hello(3);
  assert.deepEqual(statuses, ['reconnecting', 'ok']);
  assert.deepEqual(second.eventFrames(), [[4, 5, 6, 7]]);
  assert.deepEqual(seqs(client.pending), [4, 5, 6, 7]);
  second.ack(7, 4);
  assert.deepEqual(client.pending, []);
  assert.deepEqual(savedSeqs(storage), []);
  // Every seq reached the server; none is missing, the only repeat is the lost frame.
  const all = first.eventFrames().flat().concat(second.eventFrames().flat());
  assert.deepEqual([...new Set(all)].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(net.calls.length, 0);
  // The closed socket's late messages are ignored.
  first.ack(99);
  assert.equal(client.lastSeq, 7);
});

test('socket: a hello that already covers part of the lost frame resends only the rest', async () => {
  const { client, sockets, timers } = makeSocketClient();
  client.start();
  sockets.last().hello(0);
  for (let i = 1; i <= 4; i++) {
    client.record('pump', { balloon: 1, pumps: i });
  }
  await fire(timers, 250);
  sockets.last().serverClose(1011);
  await fire(timers, 500);
  sockets.last().hello(2); // stored 1 and 2 before the ack got lost
  assert.deepEqual(sockets.last().eventFrames(), [[3, 4]]);
  assert.deepEqual(seqs(client.pending), [3, 4]);
});

test('socket: backoff doubles while reconnects fail and resets after a hello', async () => {
  const { client, sockets, timers } = makeSocketClient({ socketFailuresBeforeHttp: 0, random: () => 1 });
  client.start();
  sockets.last().hello(0);
  const seen = [];
  for (let i = 0; i < 6; i++) {
    sockets.last().serverClose(1006);
    seen.push(...timers.delays());
    await fire(timers, seen[seen.length - 1]);
  }
  assert.deepEqual(seen, [1000, 2000, 4000, 8000, 10000, 10000]);
  assert.equal(client.transport, 'socket'); // 0: never fall back
  sockets.last().hello(0);
  sockets.last().serverClose(1001);
  assert.deepEqual(timers.delays(), [1000]);
});

test('socket: 4401 and 4403 call onError once and never reconnect', async () => {
  // 4401 with the server's error frame first (what the server does).
  const refused = makeSocketClient();
  refused.client.start();
  refused.client.record('pump', { balloon: 1, pumps: 1 });
  const ws = refused.sockets.last();
  const error = { code: 'token_expired', message: 'the session token has expired', details: {} };
  ws.receive({ type: 'error', error });
  assert.deepEqual(refused.errors, []); // the close code decides
  ws.serverClose(4401);
  assert.deepEqual(refused.errors, [error]);
  assert.deepEqual(refused.statuses, []);
  assert.deepEqual(refused.timers.delays().filter((ms) => ms !== 250), []);
  await refused.timers.fireAll();
  refused.client.record('pump', { balloon: 1, pumps: 2 });
  await refused.client.flush();
  await refused.timers.fireAll();
  assert.equal(refused.sockets.opened.length, 1);
  assert.equal(refused.net.calls.length, 0);
  await assert.rejects(refused.client.complete(), (err) => {
    assert.equal(err.name, 'HttpError');
    assert.deepEqual(err.error, error);
    return true;
  });
  assert.deepEqual(refused.errors, [error]);
  assert.equal(refused.sockets.opened.length, 1);
  assert.deepEqual(seqs(refused.client.pending), [1, 2]); // kept, never dropped unacked

  // 4403 without an error frame still reports a readable error.
  const forbidden = makeSocketClient();
  forbidden.client.start();
  forbidden.sockets.last().hello(0);
  forbidden.sockets.last().serverClose(4403);
  assert.deepEqual(forbidden.errors, [{
    code: 'socket_closed_4403',
    message: 'The server closed the connection (code 4403).',
    details: { close_code: 4403 },
  }]);
  await forbidden.timers.fireAll();
  assert.equal(forbidden.sockets.opened.length, 1);
});

test('socket: 4413 and 4400 are final too', () => {
  for (const code of [4413, 4400]) {
    const { client, sockets, errors, timers } = makeSocketClient();
    client.start();
    sockets.last().hello(0);
    sockets.last().serverClose(code);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].details.close_code, code);
    assert.deepEqual(timers.delays(), []);
  }
});

test('socket: 4429 (rate limited) and 4408 (idle) reconnect after backoff', async () => {
  for (const [code, reason] of [[4429, 'rate_limited'], [4408, 'idle']]) {
    const { client, sockets, timers, errors, statuses } = makeSocketClient();
    client.start();
    sockets.last().hello(0);
    client.record('pump', { balloon: 1, pumps: 1 });
    await fire(timers, 250);
    sockets.last().receive({ type: 'error', error: { code: reason, message: reason, details: {} } });
    sockets.last().serverClose(code);
    assert.deepEqual(errors, []);
    assert.deepEqual(statuses, ['reconnecting']);
    assert.deepEqual(timers.delays(), [500]);
    await fire(timers, 500);
    assert.equal(sockets.opened.length, 2);
    sockets.last().hello(0);
    assert.deepEqual(sockets.last().eventFrames(), [[1]]);
    assert.deepEqual(statuses, ['reconnecting', 'ok']);
  }
});

test('socket: a restarting server\'s reconnect message sets the delay; 1012 then resumes', async () => {
  const { client, sockets, timers, errors, statuses, net } = makeSocketClient({
    socketFailuresBeforeHttp: 1,
  });
  client.start();
  const first = sockets.last();
  first.hello(0);
  for (let i = 1; i <= 3; i++) {
    client.record('pump', { balloon: 1, pumps: i });
  }
  await fire(timers, 250);
  first.ack(3, 3);
  client.record('collect', { balloon: 1, pumps: 3 });
  await fire(timers, 250);
  assert.deepEqual(first.eventFrames(), [[1, 2, 3], [4]]); // 4 is in flight when the server stops

  first.receive({ type: 'reconnect', after_ms: 3210 });
  first.serverClose(1012);
  // the server's delay, not the 500 ms backoff; a working socket was lost: say so
  assert.deepEqual(timers.delays(), [3210]);
  assert.deepEqual(statuses, ['reconnecting']);
  assert.deepEqual(errors, []);
  await fire(timers, 3210);
  assert.equal(sockets.opened.length, 2);

  // Another server answers: its hello says it has up to 3, so 4 goes again.
  sockets.last().hello(3);
  assert.deepEqual(sockets.last().eventFrames(), [[4]]);
  assert.deepEqual(statuses, ['reconnecting', 'ok']);
  // the restart was not a failed connection: with a limit of 1, still on the socket
  assert.equal(client.transport, 'socket');
  assert.equal(net.calls.length, 0);

  // A restart announced before the hello is not a failed connection either.
  sockets.last().receive({ type: 'reconnect', after_ms: 100 });
  sockets.last().serverClose(1012);
  await fire(timers, 100);
  sockets.last().receive({ type: 'reconnect', after_ms: 200 });
  sockets.last().serverClose(1012);
  assert.equal(client.transport, 'socket');
  await fire(timers, 200);
  assert.equal(sockets.opened.length, 4);
});

test('socket: a restart delay is capped at 30 s; 1012 alone reconnects after backoff', async () => {
  const { client, sockets, timers } = makeSocketClient({ socketFailuresBeforeHttp: 0 });
  client.start();
  sockets.last().hello(0);
  sockets.last().receive({ type: 'reconnect', after_ms: 3600000 });
  sockets.last().serverClose(1012);
  assert.deepEqual(timers.delays(), [30000]);
  await fire(timers, 30000);
  sockets.last().hello(0);
  sockets.last().receive({ type: 'reconnect', after_ms: 'soon' });
  sockets.last().serverClose(1012);
  assert.deepEqual(timers.delays(), [0]);
  await fire(timers, 0);
  sockets.last().hello(0);
  // without the message (a server that did not drain): the usual backoff
  sockets.last().serverClose(1012);
  assert.deepEqual(timers.delays(), [500]);
  // the message is forgotten with its socket: it never applies to the next one
  await fire(timers, 500);
  sockets.last().hello(0);
  sockets.last().serverClose(1001);
  assert.deepEqual(timers.delays(), [500]);
});

test('socket: three failed connections in a row fall back to HTTP, quietly', async () => {
  const { client, sockets, timers, net, statuses, errors } = makeSocketClient();
  client.start();
  client.record('balloon_start', { balloon: 1 });
  client.record('pump', { balloon: 1, pumps: 1 });
  sockets.last().serverClose(1006); // never said hello
  assert.deepEqual(timers.delays().sort((a, b) => a - b), [250, 500]);
  await fire(timers, 250); // the batch window passes while down: nothing to do
  await fire(timers, 500);
  sockets.last().serverClose(1006);
  await fire(timers, 1000);
  assert.equal(sockets.opened.length, 3);
  assert.equal(net.calls.length, 0);

  net.answers.push(net.ackAll());
  sockets.last().serverClose(1006);
  await settle();
  assert.equal(client.transport, 'http');
  assert.deepEqual(net.calls.map((c) => c.url), [EVENTS_URL]);
  assert.deepEqual(seqs(net.calls[0].body.events), [1, 2]);
  assert.equal(net.calls[0].init.headers.Authorization, 'Bearer tok-123');
  assert.deepEqual(client.pending, []);
  assert.deepEqual(statuses, []);
  assert.deepEqual(errors, []);

  // From now on, HTTP only.
  client.record('collect', { balloon: 1, pumps: 1 });
  net.answers.push(net.ackAll());
  await timers.fireAll();
  assert.equal(sockets.opened.length, 3);
  assert.deepEqual(seqs(net.calls[1].body.events), [3]);
});

test('socket: a hello in between restarts the count of failed connections', async () => {
  const { client, sockets, timers } = makeSocketClient({ socketFailuresBeforeHttp: 2 });
  client.start();
  sockets.last().serverClose(1006); // failure 1
  await fire(timers, 500);
  sockets.last().hello(0);
  sockets.last().serverClose(1006); // worked, then dropped: not a failed connection
  await fire(timers, 500);
  sockets.last().serverClose(1006); // failure 1 again
  assert.equal(client.transport, 'socket');
  await fire(timers, 1000);
  sockets.last().serverClose(1006); // failure 2
  assert.equal(client.transport, 'http');
  assert.equal(sockets.opened.length, 4);
});

test('socket: no hello or no ack within socketTimeoutMs counts as a dead connection', async () => {
  const { client, sockets, timers } = makeSocketClient({ socketTimeoutMs: 8000 });
  client.start();
  assert.deepEqual(timers.delays(), [8000]);
  await fire(timers, 8000); // no hello: a failed attempt
  assert.deepEqual(sockets.opened[0].closedByClient, { code: undefined });
  await fire(timers, 500);
  const ws = sockets.last();
  ws.hello(0);
  assert.deepEqual(timers.delays(), []);
  client.record('pump', { balloon: 1, pumps: 1 });
  await fire(timers, 250);
  // A server ping proves it alive and restarts the wait.
  ws.receive({ type: 'ping' });
  assert.deepEqual(timers.delays(), [8000]);
  await fire(timers, 8000); // the ack never came (half-open connection)
  await fire(timers, 500);
  assert.equal(sockets.opened.length, 3);
  sockets.last().hello(0);
  assert.deepEqual(sockets.last().eventFrames(), [[1]]);
});

test('socket: the server\'s ping is answered with pong', () => {
  const { client, sockets } = makeSocketClient();
  client.start();
  const ws = sockets.last();
  ws.hello(0);
  ws.receive({ type: 'ping' });
  assert.deepEqual(ws.sent, [{ type: 'pong' }]);
  ws.receive({ type: 'pong' }); // and pong (or anything unknown) is ignored
  assert.deepEqual(ws.sent, [{ type: 'pong' }]);
});

test('socket: an error frame for an invalid event calls onError once and stops sending', async () => {
  const { client, sockets, timers, errors, storage } = makeSocketClient();
  client.start();
  const ws = sockets.last();
  ws.hello(0);
  for (let i = 1; i <= 3; i++) {
    client.record('pump', { balloon: 1, pumps: i });
  }
  await fire(timers, 250);
  const error = { code: 'invalid_event', message: 'pumps must be an integer', details: { seq: 2 } };
  ws.receive({ type: 'error', error, acked_seq: 1 });
  assert.deepEqual(errors, [error]);
  assert.deepEqual(seqs(client.pending), [2, 3]); // the valid prefix was stored
  assert.deepEqual(savedSeqs(storage), [2, 3]);
  assert.deepEqual(ws.closedByClient, { code: 1000 });
  ws.serverClose(1000);
  client.record('pump', { balloon: 1, pumps: 4 });
  await client.flush();
  await timers.fireAll();
  assert.deepEqual(ws.eventFrames(), [[1, 2, 3]]);
  assert.equal(sockets.opened.length, 1);
  await assert.rejects(client.complete(), /pumps must be an integer/);
  assert.deepEqual(errors, [error]);
  assert.deepEqual(ws.of('complete'), []);
});

test('socket: complete() sends complete after the last ack and resolves on completed', async () => {
  const { client, sockets, timers, storage, net, statuses } = makeSocketClient({ maxBatch: 2 });
  client.start();
  const ws = sockets.last();
  ws.hello(0);
  for (let i = 1; i <= 3; i++) {
    client.record('pump', { balloon: 1, pumps: i });
  }
  assert.deepEqual(ws.eventFrames(), [[1, 2]]); // maxBatch reached: sent at once

  let resolved = false;
  const done = client.complete().then(() => { resolved = true; });
  await settle();
  assert.deepEqual(ws.of('complete'), []);
  ws.ack(2, 2);
  await fire(timers, 0); // no batch window while completing
  assert.deepEqual(ws.eventFrames(), [[1, 2], [3]]);
  assert.deepEqual(ws.of('complete'), []);
  ws.ack(3, 1);
  await settle();
  assert.deepEqual(ws.sent.map((m) => m.type), ['events', 'events', 'complete']);
  assert.equal(resolved, false);

  ws.receive({ type: 'completed' });
  ws.serverClose(1000);
  await done;
  assert.equal(storage.getItem(STORAGE_KEY), null);
  assert.equal(net.calls.length, 0);
  assert.deepEqual(statuses, []);
  assert.deepEqual(timers.delays(), []); // no reconnect after the normal close
  assert.equal(sockets.opened.length, 1);
  assert.throws(() => client.record('pump', {}), /already complete/);
  await client.complete(); // idempotent
});

test('socket: complete() survives a drop after complete was sent', async () => {
  const { client, sockets, timers } = makeSocketClient();
  client.start();
  sockets.last().hello(0);
  const done = client.complete();
  await settle();
  assert.deepEqual(sockets.last().sent, [{ type: 'complete' }]);
  sockets.last().serverClose(1006);
  await fire(timers, 500);
  sockets.last().hello(0);
  assert.deepEqual(sockets.last().sent, [{ type: 'complete' }]); // sent again: idempotent
  sockets.last().receive({ type: 'completed' });
  await done;
});

test('socket: complete() uses the HTTP endpoint when the socket falls back meanwhile', async () => {
  const { client, sockets, timers, net, storage } = makeSocketClient({ socketFailuresBeforeHttp: 2 });
  client.start();
  client.record('pump', { balloon: 1, pumps: 1 });
  const done = client.complete();
  sockets.last().serverClose(1006);
  await fire(timers, 500);
  net.answers.push(net.ackAll(), jsonResponse(202, {}));
  sockets.last().serverClose(1006);
  await done;
  assert.deepEqual(net.calls.map((c) => c.url), [EVENTS_URL, COMPLETE_URL]);
  assert.equal(storage.getItem(STORAGE_KEY), null);
});

test('socket: a frame never exceeds 1 MiB or a server-reported batch limit', async () => {
  const big = 'x'.repeat(400 * 1024);
  const { client, sockets, timers } = makeSocketClient();
  client.start();
  const ws = sockets.last();
  ws.hello(0);
  for (let i = 1; i <= 3; i++) {
    client.record('note', { text: big });
  }
  await fire(timers, 250);
  assert.deepEqual(ws.eventFrames(), [[1, 2]]);
  assert.ok(Buffer.byteLength(ws.lastText) <= 1024 * 1024);
  assert.deepEqual(JSON.parse(ws.lastText), { type: 'events', events: client.pending.slice(0, 2) });
  ws.ack(2, 2);
  await fire(timers, 250);
  assert.deepEqual(ws.eventFrames(), [[1, 2], [3]]);
  ws.ack(3, 1);

  for (let i = 4; i <= 7; i++) {
    client.record('pump', { balloon: 1, pumps: i });
  }
  await fire(timers, 250);
  ws.receive({ type: 'error', error: { code: 'batch_too_large', message: 'too many', details: {} } });
  assert.deepEqual(ws.eventFrames().slice(2), [[4, 5, 6, 7], [4, 5]]);
});

test('socket: on pagehide the buffer also goes out as a keepalive POST', async () => {
  const windowTarget = new EventTarget();
  const { client, sockets, net, timers } = makeSocketClient({ windowTarget });
  client.start();
  sockets.last().hello(0);
  client.record('pump', { balloon: 1, pumps: 1 });
  client.record('pump', { balloon: 1, pumps: 2 });
  net.answers.push(jsonResponse(200, { acked_seq: 2, accepted: 2, duplicates: 0 }));
  windowTarget.dispatchEvent(new Event('pagehide'));
  assert.deepEqual(sockets.last().eventFrames(), [[1, 2]]);
  await settle();
  assert.equal(net.calls.length, 1);
  assert.equal(net.calls[0].init.keepalive, true);
  assert.deepEqual(seqs(net.calls[0].body.events), [1, 2]);
  assert.deepEqual(client.pending, []);
  // The socket's own ack comes later and changes nothing.
  sockets.last().ack(2, 0);
  assert.deepEqual(client.pending, []);
  assert.deepEqual(timers.delays(), []);
});

test('socket: the 1 MiB frame limit counts UTF-8 bytes, not characters', async () => {
  const euros = '\u20ac'.repeat(120 * 1024); // 3 bytes each: 360 KiB per event
  const { client, sockets, timers } = makeSocketClient();
  client.start();
  const ws = sockets.last();
  ws.hello(0);
  for (let i = 1; i <= 3; i++) {
    client.record('note', { text: euros + (i === 1 ? '\ud83c\udf88' : '') });
  }
  await fire(timers, 250);
  assert.deepEqual(ws.eventFrames(), [[1, 2]]);
  assert.ok(Buffer.byteLength(ws.lastText) <= 1024 * 1024);
  ws.ack(2, 2);
  await fire(timers, 250);
  assert.deepEqual(ws.eventFrames(), [[1, 2], [3]]);
});
