/**
 * jsPsychKeypresses: the finger-tapping test (Halstead-Reitan battery) as one jsPsych 8
 * trial that runs every tapping trial of the session, and the game's timeline builder.
 *
 * Each trial: the candidate presses Start (button, Enter or Space), a "3, 2, 1"
 * countdown runs, "Tap!" appears and they tap one key (Space) or the big Tap pad
 * (mouse, pen or finger) as fast as they can until the timer bar runs out. A short
 * rest follows before the next trial, which uses the other hand. Trials alternate
 * hands, the writing hand first; the game never asks which hand that is.
 *
 * Events (shared SCIENCE.md, keypresses) go out through `record(type, data, at)`,
 * normally PymetricsEventClient.record, `at` being the performance.now() time:
 *
 *   trial_start {trial, hand, duration_ms}        at the frame that paints "Tap!"
 *   tap         {trial, t_ms}                     at the key/pointer event's timeStamp;
 *                                                 t_ms = that minus the "Tap!" frame time
 *   trial_end   {trial, hand, taps, duration_ms}  taps = the count shown to the candidate
 *
 * What counts as a tap: a Space keydown that is not auto-repeat and comes after the
 * previous press was released (holding the key down counts once), or a pointer
 * press on the pad while no other pointer is down (two fingers do not double the
 * rate). Taps stamped before "Tap!" was painted or after duration_ms are not counted
 * and not sent. Key events still queued when the time runs out are read for a short
 * grace period (end_grace_ms) so a tap stamped in time is not lost.
 *
 * Accommodations: reduced_motion (also from prefers-reduced-motion): no pulses or
 * smooth bars; colour_safe: blue/orange palette, the hands also told apart by text
 * and shape; extended_time: rests between trials are doubled. The 10 s trial length
 * is the measure itself, so it stays the same; the countdown stays at one step a
 * second, as it is a cue, not a limit. No part of the game waits on a deadline to
 * answer: every trial starts only when the candidate presses Start.
 *
 * practice: true plays one unrecorded trial with feedback, then a Continue button.
 * The jsPsych trial's data: {taps: [count per trial], practice}.
 */
