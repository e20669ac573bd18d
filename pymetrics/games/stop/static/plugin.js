/**
 * jsPsychStopSignal: the stop-signal task (Verbruggen et al. 2019 consensus guide)
 * as one jsPsych 8 trial that runs every trial of the session, plus the game's
 * timeline builder (window.PymetricsGames.stop).
 *
 * Each trial: a fixation cross (fixation_ms), then an arrow pointing left or right;
 * the candidate presses the matching side as fast as they can. On stop trials a
 * stop sign (an octagon ring and the word STOP around the arrow: shape and text,
 * never colour alone) appears ssd ms after the arrow, and the candidate tries not
 * to press. The SSD staircase runs here, because it depends on the responses: it
 * starts at ssd_start_ms, goes up by ssd_step_ms after a successful stop and down
 * after a failed one, within ssd_min_ms..ssd_max_ms. The trial ends on the first
 * press or at the deadline (go_deadline_ms after the arrow's onset), then a blank
 * inter-trial interval (iti_ms). Between blocks there is an untimed break.
 *
 * Events (shared SCIENCE.md, stop; pymetrics/games/stop/spec.py) go out through
 * `record(type, data, at)`, normally PymetricsEventClient.record:
 *
 *   trial_start {trial, stop, direction}        at the fixation cross's first frame
 *   stimulus    {trial}                         at the arrow's first frame
 *   stop_signal {trial, ssd_ms}                 at the stop sign's first frame
 *   response    {trial, key, rt_ms}             at the key/pointer event's timeStamp
 *   trial_end   {trial, stop, direction, ssd_ms, rt_ms, correct}
 *
 * rt_ms = the response event's time minus the arrow's onset frame time (float ms,
 * 0.1 ms grid). A press before the stop sign has been painted ends the trial first,
 * so no stop_signal is sent for it (a failed stop all the same). Presses during the
 * fixation cross are ignored; only the first press of a trial counts.
 *
 * Operation: F or Left arrow = left, J or Right arrow = right; two big buttons
 * (mouse, touch; pointerdown is the response time; a keyboard "click" on a focused
 * button counts too). Space or Enter continues after a break.
 * Accommodations: extended_time doubles the deadline (extended_go_deadline_ms,
 * 3000 ms; it is not removed, since a stop trial ends only at the deadline) and the
 * practice feedback pauses; colour_safe switches to a blue/orange palette;
 * reduced_motion (also from prefers-reduced-motion) turns every animation off.
 *
 * practice: true runs the given schedule with feedback after each trial and records
 * nothing. The root element carries data-trial and data-phase (fixation, stimulus,
 * signal, feedback, iti, break, done) so automated checks can follow the game.
 */
