/*
 * Following a background job from its page: a training job, an export, a data archive.
 *
 * The page is rendered complete by the server with the job's state; while the job is
 * queued or running, a follower asks the job's JSON route every pollMs and hands
 * each answer to the page's show(job). It stops once an answer says
 * `finished: true`. A failed request keeps the last figures and tries again with
 * backoff (doubling up to a minute); a hidden tab does not poll and asks again as
 * soon as it is shown.
 *
 * PmJobFollow.start({url, pollMs, running, show}) starts one follower on the page;
 * PmJobFollow.follower({...}) is the same without the page's document, for tests,
 * and takes fetch, setTimeout, clearTimeout and isHidden to replace the browser's.
 */
(function (root, factory) {
  var api = factory(root);
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.PmJobFollow = api;
  }
})(typeof window !== 'undefined' ? window : this, function (global) {
  'use strict';

  var MAX_DELAY_MS = 60000;

  function follower(options) {
    var fetchImpl = options.fetch || global.fetch.bind(global);
    var setTimer = options.setTimeout || global.setTimeout.bind(global);
    var clearTimer = options.clearTimeout || global.clearTimeout.bind(global);
    var isHidden = options.isHidden || function () {
      return Boolean(global.document && global.document.hidden);
    };
    var state = { finished: !options.running, failures: 0, timer: null };

    function schedule(delay) {
      clearTimer(state.timer);
      if (state.finished || isHidden()) {
        return;
      }
      state.timer = setTimer(poll, delay);
    }

    function poll() {
      return fetchImpl(options.url, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error('HTTP ' + response.status);
          }
          return response.json();
        })
        .then(function (job) {
          state.failures = 0;
          options.show(job);
          state.finished = Boolean(job.finished);
          schedule(options.pollMs);
        })
        .catch(function () {
          state.failures += 1;
          schedule(Math.min(options.pollMs * Math.pow(2, state.failures), MAX_DELAY_MS));
        });
    }

    return {
      schedule: schedule,
      poll: poll,
      finished: function () {
        return state.finished;
      },
    };
  }

  function start(options) {
    var follow = follower(options);
    global.document.addEventListener('visibilitychange', function () {
      if (!global.document.hidden) {
        follow.schedule(0);
      }
    });
    follow.schedule(options.pollMs);
    return follow;
  }

  return { follower: follower, start: start, MAX_DELAY_MS: MAX_DELAY_MS };
});
