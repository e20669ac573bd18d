/*
 * A candidate's data export, followed (privacy/_panel.html on the candidate profile).
 *
 * The panel is rendered complete by the server with the latest export's state;
 * while that export is queued or being built, this script asks its JSON route
 * (privacy:archive-data) every poll_ms and updates the progress bar, the state and
 * message and, once it ends, the error or the signed download link. A failed
 * request keeps the last figures and tries again with backoff (doubling up to a
 * minute); a hidden tab does not poll and asks again when shown. Configuration
 * comes from the json_script "privacy-archive-config": {url, poll_ms, running}.
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
    if (job.download_url) {
      part('download-link').href = job.download_url;
      part('done').hidden = false;
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
    var source = document.getElementById('privacy-archive-config');
    root = document.querySelector('[data-testid="archive-job"]');
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
