/*
 * The exports page's jobs, followed (reports/exports/list.html).
 *
 * The page is rendered complete by the server; for every job still queued or
 * running, this script asks the job's JSON route (exports:job-data) every poll_ms
 * and updates its row: the progress bar, the state, the percentage, the rows
 * written and, once the job ends, the error or the download link (a fresh signed
 * link the route made) with the file's name and size. A failed request keeps the
 * last figures and tries again with backoff (doubling up to a minute); a hidden
 * tab does not poll and asks again when shown. Configuration comes from the
 * json_script "exports-config": {poll_ms, jobs: [{id, url}]}. Every word shown
 * comes from the server, already translated.
 */
(function (global) {
  'use strict';

  var MAX_DELAY_MS = 60000;

  function Follower(job, pollMs) {
    this.url = job.url;
    this.pollMs = pollMs;
    this.row = document.querySelector('[data-testid="export-row"][data-job-id="' + job.id + '"]');
    this.failures = 0;
    this.finished = !this.row;
    this.timer = null;
  }

  Follower.prototype.part = function (role) {
    return this.row.querySelector('[data-role="' + role + '"]');
  };

  Follower.prototype.show = function (job) {
    this.row.dataset.state = job.state;
    this.part('state').textContent = job.state_label;
    this.part('percent').textContent = job.progress_text;
    var progress = this.part('progress');
    progress.value = job.progress || 0;
    progress.textContent = job.progress_text;
    this.part('rows').textContent = job.rows_text;
    var error = this.part('error');
    error.textContent = job.error || '';
    error.hidden = !job.error;
    var link = this.part('download');
    if (job.download_url) {
      link.href = job.download_url;
      this.part('file-name').textContent = job.file_name || '';
      this.part('size').textContent = job.size_text || '';
      link.hidden = false;
    }
    this.finished = Boolean(job.finished);
  };

  Follower.prototype.schedule = function (delay) {
    global.clearTimeout(this.timer);
    if (this.finished || document.hidden) {
      return;
    }
    this.timer = global.setTimeout(this.poll.bind(this), delay);
  };

  Follower.prototype.poll = function () {
    var self = this;
    global.fetch(self.url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error('HTTP ' + response.status);
        }
        return response.json();
      })
      .then(function (job) {
        self.failures = 0;
        self.show(job);
        self.schedule(self.pollMs);
      })
      .catch(function () {
        self.failures += 1;
        self.schedule(Math.min(self.pollMs * Math.pow(2, self.failures), MAX_DELAY_MS));
      });
  };

  function start() {
    var source = document.getElementById('exports-config');
    if (!source) {
      return;
    }
    var config = JSON.parse(source.textContent);
    var followers = (config.jobs || []).map(function (job) {
      return new Follower(job, config.poll_ms);
    });
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) {
        followers.forEach(function (follower) { follower.schedule(0); });
      }
    });
    followers.forEach(function (follower) { follower.schedule(config.poll_ms); });
  }

  if (typeof document !== 'undefined') {
    document.addEventListener('DOMContentLoaded', start);
  }
})(typeof window !== 'undefined' ? window : this);