var jsPsychStopSignal = (function (jspsych) {
  'use strict';

  var version = '1.0.0';

  var info = {
    name: 'stop-signal',
    version: version,
    parameters: {
      /** [{trial, stop, direction}] in order; its length is the number of trials. */
      schedule: { type: jspsych.ParameterType.COMPLEX, array: true, default: undefined },
      /** Trials per block; a break follows every block but the last. */
      block_size: { type: jspsych.ParameterType.INT, default: 32 },
      ssd_start_ms: { type: jspsych.ParameterType.INT, default: 250 },
      ssd_step_ms: { type: jspsych.ParameterType.INT, default: 50 },
      ssd_min_ms: { type: jspsych.ParameterType.INT, default: 0 },
      ssd_max_ms: { type: jspsych.ParameterType.INT, default: 1150 },
      /** Time to respond after the arrow's onset (ms). */
      go_deadline_ms: { type: jspsych.ParameterType.INT, default: 1500 },
      /** The deadline under extended_time (ms). */
      extended_go_deadline_ms: { type: jspsych.ParameterType.INT, default: 3000 },
      fixation_ms: { type: jspsych.ParameterType.INT, default: 500 },
      iti_ms: { type: jspsych.ParameterType.INT, default: 500 },
      /** How long practice feedback stays up (ms); doubled under extended_time. */
      feedback_ms: { type: jspsych.ParameterType.INT, default: 1400 },
      /** record(type, data, at): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** Unrecorded practice with feedback. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
    },
    data: {
      /** Trials played. */
      trials: { type: jspsych.ParameterType.INT },
      /** Stop trials with a press / stop trials (null without stop trials). */
      p_respond_signal: { type: jspsych.ParameterType.FLOAT },
      /** The SSD the staircase would use next. */
      final_ssd_ms: { type: jspsych.ParameterType.INT },
      /** Whether this was the practice. */
      practice: { type: jspsych.ParameterType.BOOL },
    },
  };

  var Kit = window.PymetricsKit;
  var el = Kit.el;
  /** Every user-facing string goes through the kit's translation (named placeholders). */
  var t = Kit.t;
  var svg = Kit.svg;

  var ARROW_POINTS = {
    right: '12,40 56,40 56,20 90,50 56,80 56,60 12,60',
    left: '88,40 44,40 44,20 10,50 44,80 44,60 88,60',
  };

  function round1(value) {
    return Math.round(value * 10) / 10;
  }

  function arrowSvg() {
    var node = svg('svg', {
      viewBox: '0 0 100 100', class: 'sst-arrow__svg', 'aria-hidden': 'true', focusable: 'false',
    });
    var shape = svg('polygon', { class: 'sst-arrow__shape', points: ARROW_POINTS.right });
    node.appendChild(shape);
    return { node: node, shape: shape };
  }

  function signalSvg() {
    var node = svg('svg', {
      viewBox: '0 0 200 200', class: 'sst-signal__svg', 'aria-hidden': 'true', focusable: 'false',
    });
    var points = [];
    for (var i = 0; i < 8; i++) {
      var angle = Math.PI / 8 + (Math.PI * 2 * i) / 8;
      points.push((100 + 90 * Math.cos(angle)).toFixed(1) + ',' + (100 + 90 * Math.sin(angle)).toFixed(1));
    }
    node.appendChild(svg('polygon', { class: 'sst-signal__ring', points: points.join(' ') }));
    return node;
  }

  class StopSignalPlugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var settings = Kit.accommodations(trial.accommodation);
      var practice = !!trial.practice;
      var schedule = (trial.schedule || []).slice();
      var count = schedule.length;
      var blockSize = Math.max(1, trial.block_size);
      var blocks = Math.ceil(count / blockSize);
      var deadline = settings.extendedTime ? trial.extended_go_deadline_ms : trial.go_deadline_ms;
      var feedbackMs = Math.max(0, trial.feedback_ms) * settings.timeFactor;
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;

      schedule.forEach(function (entry) {
        if (!entry || (entry.direction !== 'left' && entry.direction !== 'right') ||
          typeof entry.stop !== 'boolean' || !Number.isInteger(entry.trial)) {
          throw new Error('stop: every schedule entry needs {trial, stop, direction}');
        }
      });

      // --- state -------------------------------------------------------------
      var state = {
        index: -1,          // 0-based position of the current trial
        ssd: trial.ssd_start_ms,
        onset: null,        // the arrow's onset frame time (performance.now clock)
        accepting: false,   // a press now is this trial's response
        token: 0,           // changes every trial, so late callbacks can tell
        timers: [],
        stopTrials: 0,
        stopPresses: 0,
        finished: false,
      };

      // --- DOM ---------------------------------------------------------------
      var root = el('div', {
        class: Kit.rootClass('sst', settings, practice ? 'sst--practice' : ''),
        'data-testid': 'stop-game',
        'data-phase': 'iti',
      });
      var counter = el('p', { class: 'sst-hud__counter', 'data-testid': 'stop-counter' });
      var bar = Kit.progress(practice ? t('Practice progress') : t('Game progress'));
      var hud = el('div', { class: 'sst-hud' }, [counter, bar.node]);

      var fixation = el('span', { class: 'sst-fixation', 'aria-hidden': 'true', text: '+', hidden: true });
      var arrow = arrowSvg();
      var arrowNode = el('div', { class: 'sst-arrow', 'data-testid': 'stop-stimulus', hidden: true }, [
        arrow.node,
      ]);
      var signal = el('div', { class: 'sst-signal', 'data-testid': 'stop-signal', hidden: true }, [
        signalSvg(),
        el('span', { class: 'sst-signal__text', 'aria-hidden': 'true', text: t('STOP') }),
      ]);
      var stage = el('div', {
        class: 'sst-stage', role: 'img', 'aria-label': t('Empty screen'), 'data-testid': 'stop-stage',
      }, [fixation, arrowNode, signal]);

      var status = el('p', {
        class: 'sst-status', 'data-testid': 'stop-status', role: 'status', 'aria-live': 'polite',
      });

      function sideButton(side, label, keys) {
        var keyNames = el('span', { class: 'sst-btn__keys', 'aria-hidden': 'true' });
        keyNames.innerHTML = t('%(letter)s or %(arrow)s', {
          letter: '<kbd>' + (keys[0] === 'F' ? 'F' : 'J') + '</kbd>',
          arrow: '<kbd>' + (side === 'left' ? '\u2190' : '\u2192') + '</kbd>',
        });
        var button = el('button', {
          type: 'button', class: 'sst-btn sst-btn--' + side, 'data-testid': 'stop-' + side,
          'aria-keyshortcuts': keys.join(' '),
        }, [
          el('span', { class: 'sst-btn__icon', 'aria-hidden': 'true', text: side === 'left' ? '\u25C0' : '\u25B6' }),
          el('span', { class: 'sst-btn__label', text: label }),
          keyNames,
        ]);
        return button;
      }

      var leftButton = sideButton('left', t('Left'), ['F', 'ArrowLeft']);
      var rightButton = sideButton('right', t('Right'), ['J', 'ArrowRight']);
      var continueButton = el('button', {
        type: 'button', class: 'sst-btn sst-btn--continue', 'data-testid': 'stop-continue',
        'aria-keyshortcuts': 'Space Enter', hidden: true,
      }, [el('span', { class: 'sst-btn__label', text: t('Continue') })]);
      var actions = el('div', { class: 'sst-actions' }, [leftButton, rightButton, continueButton]);
      var keysHint = el('p', { class: 'sst-keys' });
      // One translatable sentence; the keys are placed where the translation puts them.
      keysHint.innerHTML = t('Keys: %(f)s or %(left)s for left, %(j)s or %(right)s for right.', {
        f: '<kbd>F</kbd>', left: '<kbd>\u2190</kbd>', j: '<kbd>J</kbd>', right: '<kbd>\u2192</kbd>',
      });

      root.appendChild(hud);
      root.appendChild(stage);
      root.appendChild(status);
      root.appendChild(actions);
      root.appendChild(keysHint);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      // --- helpers -------------------------------------------------------------
      function emit(type, data, at) {
        if (record) {
          record(type, data, at);
        }
      }

      function later(callback, delayMs) {
        var token = state.token;
        var handle = jsPsych.pluginAPI.setTimeout(function () {
          if (token === state.token && !state.finished) {
            callback();
          }
        }, Math.max(0, delayMs));
        state.timers.push(handle);
      }

      function clearTimers() {
        state.timers.forEach(function (handle) {
          clearTimeout(handle);
        });
        state.timers = [];
      }

      function setPhase(phase) {
        root.setAttribute('data-phase', phase);
      }

      function setStatus(text) {
        status.textContent = text;
      }

      function entry() {
        return schedule[state.index];
      }

      function trialNumber() {
        return practice ? state.index + 1 : entry().trial;
      }

      function showOnly(node) {
        fixation.hidden = node !== fixation;
        arrowNode.hidden = node !== arrowNode;
        signal.hidden = true;
        root.classList.remove('sst--signal');
      }

      function setButtons(enabled) {
        leftButton.disabled = !enabled;
        rightButton.disabled = !enabled;
      }

      // --- the trial sequence ----------------------------------------------------
      function startTrial() {
        state.index += 1;
        state.token += 1;
        state.onset = null;
        state.accepting = false;
        clearTimers();
        var current = entry();
        var n = trialNumber();
        counter.textContent = practice
          ? t('Practice %(n)s of %(total)s', { n: state.index + 1, total: count })
          : t('Trial %(n)s of %(total)s', { n: state.index + 1, total: count });
        bar.set(state.index, count);
        root.setAttribute('data-trial', String(n));
        root.classList.remove('sst--feedback-ok', 'sst--feedback-note');
        continueButton.hidden = true;
        leftButton.hidden = false;
        rightButton.hidden = false;
        setButtons(true);
        setStatus('');
        showOnly(fixation);
        stage.setAttribute('aria-label', t('Fixation cross: an arrow comes next'));
        setPhase('fixation');
        var token = state.token;
        Kit.onPaint(function (ts) {
          if (token !== state.token || state.finished) {
            return;
          }
          emit('trial_start', { trial: n, stop: current.stop, direction: current.direction }, ts);
          later(showArrow, trial.fixation_ms - (Kit.now() - ts));
        });
      }

      function showArrow() {
        var current = entry();
        var n = trialNumber();
        arrow.shape.setAttribute('points', ARROW_POINTS[current.direction]);
        arrowNode.setAttribute('data-direction', current.direction);
        arrowNode.setAttribute('data-trial', String(n));
        showOnly(arrowNode);
        stage.setAttribute('aria-label', current.direction === 'left'
          ? t('Arrow pointing left') : t('Arrow pointing right'));
        var token = state.token;
        Kit.onPaint(function (ts) {
          if (token !== state.token || state.finished) {
            return;
          }
          state.onset = ts;
          state.accepting = true;
          setPhase('stimulus');
          emit('stimulus', { trial: n }, ts);
          var elapsed = Kit.now() - ts;
          if (current.stop) {
            later(showSignal, state.ssd - elapsed);
          }
          later(onDeadline, deadline - elapsed);
        });
      }

      function showSignal() {
        if (!state.accepting) {
          return;
        }
        var n = trialNumber();
        var ssd = state.ssd;
        signal.hidden = false;
        root.classList.add('sst--signal');
        stage.setAttribute('aria-label', t('Stop sign around the arrow: do not press'));
        var token = state.token;
        Kit.onPaint(function (ts) {
          // A press that came before this frame ended the trial: the sign never showed.
          if (token !== state.token || state.finished || !state.accepting) {
            return;
          }
          setPhase('signal');
          emit('stop_signal', { trial: n, ssd_ms: ssd }, ts);
        });
      }

      function respond(side, event) {
        if (!state.accepting || state.onset === null) {
          return false;
        }
        state.accepting = false;
        var at = Kit.eventTime(event);
        var rt = Math.max(0, round1(at - state.onset));
        emit('response', { trial: trialNumber(), key: side, rt_ms: rt }, at);
        endTrial(rt, side);
        return true;
      }

      function onDeadline() {
        if (!state.accepting) {
          return;
        }
        state.accepting = false;
        endTrial(null, null);
      }

      function endTrial(rt, side) {
        clearTimers();
        state.token += 1;
        var current = entry();
        var stop = current.stop;
        var ssd = stop ? state.ssd : null;
        var pressed = rt !== null;
        var correct = !stop && pressed ? (side === current.direction ? 1 : 0) : null;
        emit('trial_end', {
          trial: trialNumber(), stop: stop, direction: current.direction, ssd_ms: ssd,
          rt_ms: rt, correct: correct,
        });
        if (stop) {
          state.stopTrials += 1;
          state.stopPresses += pressed ? 1 : 0;
          var next = state.ssd + (pressed ? -trial.ssd_step_ms : trial.ssd_step_ms);
          state.ssd = Math.min(trial.ssd_max_ms, Math.max(trial.ssd_min_ms, next));
        }
        bar.set(state.index + 1, count);
        setButtons(false);
        if (practice) {
          showFeedback(current, pressed, correct, rt);
          later(afterTrial, feedbackMs);
        } else {
          showOnly(null);
          stage.setAttribute('aria-label', t('Empty screen'));
          setPhase('iti');
          afterTrial();
        }
      }

      function showFeedback(current, pressed, correct, rt) {
        var ok;
        var text;
        if (current.stop) {
          ok = !pressed;
          text = pressed
            ? t('The stop sign came and you pressed. That happens to everyone: stopping is ' +
              'meant to be hard, about half the time.')
            : t('You held back when the stop sign came.');
        } else if (!pressed) {
          ok = false;
          text = t('No key in time. Press as soon as you see the arrow.');
        } else if (correct === 1) {
          ok = true;
          text = t('Matched the arrow (%(rt)s ms).', { rt: Math.round(rt) });
        } else {
          ok = false;
          text = current.direction === 'left'
            ? t('That was the other side: the arrow pointed left.')
            : t('That was the other side: the arrow pointed right.');
        }
        showOnly(null);
        stage.setAttribute('aria-label', t('Feedback'));
        root.classList.add(ok ? 'sst--feedback-ok' : 'sst--feedback-note');
        setPhase('feedback');
        setStatus(text);
      }

      function afterTrial() {
        // Blank screen, then the next trial, a break, or the end.
        if (practice) {
          root.classList.remove('sst--feedback-ok', 'sst--feedback-note');
          showOnly(null);
          setPhase('iti');
        }
        var done = state.index + 1;
        var token = state.token;
        later(function () {
          if (token !== state.token) {
            return;
          }
          if (done >= count) {
            if (practice) {
              showContinue(t('That was the practice. Press Continue when you are ready.'));
            } else {
              finish();
            }
          } else if (!practice && done % blockSize === 0) {
            var block = done / blockSize;
            showContinue(t('Part %(part)s of %(parts)s done. Take a short break; press Continue ' +
              '(or Space) when you are ready for part %(next)s.',
            { part: block, parts: blocks, next: block + 1 }));
          } else {
            startTrial();
          }
        }, trial.iti_ms);
      }

      function showContinue(text) {
        setPhase(practice && state.index + 1 >= count ? 'done' : 'break');
        showOnly(null);
        stage.setAttribute('aria-label', t('Break'));
        leftButton.hidden = true;
        rightButton.hidden = true;
        continueButton.hidden = false;
        setStatus(text);
        continueButton.focus();
      }

      function onContinue() {
        if (continueButton.hidden || state.finished) {
          return;
        }
        continueButton.hidden = true;
        if (state.index + 1 >= count) {
          finish();
        } else {
          startTrial();
        }
      }

      function finish() {
        if (state.finished) {
          return;
        }
        state.finished = true;
        state.accepting = false;
        clearTimers();
        detachKeys();
        setPhase('done');
        display_element.innerHTML = '';
        jsPsych.finishTrial({
          trials: count,
          p_respond_signal: state.stopTrials ? state.stopPresses / state.stopTrials : null,
          final_ssd_ms: state.ssd,
          practice: practice,
        });
      }

      // --- input ---------------------------------------------------------------
      function sideOf(event) {
        var key = event.key;
        var code = event.code;
        if (key === 'ArrowLeft' || key === 'f' || key === 'F' || code === 'KeyF') {
          return 'left';
        }
        if (key === 'ArrowRight' || key === 'j' || key === 'J' || code === 'KeyJ') {
          return 'right';
        }
        return null;
      }

      var detachKeys = Kit.listenKeys(root, function (event) {
        if (!continueButton.hidden) {
          if (event.key === ' ' || event.key === 'Enter' || event.code === 'Space') {
            onContinue();
            return true;
          }
          return false;
        }
        var side = sideOf(event);
        if (side === null) {
          return false;
        }
        respond(side, event);
        // Arrow keys must never scroll the page during the game, used or not.
        return true;
      }, { swallow: ['ArrowLeft', 'ArrowRight', ' '] });

      function onPointer(side) {
        return function (event) {
          if (event.button !== undefined && event.button > 0) {
            return;
          }
          respond(side, event);
        };
      }

      function onKeyboardClick(side) {
        // A click with detail 0 comes from the keyboard or assistive technology on a
        // focused button; pointer clicks were already handled on pointerdown.
        return function (event) {
          if (event.detail === 0) {
            respond(side, event);
          }
        };
      }

      leftButton.addEventListener('pointerdown', onPointer('left'));
      rightButton.addEventListener('pointerdown', onPointer('right'));
      leftButton.addEventListener('click', onKeyboardClick('left'));
      rightButton.addEventListener('click', onKeyboardClick('right'));
      continueButton.addEventListener('click', onContinue);

      if (count === 0) {
        finish();
        return;
      }
      // A short blank screen first, so the first fixation cross is not missed.
      setButtons(false);
      later(startTrial, trial.iti_ms);
    }
  }

  StopSignalPlugin.info = info;
  return StopSignalPlugin;
})(jsPsychModule);

