/*
 * A candidate's data export, followed (privacy/_panel.html on the candidate profile).
 *
 * The panel is rendered complete by the server with the latest export's state;
 * while that export is queued or being built, this script asks its JSON route
 * (privacy:archive-data) every poll_ms and updates the progress bar, the state and
 * message and, once it ends, the error or the signed download link. The polling (backoff on
 * failures, none while the tab is hidden) is common/job-follow.js's. Configuration
 * comes from the json_script "privacy-archive-config": {url, poll_ms, running}.
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
    if (job.download_url) {
      part('download-link').href = job.download_url;
      part('done').hidden = false;
    }
  }

  function start() {
    var source = document.getElementById('privacy-archive-config');
    root = document.querySelector('[data-testid="archive-job"]');
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
