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
