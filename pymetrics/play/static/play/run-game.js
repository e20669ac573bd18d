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
 * where `context` = {jsPsych, showError, practiceBurstPoint}. A game's plugin.js may
 * register its own builder (it is loaded before this file); the balloons builder
 * lives here as the reference example.
 */
(function () {
  'use strict';

  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  var Kit = window.PymetricsKit;
  var escapeHtml = Kit.escapeHtml;
  var seededInt = Kit.seededInt;
  var page = Kit.page;

  function formatDollars(cents) {
    return '$' + (cents / 100).toFixed(2);
  }

  // --- balloons ----------------------------------------------------------------

  if (!registry.balloons) {
    registry.balloons = function buildBalloonsTimeline(config, client, context) {
      var settings = config.config || {};
      var accommodation = config.accommodations || {};
      var burstPoints = settings.burst_points || [];
      var balloons = burstPoints.length || settings.balloons || 30;
      var cents = settings.cents_per_pump || 5;
      var perPump = cents === 1 ? '1 cent' : cents + ' cents';
      var maxPumps = settings.max_pumps || 128;
      var practicePoint = settings.practice_burst_point ||
        seededInt(settings.seed, 6, 16);

      var instructions = {
        type: jsPsychInstructions,
        show_clickable_nav: true,
        allow_backward: true,
        allow_keys: true,
        show_page_number: true,
        page_label: 'Page',
        button_label_previous: 'Back',
        button_label_next: 'Next',
        pages: [
          page('Balloons', [
            '<p>In this game you pump up balloons to earn money. There are ' + balloons +
              ' balloons, one at a time.</p>',
            '<p>There is no right or wrong way to play. We are interested in how you choose to ' +
              'play, so just do what feels right to you.</p>',
            '<p>There is no time limit. Most people take about five minutes.</p>',
          ]),
          page('How earning works', [
            '<ul class="game-list">',
            '<li>Each <strong>pump</strong> makes the balloon bigger and puts <strong>' + perPump +
              '</strong> into that balloon\'s bank.</li>',
            '<li>Press <strong>Collect $$$</strong> at any time to move the money in the balloon ' +
              'to your <strong>total</strong>. Then the next balloon appears.</li>',
            '<li>Each balloon bursts at some point: it could be on the first pump, or not until ' +
              'it almost fills the screen. If it bursts, the money in that balloon is lost.</li>',
            '<li>Money in your total is always safe.</li>',
            '</ul>',
          ]),
          page('Controls', [
            '<p>Use the big buttons with a mouse or your finger, or the keyboard:</p>',
            '<dl class="game-keys">',
            '<div><dt><kbd>Space</kbd></dt><dd>Pump the balloon</dd></div>',
            '<div><dt><kbd>Enter</kbd></dt><dd>Collect the money</dd></div>',
            '</dl>',
            '<p>First you will try one <strong>practice balloon</strong>. It does not count.</p>',
          ]),
        ],
      };

      var practice = {
        type: jsPsychBalloons,
        practice: true,
        burst_points: [Math.min(practicePoint, maxPumps)],
        cents_per_pump: cents,
        max_pumps: maxPumps,
        accommodation: accommodation,
      };

      var ready = {
        type: jsPsychHtmlButtonResponse,
        stimulus: page('Ready?', [
          '<p>The real game starts now: ' + balloons + ' balloons. From here on, the money ' +
            'you collect counts.</p>',
          '<p>Remember: <kbd>Space</kbd> pumps, <kbd>Enter</kbd> collects. Take your time.</p>',
        ]),
        choices: ['Start the game'],
        button_html: function (choice) {
          return '<button type="button" class="btn btn-primary btn-large" data-testid="game-ready">' +
            escapeHtml(choice) + '</button>';
        },
      };

      var main = {
        type: jsPsychBalloons,
        practice: false,
        burst_points: burstPoints,
        cents_per_pump: cents,
        max_pumps: maxPumps,
        accommodation: accommodation,
        record: function (type, data, at) {
          client.record(type, data, at);
        },
        on_start: function () {
          // t = 0 at the first real balloon; visibility and focus are watched from here.
          client.start();
        },
      };

      return [instructions, practice, ready, main];
    };
  }

  // --- page --------------------------------------------------------------------

  function readConfig() {
    var node = document.getElementById('game-config');
    if (!node) {
      throw new Error('The game configuration is missing from this page.');
    }
    return JSON.parse(node.textContent);
  }

  function boot() {
    var statusNode = document.querySelector('[data-testid="save-status"]');
    var errorNode = document.querySelector('[data-testid="game-error"]');
    var errorText = errorNode && errorNode.querySelector('[data-role="message"]');
    var root = document.getElementById('game-root');
    var config;

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

    try {
      config = readConfig();
    } catch (err) {
      showError('This game could not be loaded. Please go back to the lobby and try again.');
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

    var builder = registry[config.game];
    if (typeof builder !== 'function') {
      showError('This game is not available in your browser yet. Please go back to the lobby.');
      return;
    }

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
        setStatus(state === 'reconnecting'
          ? 'Saving your progress… The connection dropped; keep playing, nothing is lost.'
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
        showError('We could not save your answers. ' + (detail ? detail + ' ' : '') +
          'Please go back to your games and try again, or contact the organisation that ' +
          'invited you.');
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
          '<p class="game-saving__title">Saving your results…</p>' +
          '<p>This takes a moment. Please keep this page open.</p></div>';
        setStatus('');
        client.complete().then(
          function () {
            window.location.assign(config.lobby_url);
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
        showError: showError,
        formatDollars: formatDollars,
      });
    } catch (err) {
      showError('This game could not be started. Please go back to the lobby and try again.');
      if (typeof console !== 'undefined') {
        console.error(err);
      }
      return;
    }
    setStatus('');
    jsPsych.run(timeline);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', boot);
  } else {
    boot();
  }
})();
