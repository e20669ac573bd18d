/*
 * The system status page: poll staff:system-data every few seconds and update the
 * alerts, the rows and the charts in place (no reload).
 *
 * The page is rendered complete by the server; this script only refreshes it. A
 * failed refresh keeps the last figures, says so, and tries again with backoff
 * (doubling up to a minute). A hidden tab does not poll; it refreshes when shown.
 * Configuration comes from the json_script "system-config": {url, poll_s}.
 */
(function (global) {
  'use strict';

  var MAX_DELAY_S = 60;
  var config = null;
  var root = null;
  var timer = null;
  var failures = 0;
  var lastAlerts = '';

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function part(role) {
    return root.querySelector('[data-role="' + role + '"]');
  }

  function renderAlerts(alerts) {
    var signature = JSON.stringify(alerts);
    if (signature === lastAlerts) {
      return; // unchanged: do not make screen readers announce it again
    }
    lastAlerts = signature;
    var list = part('alerts');
    list.textContent = '';
    alerts.forEach(function (alert) {
      var item = el('li', 'system__alert system__alert--' + alert.level);
      item.dataset.level = alert.level;
      item.dataset.key = alert.key;
      item.appendChild(el('strong', '', alert.level_text));
      item.appendChild(document.createTextNode(' ' + alert.text));
      list.appendChild(item);
    });
    part('all-clear').hidden = alerts.length > 0;
  }

  function renderRows(rows) {
    var body = part('rows');
    var fresh = document.createDocumentFragment();
    rows.forEach(function (row) {
      var tr = el('tr', row.level === 'amber' ? 'status-row--amber' : row.level === 'red' ? 'status-row--red' : '');
      tr.dataset.key = row.key;
      tr.dataset.level = row.level;
      tr.dataset.testid = 'system-row-' + row.key;
      var th = el('th', '', row.label);
      th.scope = 'row';
      th.appendChild(el('span', 'system__measured', row.measured));
      tr.appendChild(th);
      var status = el('td');
      status.appendChild(el('span', 'system__level system__level--' + row.level, row.level_text));
      tr.appendChild(status);
      tr.appendChild(el('td', 'system__value', row.value));
      tr.appendChild(el('td', 'system__detail', row.detail));
      tr.appendChild(el('td', 'system__limits', row.limits));
      fresh.appendChild(tr);
    });
    body.textContent = '';
    body.appendChild(fresh);
  }

  function renderProcess(process) {
    var fields = {
      pid: String(process.pid),
      uptime_s: process.uptime_s === null ? '—' : Math.round(process.uptime_s) + ' s',
      resident_mb: process.resident_mb === null ? '—' : Math.round(process.resident_mb) + ' MB',
      threads: String(process.threads),
      database: process.database,
      cache: process.cache,
      tasks: process.tasks,
      versions: process.python + ' / ' + process.django
    };
    Object.keys(fields).forEach(function (name) {
      var cell = root.querySelector('[data-field="' + name + '"]');
      if (cell) {
        cell.textContent = fields[name];
      }
    });
  }

  function showUpdated(iso) {
    var time = part('updated');
    time.setAttribute('datetime', iso);
    var date = new Date(iso);
    time.textContent = isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
  }

  function render(status) {
    root.dataset.level = status.level;
    renderAlerts(status.alerts);
    renderRows(status.rows);
    renderProcess(status.process);
    if (global.PmCharts) {
      (status.charts || []).forEach(function (spec) {
        global.PmCharts.update(spec.id, spec);
      });
    }
    showUpdated(status.generated_at);
  }

  function setLive(on) {
    part('live').dataset.live = on ? 'on' : 'off';
    part('stale').hidden = on;
  }

  function schedule() {
    clearTimeout(timer);
    var delay = config.poll_s * Math.pow(2, Math.min(failures, 3));
    timer = setTimeout(refresh, Math.min(delay, MAX_DELAY_S) * 1000);
  }

  function refresh() {
    clearTimeout(timer);
    if (document.hidden) {
      return; // picked up again by visibilitychange
    }
    fetch(config.url, {
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json' }
    }).then(function (response) {
      var type = response.headers.get('Content-Type') || '';
      if (!response.ok || response.redirected || type.indexOf('application/json') !== 0) {
        // a redirect means the session ended: the login page is not JSON
        throw new Error('HTTP ' + response.status);
      }
      return response.json();
    }).then(function (status) {
      failures = 0;
      render(status);
      setLive(true);
    }).catch(function () {
      failures += 1;
      setLive(false);
    }).then(schedule);
  }

  function start() {
    root = document.querySelector('[data-testid="system-page"]');
    var source = document.getElementById('system-config');
    if (!root || !source) {
      return;
    }
    config = JSON.parse(source.textContent);
    showUpdated(part('updated').getAttribute('datetime'));
    part('refresh').addEventListener('click', refresh);
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) {
        refresh();
      }
    });
    schedule();
  }

  global.PmSystem = { refresh: function () { refresh(); } };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})(window);