var jsPsychKeypresses = (function (jspsych) {
  'use strict';

  var version = '1.0.0';

  var info = {
    name: 'keypresses',
    version: version,
    parameters: {
      /** The schedule: [{trial, hand: 'dominant'|'non_dominant', duration_ms}, ...]. */
      trials: { type: jspsych.ParameterType.COMPLEX, array: true, default: undefined },
      /** Countdown steps shown before each trial ("3, 2, 1"). */
      countdown_steps: { type: jspsych.ParameterType.INT, default: 3 },
      /** Length of one countdown step (ms). */
      countdown_step_ms: { type: jspsych.ParameterType.INT, default: 1000 },
      /** Rest after a trial before the next can start (ms); doubled under extended_time. */
      rest_ms: { type: jspsych.ParameterType.INT, default: 5000 },
      /** After the time is up, how long queued key events are still read (ms). */
      end_grace_ms: { type: jspsych.ParameterType.INT, default: 120 },
      /** record(type, data, at): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** One unrecorded practice trial with feedback. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
      /** Length of the recorded trials (ms), which the practice feedback mentions. */
      game_duration_ms: { type: jspsych.ParameterType.INT, default: 10000 },
    },
    data: {
      /** Taps counted in each trial, in order. */
      taps: { type: jspsych.ParameterType.INT, array: true },
      /** Whether this was the practice trial. */
      practice: { type: jspsych.ParameterType.BOOL },
    },
  };

  /** Every user-facing string goes through the kit's translation (named placeholders). */
  function t(text, params) {
    return window.PymetricsKit.t(text, params);
  }

  /** The hand as a label ("Writing hand") and as the instruction's object ("your writing hand"). */
  function handText(hand) {
    return hand === 'dominant'
      ? { short: t('Writing hand'), long: t('your writing hand') }
      : { short: t('Other hand'), long: t('your other hand') };
  }

  function roundMs(value) {
    return Math.round(value * 1000) / 1000;
  }

  function timesText(count) {
    return count === 1 ? t('1 time') : t('%(count)s times', { count: count });
  }

  function seconds(ms) {
    var value = ms / 1000;
    return value === 1
      ? t('1 second')
      : t('%(count)s seconds', { count: Number.isInteger(value) ? String(value) : value.toFixed(1) });
  }

  function isSpace(event) {
    return event.key === ' ' || event.code === 'Space' || event.key === 'Spacebar';
  }

  function isEnter(event) {
    return event.key === 'Enter' || event.code === 'Enter' || event.code === 'NumpadEnter';
  }

  /** A small shape that tells the hands apart without colour: circle or square. */
  function handMark(Kit, hand) {
    var mark = Kit.svg('svg', {
      viewBox: '0 0 20 20', class: 'kp-hand__mark', 'aria-hidden': 'true', focusable: 'false',
    });
    mark.appendChild(hand === 'non_dominant'
      ? Kit.svg('rect', { x: '3', y: '3', width: '14', height: '14', rx: '2' })
      : Kit.svg('circle', { cx: '10', cy: '10', r: '7.5' }));
    return mark;
  }

  class KeypressesPlugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var Kit = window.PymetricsKit;
      var settings = Kit.accommodations(trial.accommodation);
      var practice = !!trial.practice;
      var schedule = (trial.trials || []).slice(0, practice ? 1 : undefined);
      var total = schedule.length;
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;
      var restMs = Math.max(0, trial.rest_ms) * settings.timeFactor;
      var steps = Math.max(0, trial.countdown_steps);
      var stepMs = Math.max(0, trial.countdown_step_ms);
      var graceMs = Math.max(0, trial.end_grace_ms);

      schedule.forEach(function (item) {
        var knownHand = item && (item.hand === 'dominant' || item.hand === 'non_dominant');
        if (!knownHand || !(item.duration_ms > 0) || !Number.isInteger(item.trial)) {
          throw new Error('keypresses: each trial needs trial, hand and duration_ms');
        }
      });

      // --- state -------------------------------------------------------------
      var state = {
        index: -1,           // position of the current trial in the schedule
        phase: 'ready',      // ready | countdown | tapping | stopping | rest | feedback | done
        onset: null,         // performance.now() time of the "Tap!" frame
        taps: 0,
        tapsPerTrial: [],
        spaceUp: true,       // the Space key was released since the last counted press
        pointers: {},        // pointers now pressing the pad
        pointersDown: 0,
        finished: false,
      };

      // jsPsych focuses its own display container (around display_element) so that
      // keys reach the page: focus anywhere in it counts as focus on the game.
      var container = typeof jsPsych.getDisplayContainerElement === 'function'
        ? jsPsych.getDisplayContainerElement() : display_element;

      // --- DOM ---------------------------------------------------------------
      var el = Kit.el;
      var root = el('div', {
        class: Kit.rootClass('kp', settings, practice ? 'kp--practice' : ''),
        'data-testid': 'keypresses-game',
        'data-state': 'ready',
      });
      var counter = el('p', { class: 'kp-hud__counter', 'data-testid': 'keypresses-counter' });
      var progress = Kit.progress(t('Trials completed'));
      var handBadge = el('p', { class: 'kp-hand', 'data-testid': 'keypresses-hand' });
      var padValue = el('span', { class: 'kp-pad__value', 'data-testid': 'keypresses-display' });
      var padHint = el('span', { class: 'kp-pad__hint' });
      var pad = el('button', {
        type: 'button', class: 'kp-pad', 'data-testid': 'keypresses-pad',
        'aria-label': t('Tap pad'), 'aria-keyshortcuts': 'Space', 'aria-disabled': 'true',
      }, [padValue, padHint]);
      var timerFill = el('span', { class: 'kp-timer__fill' });
      var timerText = el('span', { class: 'kp-timer__text', 'data-testid': 'keypresses-time' });
      var timer = el('div', { class: 'kp-timer' }, [
        el('span', { class: 'kp-timer__bar', 'aria-hidden': 'true' }, [timerFill]),
        timerText,
      ]);
      var count = el('p', { class: 'kp-count', 'data-testid': 'keypresses-count' });
      var status = el('p', {
        class: 'kp-status', 'data-testid': 'keypresses-status', role: 'status', 'aria-live': 'polite',
      });
      var startButton = el('button', {
        type: 'button', class: 'kp-btn kp-btn--start', 'data-testid': 'keypresses-start',
        'aria-keyshortcuts': 'Enter Space', hidden: true,
      }, [
        el('span', { class: 'kp-btn__label', 'data-role': 'label', text: t('Start') }),
        el('kbd', { class: 'kp-btn__key', text: t('Enter') }),
      ]);
      var continueButton = el('button', {
        type: 'button', class: 'kp-btn kp-btn--continue', 'data-testid': 'keypresses-continue',
        hidden: true,
      }, [el('span', { class: 'kp-btn__label', text: t('Continue') })]);
      var keysHint = el('p', { class: 'kp-keys' });
      // One translatable sentence; the keys are placed where the translation puts them.
      keysHint.innerHTML = t('Keyboard: %(space)s taps, %(enter)s starts a trial. Or tap the pad ' +
        'with your finger or the mouse.', {
        space: '<kbd>' + Kit.escapeHtml(t('Space')) + '</kbd>',
        enter: '<kbd>' + Kit.escapeHtml(t('Enter')) + '</kbd>',
      });

      root.appendChild(el('div', { class: 'kp-hud' }, [counter, progress.node]));
      root.appendChild(handBadge);
      root.appendChild(pad);
      root.appendChild(timer);
      root.appendChild(count);
      root.appendChild(status);
      root.appendChild(el('div', { class: 'kp-actions' }, [startButton, continueButton]));
      root.appendChild(keysHint);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      // --- helpers -------------------------------------------------------------
      function current() {
        return schedule[state.index];
      }

      var emit = window.PymetricsKit.recorder(record, 'keypresses');

      function setPhase(phase) {
        state.phase = phase;
        root.setAttribute('data-state', phase);
        var tapping = phase === 'tapping';
        pad.setAttribute('aria-disabled', tapping ? 'false' : 'true');
        root.classList.toggle('kp--tapping', tapping);
      }

      function setStatus(text) {
        status.textContent = text;
      }

      function setTimer(remainingMs, durationMs) {
        var share = durationMs > 0 ? Math.max(0, Math.min(1, remainingMs / durationMs)) : 0;
        timerFill.style.width = (100 * share).toFixed(1) + '%';
        timerText.textContent = t('%(seconds)s s left',
          { seconds: Math.ceil(Math.max(0, remainingMs) / 1000) });
      }

      function renderTrial() {
        var item = current();
        var hand = handText(item.hand);
        counter.textContent = practice
          ? t('Practice')
          : t('Trial %(n)s of %(total)s', { n: state.index + 1, total: total });
        progress.set(state.tapsPerTrial.length, total);
        root.setAttribute('data-trial', String(item.trial));
        root.setAttribute('data-hand', item.hand);
        handBadge.textContent = '';
        handBadge.appendChild(handMark(Kit, item.hand));
        handBadge.appendChild(el('span', { class: 'kp-hand__text', text: hand.short }));
        handBadge.className = 'kp-hand kp-hand--' + item.hand;
        setTimer(item.duration_ms, item.duration_ms);
      }

      function pulse() {
        if (settings.reducedMotion) {
          return;
        }
        pad.classList.remove('kp-pad--pulse');
        // Reading layout restarts the CSS animation on the next class change.
        void pad.offsetWidth;
        pad.classList.add('kp-pad--pulse');
      }

      // --- the flow: ready -> countdown -> tapping -> stopping -> rest/feedback ---------
      function showReady() {
        var item = current();
        renderTrial();
        setPhase('ready');
        padValue.textContent = '';
        padHint.textContent = t('Get ready');
        count.textContent = '';
        startButton.querySelector('[data-role=label]').textContent = practice
          ? t('Start the practice')
          : t('Start trial %(n)s', { n: state.index + 1 });
        startButton.hidden = false;
        startButton.disabled = false;
        setStatus(practice
          ? t('Practice. Use %(hand)s. Press Start when you are ready.',
            { hand: handText(item.hand).long })
          : t('Trial %(n)s of %(total)s. Use %(hand)s. Press Start when you are ready.',
            { n: state.index + 1, total: total, hand: handText(item.hand).long }));
        var focused = document.activeElement;
        if (focused === null || focused === document.body || container.contains(focused)) {
          // Keyboard users land on Start; focus elsewhere on the page is left alone.
          startButton.focus({ preventScroll: true });
        }
      }

      function nextTrial() {
        state.index += 1;
        showReady();
      }

      function startCountdown() {
        if (state.phase !== 'ready' || state.finished) {
          return;
        }
        var focused = document.activeElement === startButton;
        startButton.hidden = true;
        if (focused) {
          // Keep keyboard focus inside the game: the pad is the next control.
          pad.focus({ preventScroll: true });
        }
        setPhase('countdown');
        padHint.textContent = t('Get ready…');
        setStatus(t('Get ready.'));
        countdown(steps);
      }

      function countdown(remaining) {
        if (state.finished) {
          return;
        }
        if (remaining <= 0) {
          go();
          return;
        }
        padValue.textContent = String(remaining);
        jsPsych.pluginAPI.setTimeout(function () {
          countdown(remaining - 1);
        }, stepMs);
      }

      function go() {
        var item = current();
        state.taps = 0;
        padValue.textContent = t('Tap!');
        padHint.textContent = t('as fast as you can');
        count.textContent = t('Taps: %(count)s', { count: 0 });
        setStatus(t('Go! Tap as fast as you can.'));
        // The trial starts on the frame that paints "Tap!" (docs/timing.md).
        Kit.onPaint(function (frameTime) {
          if (state.finished) {
            return;
          }
          state.onset = frameTime;
          setPhase('tapping');
          emit('trial_start', {
            trial: item.trial, hand: item.hand, duration_ms: item.duration_ms,
          }, frameTime);
          tick();
          jsPsych.pluginAPI.setTimeout(stop, Math.max(0, frameTime + item.duration_ms - Kit.now()));
        });
      }

      function tick() {
        if (state.phase !== 'tapping' || state.finished) {
          return;
        }
        var item = current();
        setTimer(state.onset + item.duration_ms - Kit.now(), item.duration_ms);
        jsPsych.pluginAPI.setTimeout(tick, 200);
      }

      function stop() {
        if (state.phase !== 'tapping' || state.finished) {
          return;
        }
        setPhase('stopping');
        setTimer(0, current().duration_ms);
        padValue.textContent = t('Stop');
        padHint.textContent = '';
        // Key events stamped before the end may still be queued: read them, then close.
        jsPsych.pluginAPI.setTimeout(endTrial, graceMs);
      }

      function endTrial() {
        if (state.finished) {
          return;
        }
        var item = current();
        var taps = state.taps;
        state.tapsPerTrial.push(taps);
        root.setAttribute('data-last-taps', String(taps));
        root.setAttribute('data-ended-trial', String(item.trial));
        emit('trial_end', {
          trial: item.trial, hand: item.hand, taps: taps, duration_ms: item.duration_ms,
        });
        progress.set(state.tapsPerTrial.length, total);
        padValue.textContent = String(taps);
        padHint.textContent = taps === 1 ? t('tap') : t('taps');
        var done = t('You tapped %(times)s in %(duration)s.',
          { times: timesText(taps), duration: seconds(item.duration_ms) });
        // The pad shows the count; the status line says it in words (and out loud).
        count.textContent = '';
        if (practice) {
          setPhase('feedback');
          setStatus(done + ' ' + t('That was practice, so it does not count. In the game each ' +
            'trial lasts %(duration)s, and you take turns between your writing hand and your ' +
            'other hand.', { duration: seconds(trial.game_duration_ms) }));
          continueButton.hidden = false;
          continueButton.focus({ preventScroll: true });
          return;
        }
        if (state.index + 1 >= total) {
          setPhase('done');
          setStatus(done + ' ' + t('That was the last trial. Well done for finishing.'));
          jsPsych.pluginAPI.setTimeout(finish, 1200);
          return;
        }
        rest(done);
      }

      function rest(done) {
        var next = schedule[state.index + 1];
        var switching = next.hand !== current().hand;
        setPhase('rest');
        setStatus(done + ' ' + (switching
          ? t('Rest for a moment. Next: %(hand)s (switch hands).', { hand: handText(next.hand).long })
          : t('Rest for a moment. Next: %(hand)s.', { hand: handText(next.hand).long })));
        var ends = Kit.now() + restMs;
        function restTick() {
          if (state.finished || state.phase !== 'rest') {
            return;
          }
          var left = ends - Kit.now();
          if (left <= 0) {
            nextTrial();
            return;
          }
          timerText.textContent = t('Rest: %(seconds)s s', { seconds: Math.ceil(left / 1000) });
          jsPsych.pluginAPI.setTimeout(restTick, Math.min(250, left));
        }
        restTick();
      }

      function finish() {
        if (state.finished) {
          return;
        }
        state.finished = true;
        detach();
        display_element.innerHTML = '';
        jsPsych.finishTrial({ taps: state.tapsPerTrial.slice(), practice: practice });
      }

      // --- taps ------------------------------------------------------------------
      function tap(event) {
        if ((state.phase !== 'tapping' && state.phase !== 'stopping') || state.onset === null) {
          return;
        }
        var at = Kit.eventTime(event);
        var item = current();
        var tMs = roundMs(at - state.onset);
        if (tMs < 0 || tMs > item.duration_ms) {
          // Before "Tap!" was on screen, or after the time was up: not part of the trial.
          return;
        }
        state.taps += 1;
        emit('tap', { trial: item.trial, t_ms: tMs }, at);
        if (state.phase === 'tapping') {
          count.textContent = t('Taps: %(count)s', { count: state.taps });
          padValue.textContent = String(state.taps);
          pulse();
        }
      }

      function focusOutsideGame() {
        var focused = document.activeElement;
        return !!focused && focused !== document.body && !container.contains(focused) &&
          typeof focused.matches === 'function' &&
          focused.matches('a[href], button, input, select, textarea, [tabindex]');
      }

      function onKey(event) {
        var space = isSpace(event);
        var enter = isEnter(event);
        if (!space && !enter) {
          return false;
        }
        var tapping = state.phase === 'tapping' || state.phase === 'stopping';
        if (!tapping && focusOutsideGame()) {
          // E.g. "Back to your games" in the page header: Enter follows the link.
          return false;
        }
        if (space) {
          var fresh = state.spaceUp;
          state.spaceUp = false;
          if (!fresh) {
            return true;
          }
          if (tapping) {
            tap(event);
            return true;
          }
        }
        if (state.phase === 'ready' && !startButton.hidden) {
          startCountdown();
        } else if (state.phase === 'feedback') {
          finish();
        }
        // Space and Enter always belong to the game here: no scrolling or "clicking".
        return true;
      }

      function onKeyUp(event) {
        if (!root.isConnected) {
          detach();
          return;
        }
        var ours = !focusOutsideGame() || state.phase === 'tapping' || state.phase === 'stopping';
        if (isSpace(event)) {
          state.spaceUp = true;
        }
        if (ours && (isSpace(event) || isEnter(event))) {
          // Chromium activates a focused button on Space keyup: the keydown did the work.
          event.preventDefault();
        }
      }

      function onPointerDown(event) {
        if (event.pointerType === 'mouse' && event.button !== 0) {
          return;
        }
        var first = state.pointersDown === 0;
        if (!state.pointers[event.pointerId]) {
          state.pointers[event.pointerId] = true;
          state.pointersDown += 1;
        }
        if (first) {
          tap(event);
        }
      }

      function onPointerUp(event) {
        if (state.pointers[event.pointerId]) {
          delete state.pointers[event.pointerId];
          state.pointersDown = Math.max(0, state.pointersDown - 1);
        }
      }

      function onPadClick(event) {
        // A click with no pointer press before it (detail 0) comes from assistive
        // technology activating the pad: one tap.
        if (event.detail === 0 && state.pointersDown === 0) {
          tap(event);
        }
      }

      function onBlur() {
        // A key or finger released while the window was away never reports it.
        state.spaceUp = true;
        state.pointers = {};
        state.pointersDown = 0;
      }

      var detachKeys = Kit.listenKeys(root, onKey, { swallow: [' ', 'Spacebar', 'Space', 'Enter'] });

      function detach() {
        detachKeys();
        document.removeEventListener('keyup', onKeyUp, true);
        window.removeEventListener('pointerup', onPointerUp, true);
        window.removeEventListener('pointercancel', onPointerUp, true);
        window.removeEventListener('blur', onBlur);
      }

      pad.addEventListener('pointerdown', onPointerDown);
      pad.addEventListener('click', onPadClick);
      pad.addEventListener('contextmenu', function (event) {
        event.preventDefault();
      });
      startButton.addEventListener('click', startCountdown);
      continueButton.addEventListener('click', finish);
      document.addEventListener('keyup', onKeyUp, true);
      window.addEventListener('pointerup', onPointerUp, true);
      window.addEventListener('pointercancel', onPointerUp, true);
      window.addEventListener('blur', onBlur);

      if (total === 0) {
        finish();
        return;
      }
      nextTrial();
    }
  }

  KeypressesPlugin.info = info;
  return KeypressesPlugin;
})(jsPsychModule);

