/*
 * A role's training job, followed (staff/fitmodels/role.html).
 *
 * The page is rendered complete by the server with the latest training job's state;
 * while that job is queued or running, this script asks the job's JSON route
 * (staff:fit-training-job-data) every poll_ms and updates the progress bar, the
 * state, the trainer's message and, once it ends, the error or the link to the
 * version it trained. A failed request keeps the last figures and tries again with
 * backoff (doubling up to a minute); a hidden tab does not poll and asks again when
 * shown. Configuration comes from the json_script "fit-training-config":
 * {url, poll_ms, running}.
 */
(function (global) {
  'use strict';

  var MAX_DELAY_MS = 60000;
  var config = null;
  var root = null;
  var timer = null;
  var failures = 0;
  var finished = false;

  function part(role) {
    return root.querySelector('[data-role="' + role + '"]');
  }

  function show(job) {
    root.dataset.state = job.state;
    part('state').textContent = job.state_label;
    part('message').textContent = job.message || '';
    part('progress').value = job.progress || 0;
    part('progress').textContent = String(job.progress || 0);
    var error = part('error');
    error.textContent = job.error || '';
    error.hidden = !job.error;
    var done = part('done');
    if (job.model_version_url) {
      part('version-link').href = job.model_version_url;
      done.hidden = false;
    }
    finished = Boolean(job.finished);
  }

  function schedule(delay) {
    global.clearTimeout(timer);
    if (finished || document.hidden) {
      return;
    }
    timer = global.setTimeout(poll, delay);
  }

  function poll() {
    global.fetch(config.url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error('HTTP ' + response.status);
        }
        return response.json();
      })
      .then(function (job) {
        failures = 0;
        show(job);
        schedule(config.poll_ms);
      })
      .catch(function () {
        failures += 1;
        schedule(Math.min(config.poll_ms * Math.pow(2, failures), MAX_DELAY_MS));
      });
  }

  function start() {
    var source = document.getElementById('fit-training-config');
    root = document.querySelector('[data-testid="training-job"]');
    if (!source || !root) {
      return;
    }
    config = JSON.parse(source.textContent);
    finished = !config.running;
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) {
        schedule(0);
      }
    });
    schedule(config.poll_ms);
  }

  if (typeof document !== 'undefined') {
    document.addEventListener('DOMContentLoaded', start);
  }
})(typeof window !== 'undefined' ? window : this);
