/*
 * The candidate profile, kept live.
 *
 * - /ws/traits/<candidate>/ sends {"type": "traits", "traits": [...]} on connect and
 *   whenever the candidate's trait scores change: the trait bars are redrawn from it
 *   at once, and after a change the whole profile is fetched again (metrics and
 *   percentiles move with new scores or a new norm table).
 * - /ws/dashboard/<assessment>/ relays "session.state" and "scores.updated" notices
 *   of the whole assessment: those of this candidate's attempt trigger a fetch of
 *   the profile JSON (staff:candidate-profile-data), which redraws the game
 *   timelines, metric tables, states and flags.
 * Both sockets are kept open by PmLiveSocket (live-socket.js: pongs, backoff, the
 * server's reconnect hint, no retry after 4401/4403).
 * Configuration comes from the "profile-config" JSON script element.
 */
(function (global) {
  'use strict';

  var TRAITS_CHART = 'profile-traits';
  var REFRESH_DELAY_MS = 400;
  var config = null;
  var refreshTimer = null;
  var traitsSeen = 0;
  var liveSockets = {};

  function t(text) {
    return global.gettext ? global.gettext(text) : text;
  }

  function setLive() {
    var dot = document.querySelector('[data-testid=live-dot]');
    var text = document.querySelector('[data-testid=live-text]');
    var on = !!liveSockets.traits;
    if (dot) {
      dot.dataset.live = on ? 'on' : 'off';
    }
    if (text) {
      text.textContent = on ? text.dataset.on : text.dataset.off;
    }
  }

  /* One live socket, named for the live dot: only the traits socket lights it. */
  function keepOpen(name, path, onMessage) {
    global.PmLiveSocket.keepOpen({
      url: global.PmLiveSocket.socketUrl(path),
      onMessage: onMessage,
      onState: function (state) {
        liveSockets[name] = state === 'open';
        setLive();
      },
    });
  }

  function axisLimit(values) {
    var largest = 0;
    values.forEach(function (value) {
      if (value !== null && value !== undefined && isFinite(value)) {
        largest = Math.max(largest, Math.abs(value));
      }
    });
    return Math.max(3, Math.ceil(largest));
  }

  /* The trait chart's spec with the numbers of a "traits" message (the API's shape). */
  function traitsSpec(spec, traits) {
    var next = JSON.parse(JSON.stringify(spec));
    var byName = {};
    traits.forEach(function (trait) {
      byName[trait.trait] = trait;
    });
    var values = [];
    var intervals = [];
    var ends = [];
    config.traitKeys.forEach(function (key, index) {
      var trait = byName[key];
      var scored = !!(trait && trait.scored);
      var z = scored ? trait.score : null;
      var interval = scored && trait.interval ? [trait.interval.z_low, trait.interval.z_high] : null;
      values.push(z);
      intervals.push(interval);
      if (interval) {
        ends.push(interval[0], interval[1]);
      }
      var row = next.table.rows[index];
      if (row) {
        row[3] = z;
        row[4] = interval ? interval[0] : null;
        row[5] = interval ? interval[1] : null;
        row[6] = scored ? trait.percentile : null;
        row[7] = scored && trait.interval ? trait.interval.percentile_low : null;
        row[8] = scored && trait.interval ? trait.interval.percentile_high : null;
        row[9] = scored ? '' : (trait ? trait.reason : '');
      }
    });
    next.datasets[0].data = values;
    next.datasets[1].data = intervals;
    var limit = axisLimit(values.concat(ends));
    next.options.scales.x.min = -limit;
    next.options.scales.x.max = limit;
    return next;
  }

  function onTraits(message) {
    var figure = global.PmCharts && global.PmCharts.figure(TRAITS_CHART);
    if (figure && figure.spec) {
      global.PmCharts.update(TRAITS_CHART, traitsSpec(figure.spec, message.traits || []));
    }
    traitsSeen += 1;
    if (traitsSeen > 1) {
      // the first message is the state the page was rendered with; later ones are news
      scheduleRefresh();
    }
  }

  function onDashboard(message) {
    if (message.type === 'session.state' && message.attempt_id === config.attemptId) {
      scheduleRefresh();
    } else if (
      message.type === 'scores.updated' &&
      (message.attempt_ids || []).indexOf(config.attemptId) !== -1
    ) {
      scheduleRefresh();
    }
  }

  function scheduleRefresh() {
    if (refreshTimer) {
      global.clearTimeout(refreshTimer);
    }
    refreshTimer = global.setTimeout(refresh, REFRESH_DELAY_MS);
  }

  function renderFlags(container, flags) {
    container.textContent = '';
    if (!flags.length) {
      var none = document.createElement('p');
      none.className = 'muted small';
      none.textContent = t('No quality flags.');
      container.appendChild(none);
      return;
    }
    var list = document.createElement('ul');
    list.className = 'profile-flags';
    flags.forEach(function (flag) {
      var item = document.createElement('li');
      var badge = document.createElement('span');
      badge.className = 'badge flag';
      badge.textContent = flag.code;
      item.appendChild(badge);
      item.appendChild(document.createTextNode(' ' + flag.reason));
      list.appendChild(item);
    });
    container.appendChild(list);
  }

  function renderMetrics(body, game) {
    body.textContent = '';
    if (!game.metrics.length) {
      var empty = body.insertRow();
      empty.className = 'profile-empty';
      var cell = empty.insertCell();
      cell.colSpan = 4;
      cell.className = 'muted';
      cell.textContent = t('No metrics yet: the game is not scored.');
      return;
    }
    game.metrics.forEach(function (metric) {
      var row = body.insertRow();
      row.setAttribute('data-testid', 'metric-row');
      row.dataset.metric = game.game + '.' + metric.name;
      var name = document.createElement('th');
      name.scope = 'row';
      name.title = metric.description;
      name.textContent = metric.name;
      row.appendChild(name);
      [['value', metric.value_text], ['z', metric.z_text], ['percentile', metric.percentile_text]].forEach(
        function (pair) {
          var td = row.insertCell();
          td.className = 'num';
          td.dataset.role = pair[0];
          td.textContent = pair[1];
          if (pair[0] === 'percentile' && metric.note) {
            var note = document.createElement('span');
            note.className = 'muted small';
            note.textContent = ' ' + metric.note;
            td.appendChild(note);
          }
        }
      );
    });
  }

  function apply(payload) {
    var sameGames =
      payload.attempt_id === config.attemptId &&
      JSON.stringify(payload.games.map(function (g) { return g.session_id; })) ===
        JSON.stringify(config.sessionIds);
    if (!sameGames) {
      // a new attempt (or a restarted game): the page's layout itself changes
      global.location.reload();
      return;
    }
    global.PmCharts.update(TRAITS_CHART, payload.traits_chart);
    var note = document.querySelector('[data-testid=norm-note]');
    if (note) {
      note.querySelector('[data-role=norm-text]').textContent = payload.norm_note.text;
      note.querySelector('[data-role=norm-simulated]').hidden = !payload.norm_note.simulated;
    }
    payload.games.forEach(function (game) {
      var card = document.querySelector('[data-session-id="' + game.session_id + '"]');
      if (!card) {
        return;
      }
      var state = card.querySelector('[data-role=state]');
      state.className = 'badge state-' + game.state;
      state.textContent = game.state_label;
      renderFlags(card.querySelector('[data-role=flags]'), game.flags);
      renderMetrics(card.querySelector('[data-role=metrics]'), game);
      global.PmCharts.update(game.chart.id, game.chart);
    });
    document.dispatchEvent(new CustomEvent('pm:profile-refreshed'));
  }

  function refresh() {
    refreshTimer = null;
    global
      .fetch(config.dataUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error('profile ' + response.status);
        }
        return response.json();
      })
      .then(apply)
      .catch(function () {
        // the next notice tries again; the page keeps what it shows
      });
  }

  function start() {
    var source = document.getElementById('profile-config');
    if (!source) {
      return;
    }
    config = JSON.parse(source.textContent);
    global.PmProfile = { refresh: refresh, config: config };
    if (!config.attemptId) {
      return;
    }
    keepOpen('traits', config.traitsSocket, function (message) {
      if (message.type === 'traits') {
        onTraits(message);
      }
    });
    if (config.dashboardSocket) {
      keepOpen('dashboard', config.dashboardSocket, onDashboard);
    }
  }

  document.addEventListener('DOMContentLoaded', start);
})(window);
