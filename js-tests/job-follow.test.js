'use strict';
// Tests of pymetrics/common/static/common/job-follow.js with a fake fetch and manual
// timers: the follower polls until the job says it finished, backs off on failures,
// and does not poll while the tab is hidden.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const PmJobFollow = require(
  path.join(__dirname, '..', 'pymetrics', 'common', 'static', 'common', 'job-follow.js')
);

function harness(answers, options) {
  const timers = [];
  const shown = [];
  const calls = [];
  let hidden = false;
  const follower = PmJobFollow.follower({
    url: '/jobs/7/data/',
    pollMs: 1500,
    running: true,
    show: (job) => shown.push(job),
    fetch: (url, init) => {
      calls.push({ url, init });
      const answer = answers.shift();
      if (answer instanceof Error) {
        return Promise.reject(answer);
      }
      return Promise.resolve({ ok: answer.status === 200, status: answer.status, json: async () => answer.body });
    },
    setTimeout: (fn, delay) => {
      timers.push({ fn, delay });
      return timers.length;
    },
    clearTimeout: () => {},
    isHidden: () => hidden,
    ...options,
  });
  return { follower, timers, shown, calls, hide: (value) => { hidden = value; } };
}

test('polls every pollMs until an answer says the job finished', async () => {
  const h = harness([
    { status: 200, body: { state: 'running', progress: 0.5, finished: false } },
    { status: 200, body: { state: 'succeeded', progress: 1, finished: true } },
  ]);
  h.follower.schedule(1500);
  assert.deepEqual(h.timers.map((t) => t.delay), [1500]);

  await h.timers[0].fn();
  assert.deepEqual(h.shown.map((job) => job.progress), [0.5]);
  assert.deepEqual(h.timers.map((t) => t.delay), [1500, 1500]);

  await h.timers[1].fn();
  assert.deepEqual(h.shown.map((job) => job.state), ['running', 'succeeded']);
  assert.equal(h.follower.finished(), true);
  assert.equal(h.timers.length, 2); // nothing scheduled after the end
  assert.deepEqual(h.calls[0], {
    url: '/jobs/7/data/',
    init: { credentials: 'same-origin', headers: { Accept: 'application/json' } },
  });
});

test('failed requests back off, doubling up to a minute, and keep the last figures', async () => {
  const h = harness([
    { status: 503, body: null },
    new Error('offline'),
    { status: 500, body: null },
    { status: 500, body: null },
    { status: 500, body: null },
    { status: 500, body: null },
    { status: 200, body: { state: 'running', progress: 0.2, finished: false } },
  ]);
  h.follower.schedule(0);
  for (let i = 0; i < 7; i += 1) {
    await h.timers[i].fn();
  }
  assert.deepEqual(
    h.timers.map((t) => t.delay),
    [0, 3000, 6000, 12000, 24000, 48000, 60000, 1500]
  );
  assert.deepEqual(h.shown.map((job) => job.progress), [0.2]);
});

test('a hidden tab does not poll; a finished job is not followed at all', () => {
  const h = harness([]);
  h.hide(true);
  h.follower.schedule(1500);
  assert.equal(h.timers.length, 0);
  h.hide(false);
  h.follower.schedule(0);
  assert.equal(h.timers.length, 1);

  const done = harness([], { running: false });
  done.follower.schedule(1500);
  assert.equal(done.timers.length, 0);
});