/**
 * The stop game's timeline: instructions -> practice (config.practice_trials, 8,
 * with feedback, not recorded; stop signs on practice trials 3 and 6) -> ready
 * screen -> the recorded game. config.config is the session's
 * make_config(seed) dict; config.accommodations the candidate's accommodations.
 */
(function () {
  'use strict';

  var registry = (window.PymetricsGames = window.PymetricsGames || {});
  var Kit = window.PymetricsKit;
  var t = Kit.t;

  var PRACTICE_TRIALS = 8;
  /** 1-based practice positions that get a stop sign (neither is the first trial). */
  var PRACTICE_STOPS = [3, 6];

  function practiceSchedule(seed, length) {
    var random = Kit.seededRandom(seed);
    var schedule = [];
    for (var i = 1; i <= length; i++) {
      schedule.push({
        trial: i,
        stop: PRACTICE_STOPS.indexOf(i) !== -1,
        direction: random() < 0.5 ? 'left' : 'right',
      });
    }
    return schedule;
  }

  registry.stop = function buildStopTimeline(config, client) {
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var kit = Kit.accommodations(accommodation);
    var schedule = settings.schedule || [];
    var count = schedule.length;
    var blockSize = settings.block_size || 32;
    var blocks = Math.max(1, Math.ceil(count / blockSize));
    var goDeadline = settings.go_deadline_ms || 1500;
    var extendedDeadline = settings.extended_go_deadline_ms || 2 * goDeadline;
    var deadline = kit.extendedTime ? extendedDeadline : goDeadline;
    var seconds = (deadline / 1000).toLocaleString(document.documentElement.lang || 'en', { maximumFractionDigits: 1 });
    var minutes = Math.max(1, Math.round(count * 2 / 60));
    var practiceTrials = settings.practice_trials === undefined
      ? PRACTICE_TRIALS : Math.max(0, settings.practice_trials);

    var common = {
      type: jsPsychStopSignal,
      block_size: blockSize,
      ssd_start_ms: settings.ssd_start_ms === undefined ? 250 : settings.ssd_start_ms,
      ssd_step_ms: settings.ssd_step_ms || 50,
      ssd_min_ms: settings.ssd_min_ms || 0,
      ssd_max_ms: settings.ssd_max_ms || 1150,
      go_deadline_ms: goDeadline,
      extended_go_deadline_ms: extendedDeadline,
      fixation_ms: settings.fixation_ms || 500,
      iti_ms: settings.iti_ms || 500,
      accommodation: accommodation,
    };

    function extend(extra) {
      var merged = {};
      Object.keys(common).forEach(function (key) { merged[key] = common[key]; });
      Object.keys(extra).forEach(function (key) { merged[key] = extra[key]; });
      return merged;
    }

    var lengthParams = { count: count, parts: blocks, minutes: minutes };
    var length = blocks === 1
      ? t('There are %(count)s arrows in 1 part.', lengthParams)
      : t('There are %(count)s arrows in %(parts)s parts, with a short break between parts.',
        lengthParams);
    var duration = minutes === 1
      ? t('It takes about 1 minute.')
      : t('It takes about %(minutes)s minutes.', lengthParams);
    function keyRow(letter, arrowKey, meaning) {
      return '<div><dt>' + t('%(letter)s or %(arrow)s', {
        letter: '<kbd>' + letter + '</kbd>', arrow: '<kbd>' + arrowKey + '</kbd>',
      }) + '</dt><dd>' + meaning + '</dd></div>';
    }

    var instructions = Kit.instructions([
      Kit.page(t('Stop Signal'), [
        '<p>' + t('In this game you will see arrows, one at a time. Each arrow points left or ' +
          'right. Press the side the arrow points to, as quickly as you can.') + '</p>',
        '<p>' + t('Now and then a <strong>stop sign</strong> (a ring with the word STOP) ' +
          'appears around the arrow, just after it. When you see it, try not to press ' +
          'anything.') + '</p>',
        '<p>' + length + ' ' + duration + '</p>',
      ]),
      Kit.page(t('Fast, and sometimes stopping'), [
        '<ul class="game-list">',
        '<li>' + t('Most arrows have no stop sign. Do not wait for one: answer each arrow as ' +
          'fast as you can.') + '</li>',
        '<li>' + t('Stopping is meant to be hard. Everyone stops in time on some arrows and not ' +
          'on others; the game adjusts itself so that this happens about half of the time.') +
          '</li>',
        '<li>' + t('There is no right way to play beyond that. Just keep a steady, quick ' +
          'pace.') + '</li>',
        '</ul>',
      ]),
      Kit.page(t('Controls'), [
        '<p>' + t('Use the keyboard, or the two big buttons with a mouse or your finger:') +
          '</p>',
        '<dl class="game-keys">',
        keyRow('F', '\u2190', t('The arrow points left')),
        keyRow('J', '\u2192', t('The arrow points right')),
        '</dl>',
        '<p>' + t('Each arrow waits up to %(seconds)s seconds for your answer. A small cross in ' +
          'the middle shows that the next arrow is coming.', { seconds: seconds }) + '</p>',
        practiceTrials > 0
          ? '<p>' + (practiceTrials === 1
            ? t('First you will try one <strong>practice arrow</strong>, with a note after ' +
              'it. It does not count.')
            : t('First you will try %(count)s <strong>practice arrows</strong>, with a note ' +
              'after each one. They do not count.', { count: practiceTrials })) + '</p>'
          : '',
      ]),
    ]);

    var practice = extend({
      practice: true,
      schedule: practiceSchedule(settings.seed, practiceTrials),
    });

    var ready = Kit.ready(t('Ready?'), [
      '<p>' + t('The real game starts now: %(count)s arrows. There are no notes after each ' +
        'arrow from here on.', { count: count }) + '</p>',
      '<p>' + t('Remember: %(f)s or %(left)s for left, %(j)s or %(right)s for right, as fast as ' +
        'you can; hold back when the stop sign appears.', {
        f: '<kbd>F</kbd>', left: '<kbd>\u2190</kbd>', j: '<kbd>J</kbd>', right: '<kbd>\u2192</kbd>',
      }) + '</p>',
    ], t('Start the game'));

    var main = extend({
      practice: false,
      schedule: schedule,
      record: function (type, data, at) {
        client.record(type, data, at);
      },
      on_start: function () {
        // t = 0 at the start of the recorded game; visibility and focus are watched from here.
        client.start();
      },
    });

    return practiceTrials > 0 ? [instructions, practice, ready, main] : [instructions, ready, main];
  };
})();
