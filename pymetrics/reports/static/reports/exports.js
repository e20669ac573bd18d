/*
 * The exports page's jobs, followed (reports/exports/list.html).
 *
 * The page is rendered complete by the server; for every job still queued or
 * running, this script asks the job's JSON route (exports:job-data) every poll_ms
 * and updates its row: the progress bar, the state, the percentage, the rows
 * written and, once the job ends, the error or the download link (a fresh signed
 * link the route made) with the file's name and size. The polling (backoff on failures, none while the
 * tab is hidden) is common/job-follow.js's. Configuration comes from the
 * json_script "exports-config": {poll_ms, jobs: [{id, url}]}. Every word shown
 * comes from the server, already translated.
 */
(function (global) {
  'use strict';

  function shower(row) {
    function part(role) {
      return row.querySelector('[data-role="' + role + '"]');
    }
    return function (job) {
      row.dataset.state = job.state;
      part('state').textContent = job.state_label;
      part('percent').textContent = job.progress_text;
      var progress = part('progress');
      progress.value = job.progress || 0;
      progress.textContent = job.progress_text;
      part('rows').textContent = job.rows_text;
      var error = part('error');
      error.textContent = job.error || '';
      error.hidden = !job.error;
      var link = part('download');
      if (job.download_url) {
        link.href = job.download_url;
        part('file-name').textContent = job.file_name || '';
        part('size').textContent = job.size_text || '';
        link.hidden = false;
      }
    };
  }

  function start() {
    var source = document.getElementById('exports-config');
    if (!source) {
      return;
    }
    var config = JSON.parse(source.textContent);
    (config.jobs || []).forEach(function (job) {
      var row = document.querySelector(
        '[data-testid="export-row"][data-job-id="' + job.id + '"]'
      );
      if (row) {
        global.PmJobFollow.start({
          url: job.url,
          pollMs: config.poll_ms,
          running: true,
          show: shower(row),
        });
      }
    });
  }

  if (typeof document !== 'undefined') {
    document.addEventListener('DOMContentLoaded', start);
  }
})(typeof window !== 'undefined' ? window : this);