/**
 * The keypresses timeline: instructions -> one practice trial (not recorded) ->
 * "Ready?" -> the recorded trials, whose start also starts the event clock.
 */
(function () {
  'use strict';

  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  registry.keypresses = function buildKeypressesTimeline(config, client) {
    var Kit = window.PymetricsKit;
    var t = Kit.t;
    var page = Kit.page;
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var extended = Kit.accommodations(accommodation).extendedTime;
    var trials = settings.trials || [];
    var count = trials.length;
    var perHand = Math.ceil(count / 2);
    var duration = trials.length ? trials[0].duration_ms : 10000;
    var durationText = t('%(count)s seconds', {
      count: duration % 1000 === 0 ? duration / 1000 : (duration / 1000).toFixed(1),
    });
    var practiceMs = settings.practice_duration_ms || 5000;
    var space = '<kbd>' + Kit.escapeHtml(t('Space')) + '</kbd>';
    var enter = '<kbd>' + Kit.escapeHtml(t('Enter')) + '</kbd>';
    var common = {
      type: jsPsychKeypresses,
      game_duration_ms: duration,
      countdown_steps: settings.countdown_steps === undefined ? 3 : settings.countdown_steps,
      countdown_step_ms: settings.countdown_step_ms || 1000,
      rest_ms: settings.rest_ms === undefined ? 5000 : settings.rest_ms,
      accommodation: accommodation,
    };

    var instructions = Kit.instructions([
      page(t('Keypresses'), [
        '<p>' + t('In this game you tap one key as fast as you can, for %(duration)s at a ' +
          'time.', { duration: durationText }) + '</p>',
        '<p>' + t('There are %(count)s short trials: %(per_hand)s with your <strong>writing ' +
          'hand</strong> and %(per_hand)s with your <strong>other hand</strong>, taking turns. ' +
          'You start with your writing hand.', { count: count, per_hand: perHand }) + '</p>',
        '<p>' + t('Everyone has their own speed, and there is no score to reach: just tap as ' +
          'fast as you can in each trial.') + '</p>',
      ]),
      page(t('How to tap'), [
        '<ul class="game-list">',
        '<li>' + t('Use the index finger of the hand the screen shows, and keep your other ' +
          'fingers still.') + '</li>',
        '<li>' + t('Each trial starts when you press <strong>Start</strong>, after a short ' +
          'countdown: 3, 2, 1, <strong>Tap!</strong>') + '</li>',
        '<li>' + t('Lift your finger between taps: holding the key down counts as one tap.') +
          '</li>',
        '<li>' + (extended
          ? t('The bar shows the time left. After each trial there is a short rest (longer ' +
            'for you, as you asked for extra time).')
          : t('The bar shows the time left. After each trial there is a short rest.')) + '</li>',
        '</ul>',
      ]),
      page(t('Controls'), [
        '<p>' + t('Use the keyboard, or the big Tap pad with your finger or a mouse:') + '</p>',
        '<dl class="game-keys">',
        '<div><dt>' + space + '</dt><dd>' + t('Tap (or tap the pad on the screen)') +
          '</dd></div>',
        '<div><dt>' + enter + '</dt><dd>' + t('Start a trial when you are ready') + '</dd></div>',
        '</dl>',
        '<p>' + t('First you will try a <strong>practice trial</strong> of %(count)s seconds. It ' +
          'does not count.', { count: practiceMs / 1000 }) + '</p>',
      ]),
    ]);

    var practice = Object.assign({}, common, {
      practice: true,
      trials: [{ trial: 0, hand: 'dominant', duration_ms: practiceMs }],
    });

    var ready = Kit.ready(t('Ready?'), [
      '<p>' + t('The real game starts now: %(count)s trials of %(duration)s, taking turns ' +
        'between your writing hand and your other hand.',
      { count: count, duration: durationText }) + '</p>',
      '<p>' + t('Remember: %(space)s or the pad taps, and you start each trial yourself.',
        { space: space }) + '</p>',
    ], t('Start the game'));

    var main = Object.assign({}, common, {
      practice: false,
      trials: trials,
      record: function (type, data, at) {
        client.record(type, data, at);
      },
      on_start: function () {
        // t = 0 as the recorded game begins; visibility and focus are watched from here.
        client.start();
      },
    });

    return [instructions, practice, ready, main];
  };
})();
