/*
 * A role's training job, followed (staff/fitmodels/role.html).
 *
 * The page is rendered complete by the server with the latest training job's state;
 * while that job is queued or running, this script asks the job's JSON route
 * (staff:fit-training-job-data) every poll_ms and updates the progress bar, the
 * state, the trainer's message and, once it ends, the error or the link to the
 * version it trained. The polling (backoff on failures, none while the tab is hidden) is
 * common/job-follow.js's. Configuration comes from the json_script "fit-training-config":
 * {url, poll_ms, running}.
 */
(function (global) {
  'use strict';

  var root = null;

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
    if (job.model_version_url) {
      part('version-link').href = job.model_version_url;
      part('done').hidden = false;
    }
  }

  function start() {
    var source = document.getElementById('fit-training-config');
    root = document.querySelector('[data-testid="training-job"]');
    if (!source || !root) {
      return;
    }
    var config = JSON.parse(source.textContent);
    global.PmJobFollow.start({
      url: config.url,
      pollMs: config.poll_ms,
      running: config.running,
      show: show,
    });
  }

  if (typeof document !== 'undefined') {
    document.addEventListener('DOMContentLoaded', start);
  }
})(typeof window !== 'undefined' ? window : this);
