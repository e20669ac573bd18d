/**
 * Game page bootstrap (play/game.html).
 *
 * Reads the JSON config that the page renders into <script id="game-config">,
 * creates the PymetricsEventClient, asks the game's timeline builder for its
 * jsPsych timeline, runs it, and when it ends waits until every event is saved
 * and the game is completed before returning to the lobby.
 *
 * Games plug in through one registry:
 *   window.PymetricsGames[key] = function (config, client, context) { return timeline; }
 * where `context` = {jsPsych, showError, formatDollars}; each game's plugin.js
 * registers its builder (it is loaded before this file).
 */
(function () {
  'use strict';

  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  var Kit = window.PymetricsKit;
  var escapeHtml = Kit.escapeHtml;
  var t = Kit.t;

  function formatDollars(cents) {
    return '$' + (cents / 100).toFixed(2);
  }

  // --- page --------------------------------------------------------------------

  function readConfig() {
    var node = document.getElementById('game-config');
    if (!node) {
      throw new Error('The game configuration is missing from this page.');
    }
    return JSON.parse(node.textContent);
  }

  /** The page's status line and error box. */
  function pageMessages() {
    var statusNode = document.querySelector('[data-testid="save-status"]');
    var errorNode = document.querySelector('[data-testid="game-error"]');
    var errorText = errorNode && errorNode.querySelector('[data-role="message"]');

    function setStatus(text) {
      if (statusNode) {
        // Keep the live region in the page; an empty one collapses in CSS.
        statusNode.textContent = text;
      }
    }

    function showError(message) {
      if (!errorNode) {
        return;
      }
      (errorText || errorNode).textContent = message;
      errorNode.hidden = false;
      setStatus('');
      if (typeof errorNode.focus === 'function') {
        errorNode.focus();
      }
    }

    return { setStatus: setStatus, showError: showError };
  }

  function boot() {
    var messages = pageMessages();
    var config;
    try {
      config = readConfig();
    } catch (err) {
      messages.showError(t('This game could not be loaded. Please go back to the lobby and try again.'));
      return;
    }

    var accommodation = config.accommodations || {};
    document.body.classList.toggle('reduced-motion', !!accommodation.reduced_motion);
    document.body.classList.toggle('colour-safe', !!accommodation.colour_safe);
    document.body.classList.toggle('extended-time', !!accommodation.extended_time);

    var lobbyLinks = document.querySelectorAll('[data-role="lobby-link"]');
    Array.prototype.forEach.call(lobbyLinks, function (link) {
      if (config.lobby_url) {
        link.setAttribute('href', config.lobby_url);
      }
    });

    if (typeof registry[config.game] !== 'function') {
      messages.showError(
        t('This game is not available in your browser yet. Please go back to the lobby.'));
      return;
    }

    if (!config.interrupted) {
      play(config, messages);
      return;
    }
    restartInterrupted(config, messages).then(function (fresh) {
      if (fresh) {
        play(fresh, messages);
      }
    });
  }

  /**
   * A game left midway (page closed or reloaded, or the lobby visited) starts again
   * from the beginning as a new session: first the events this browser still holds
   * for the old one are saved with it, then the server supersedes it and answers
   * with the new session. Resolves with the page config of the new session, or null
   * after showing an error.
   */
  function restartInterrupted(config, messages) {
    var previous = new PymetricsEventClient({
      eventsUrl: config.events_url,
      completeUrl: config.complete_url,
      sessionToken: config.session_token,
      gameSessionId: config.game_session_id,
      startSeq: config.next_seq || 1,
    });
    return previous.settle().then(function () {
      return fetch(config.restart_url, {
        method: 'POST',
        headers: {
          Authorization: 'Bearer ' + config.session_token,
          'Content-Type': 'application/json',
        },
        body: '{}',
        credentials: 'omit',
      });
    }).then(function (response) {
      if (!response.ok) {
        throw new Error('restart answered ' + response.status);
      }
      return response.json();
    }).then(function (session) {
      if (window.history && typeof window.history.replaceState === 'function') {
        // a reload from here opens the new session, not the superseded one
        window.history.replaceState(null, '', window.location.pathname.replace(
          /\/games\/\d+\/$/, '/games/' + session.game_session_id + '/'));
      }
      var notice = document.querySelector('[data-testid="game-restarted"]');
      if (notice) {
        notice.hidden = false;
      }
      return Object.assign({}, config, session, { interrupted: false });
    }).catch(function () {
      messages.showError(
        t('This game could not be started again. Please go back to the lobby and try again.'));
      return null;
    });
  }

  /** What the game measured, then back to the lobby (the candidate's own pace). */
  function showMeasured(root, config) {
    root.innerHTML = '';
    var button = Kit.el('a', {
      class: 'btn btn-primary btn-large',
      href: config.lobby_url,
      'data-testid': 'game-done',
    }, [t('Back to your games')]);
    root.appendChild(Kit.el('section', {
      class: 'game-done', 'data-testid': 'game-measured', 'aria-labelledby': 'game-done-title',
    }, [
      Kit.el('h2', { id: 'game-done-title' }, [t('Game complete')]),
      Kit.el('p', { class: 'game-done__measured' }, [config.measured]),
      Kit.el('p', {}, [t('There are no right or wrong ways to play: your results describe ' +
        'how you played, not how well.')]),
      Kit.el('p', { class: 'actions' }, [button]),
    ]));
    button.focus();
  }

  function play(config, messages) {
    var root = document.getElementById('game-root');
    var builder = registry[config.game];
    var stopped = false;
    var jsPsych = null;
    var client = new PymetricsEventClient({
      eventsUrl: config.events_url,
      completeUrl: config.complete_url,
      // Events go over the WebSocket when it works, else over HTTP (see event-client.js).
      socketUrl: config.socket_url,
      sessionToken: config.session_token,
      gameSessionId: config.game_session_id,
      startSeq: config.next_seq || 1,
      onStatus: function (state) {
        if (stopped) {
          return;
        }
        messages.setStatus(state === 'reconnecting'
          ? t('Saving your progress… The connection dropped; keep playing, nothing is lost.')
          : '');
      },
      onError: function (error) {
        if (stopped) {
          return;
        }
        stopped = true;
        var detail = error && error.message ? String(error.message).trim() : '';
        if (detail && !/[.!?]$/.test(detail)) {
          detail += '.';
        }
        messages.showError(t('We could not save your answers. %(detail)s Please go back to ' +
          'your games and try again, or contact the organisation that invited you.',
          { detail: detail }));
        if (jsPsych) {
          // Playing on would only make answers that cannot be saved.
          jsPsych.abortExperiment('');
        }
      },
    });

    jsPsych = initJsPsych({
      display_element: root,
      on_finish: function () {
        if (stopped) {
          return;
        }
        root.innerHTML = '<div class="game-saving" data-testid="game-saving">' +
          '<p class="game-saving__title">' + escapeHtml(t('Saving your results…')) + '</p>' +
          '<p>' + escapeHtml(t('This takes a moment. Please keep this page open.')) + '</p></div>';
        messages.setStatus('');
        client.complete().then(
          function () {
            if (config.measured) {
              showMeasured(root, config);
            } else {
              window.location.assign(config.lobby_url);
            }
          },
          function () {
            // onError has already shown what went wrong.
            stopped = true;
          }
        );
      },
    });

    var timeline;
    try {
      timeline = builder(config, client, {
        jsPsych: jsPsych,
        showError: messages.showError,
        formatDollars: formatDollars,
      });
    } catch (err) {
      messages.showError(
        t('This game could not be started. Please go back to the lobby and try again.'));
      if (typeof console !== 'undefined') {
        console.error(err);
      }
      return;
    }
    messages.setStatus('');
    jsPsych.run(timeline);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', boot);
  } else {
    boot();
  }
})();
