/*
 * The assessment dashboard, live (staff/dashboard.html).
 *
 * Opens /ws/dashboard/<id>/ with the session cookie and listens:
 *   - "events.activity" (events stored in a 250 ms window): the event rate shown is
 *     the events of the last RATE_WINDOW_MS divided by that time, so it falls to
 *     zero by itself when the notices stop;
 *   - "session.state" and "scores.updated": the charts' JSON is fetched again
 *     (debounced, one request at a time) and every chart redrawn in place with
 *     PmCharts.update, with the counts, the live panel and the flagged table.
 * The socket is kept open by PmLiveSocket (live-socket.js: pongs, backoff, the
 * server's reconnect hint, no retry after 4401/4403); after a reconnect the data is
 * fetched again, since notices sent meanwhile were missed. The live dot says which
 * state the connection is in.
 *
 * Configuration comes from the "dashboard-config" JSON script element:
 *   {assessment_id, data_url, socket_path, selected_trait, trait_charts, game_titles}
 */
(function () {
  'use strict';

  var RATE_WINDOW_MS = 5000;
  var REFRESH_DEBOUNCE_MS = 400;
  // while candidates play, "playing now" is read again this often (no notice
  // announces a game's first event)
  var ACTIVE_REFRESH_MS = 30000;

  var config = null;
  var activity = [];
  var refreshTimer = null;
  var inFlight = false;
  var again = false;
  var lastRefresh = Date.now();
  var playing = 0;

  function t(text) {
    return window.gettext ? window.gettext(text) : text;
  }

  function setLive(state, text) {
    var dot = document.querySelector('[data-testid=live-dot]');
    var label = document.querySelector('[data-live-text]');
    if (dot) {
      dot.dataset.live = state;
    }
    if (label) {
      label.textContent = text;
    }
  }

  function showRate() {
    var now = Date.now();
    activity = activity.filter(function (entry) {
      return now - entry[0] <= RATE_WINDOW_MS;
    });
    var events = activity.reduce(function (total, entry) {
      return total + entry[1];
    }, 0);
    var rate = events / (RATE_WINDOW_MS / 1000);
    var cell = document.querySelector('[data-live-rate]');
    if (cell) {
      cell.textContent = rate === 0 ? '0' : rate.toFixed(1);
    }
    if ((rate > 0 || playing > 0) && now - lastRefresh > ACTIVE_REFRESH_MS) {
      scheduleRefresh();
    }
  }

  function setCounts(summary) {
    document.querySelectorAll('[data-count]').forEach(function (cell) {
      var key = cell.dataset.count;
      var value = key === 'playing' ? summary.playing_now.count : summary.counts[key];
      if (value !== undefined) {
        cell.textContent = String(value);
      }
    });
    playing = summary.playing_now.count;
    var games = document.querySelector('[data-playing-games]');
    if (games) {
      games.textContent = summary.playing_now.games.map(function (game) {
        return (config.game_titles[game.game] || game.game) + ': ' + game.count;
      }).join(' · ');
    }
    showComputedAt(summary.computed_at);
  }

  function showComputedAt(iso) {
    var computed = document.querySelector('[data-computed-at]');
    var moment = new Date(iso);
    if (computed && !isNaN(moment.getTime())) {
      computed.setAttribute('datetime', iso);
      computed.textContent = moment.toLocaleTimeString();
    }
  }

  function badge(className, text, title) {
    var span = document.createElement('span');
    span.className = 'badge ' + className;
    span.textContent = text;
    if (title) {
      span.title = title;
    }
    return span;
  }

  function setFlagged(summary, rows) {
    var body = document.querySelector('[data-flagged-rows]');
    if (!body) {
      return;
    }
    var descriptions = {};
    summary.quality_flags.flags.forEach(function (flag) {
      descriptions[flag.code] = t(flag.description);
    });
    while (body.firstChild) {
      body.removeChild(body.firstChild);
    }
    if (!rows.length) {
      var empty = body.insertRow();
      var cell = empty.insertCell();
      cell.colSpan = 2;
      cell.className = 'muted';
      cell.textContent = t('No flagged candidates.');
      return;
    }
    rows.forEach(function (candidate) {
      var row = body.insertRow();
      var head = document.createElement('th');
      head.scope = 'row';
      var link = document.createElement('a');
      link.href = candidate.profile_url;
      link.textContent = candidate.participant;
      head.appendChild(link);
      if (candidate.simulated) {
        head.appendChild(document.createTextNode(' '));
        head.appendChild(badge('sim', t('simulated')));
      }
      row.appendChild(head);
      var flags = row.insertCell();
      candidate.flags.forEach(function (flag) {
        var title = config.game_titles[flag.game] || flag.game;
        flags.appendChild(badge('flag', title + ': ' + flag.code, descriptions[flag.code] || flag.code));
      });
    });
  }

  // PmCharts.update redraws the canvas, the table and the CSV; the caption's
  // title and summary are the page's to keep in step with the numbers
  function redraw(id, spec) {
    if (!window.PmCharts || !window.PmCharts.update(id, spec)) {
      return;
    }
    var figure = window.PmCharts.figure(id);
    var title = figure.querySelector('.pm-chart__title');
    var caption = figure.querySelector('table.pm-chart__table caption');
    var summary = figure.querySelector('.pm-chart__summary');
    if (title) {
      title.textContent = spec.title;
    }
    if (caption) {
      caption.textContent = spec.title;
    }
    if (summary) {
      summary.textContent = spec.summary;
    }
  }

  function showTrait(name) {
    var spec = config.trait_charts[name];
    if (spec) {
      redraw(spec.id, spec);
    }
  }

  function apply(data) {
    Object.keys(data.charts).forEach(function (id) {
      redraw(id, data.charts[id]);
    });
    config.trait_charts = data.trait_charts;
    if (config.selected_trait) {
      showTrait(config.selected_trait);
    }
    setCounts(data.summary);
    setFlagged(data.summary, data.flagged);
  }

  function refresh() {
    refreshTimer = null;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    lastRefresh = Date.now();
    fetch(config.data_url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error('dashboard data: HTTP ' + response.status);
        }
        return response.json();
      })
      .then(apply)
      .catch(function (error) {
        // the next notice or reconnect fetches again; the charts keep their last numbers
        if (window.console) {
          window.console.warn(error);
        }
      })
      .then(function () {
        inFlight = false;
        if (again) {
          again = false;
          scheduleRefresh();
        }
      });
  }

  function scheduleRefresh() {
    if (refreshTimer === null) {
      refreshTimer = window.setTimeout(refresh, REFRESH_DEBOUNCE_MS);
    }
  }

  function onMessage(message) {
    if (message.type === 'events.activity') {
      activity.push([Date.now(), Number(message.events) || 0]);
      showRate();
    } else if (message.type === 'session.state' || message.type === 'scores.updated') {
      scheduleRefresh();
    }
  }

  function connect() {
    var liveText = {
      connecting: t('Connecting…'),
      open: t('Live'),
      reconnecting: t('Reconnecting…'),
      stopped: t('Not live: log in again to see live updates'),
    };
    window.PmLiveSocket.keepOpen({
      url: window.PmLiveSocket.socketUrl(config.socket_path),
      onMessage: onMessage,
      onState: function (state) {
        setLive(state === 'open' ? 'on' : 'off', liveText[state]);
      },
      onOpen: function (again) {
        if (again) {
          scheduleRefresh(); // notices sent while the socket was closed were missed
        }
      },
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var source = document.getElementById('dashboard-config');
    if (!source) {
      return;
    }
    config = JSON.parse(source.textContent);
    var computedAt = document.querySelector('[data-computed-at]');
    if (computedAt) {
      showComputedAt(computedAt.getAttribute('datetime')); // in the viewer's time zone
    }
    var playingCell = document.querySelector('[data-count=playing]');
    playing = playingCell ? Number(playingCell.textContent) || 0 : 0;
    var select = document.getElementById('trait-select');
    if (select) {
      select.addEventListener('change', function () {
        config.selected_trait = select.value;
        showTrait(select.value);
      });
    }
    window.setInterval(showRate, 1000);
    if ('WebSocket' in window) {
      connect();
    }
  });
})();
