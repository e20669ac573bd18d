/**
 * jsPsychLengths: the probabilistic reward task (Pizzagalli et al. 2005) as one
 * jsPsych 8 trial that runs every trial of the session, plus the game's timeline
 * builder (window.PymetricsGames.lengths).
 *
 * Each trial: a fixation cross (fixation_ms), a cartoon face without a mouth
 * (face_ms), then the face with a short or a long mouth for mouth_ms (100 ms, six
 * frames at 60 Hz, counted on painted frames), then the mouthless face again until
 * the answer or the deadline (response_deadline_ms after the mouth's onset). The
 * outcome stays up for feedback_ms, then a blank screen (iti_ms). Between blocks
 * there is an untimed break.
 *
 * Rewards follow the controlled reinforcement schedule (spec.RewardLedger): a
 * trial whose schedule entry has reward_due adds one reward owed for its kind of
 * face (rich or lean); a correct answer to a face of a kind with a reward owed is
 * rewarded ("Correct! You won 5 cents") and pays one off. What is still owed when a
 * block ends lapses. Unrewarded answers show the plain face: no feedback.
 *
 * Events (shared SCIENCE.md, lengths; pymetrics/games/lengths/spec.py) go out
 * through `record(type, data, at)`, normally PymetricsEventClient.record:
 *
 *   trial_start {trial, block, length, stimulus}     at the mouth's first frame
 *   response    {trial, response, rt_ms}             at the key/pointer event's timeStamp
 *   feedback    {trial, block, length, stimulus, response, correct, rt_ms, rewarded}
 *                                                    at the outcome's first frame
 *
 * rt_ms = the answer event's time minus the mouth's onset frame time (float ms, 0.1
 * ms grid). Answers before the mouth appears are ignored; only the first answer of a
 * trial counts (the trial ends on it). Without an answer before the deadline no
 * response is sent and feedback has response, correct and rt_ms null.
 *
 * Operation: S or Left arrow = short, L or Right arrow = long; two big buttons
 * (mouse, touch; pointerdown is the answer time; a keyboard "click" on a focused
 * button counts too). Space or Enter continues after a break.
 * Accommodations: extended_time doubles the answer deadline (6 s) and the time the
 * outcome stays up; the 100 ms mouth is not lengthened, since its brevity is what
 * the task measures. colour_safe switches to a blue/orange palette (the reward also
 * carries a star and words); reduced_motion (also from prefers-reduced-motion) turns
 * the reward's animation off.
 *
 * practice: true runs the given faces with feedback on every answer ("That was the
 * long mouth") and records nothing. The root element carries data-trial,
 * data-block, data-phase (fixation, face, mouth, respond, feedback, iti, break,
 * done) and data-state (respond while an answer is taken, wait otherwise).
 */
var jsPsychLengths = (function (jspsych) {
  'use strict';

  var version = '1.0.0';

  var info = {
    name: 'lengths',
    version: version,
    parameters: {
      /** [{trial, block, length, stimulus, reward_due}] in order. */
      schedule: { type: jspsych.ParameterType.COMPLEX, array: true, default: undefined },
      /** Trials per block; a break follows every block but the last. */
      trials_per_block: { type: jspsych.ParameterType.INT, default: 100 },
      /** Mouth lengths in face units, {short, long}. */
      mouth_units: { type: jspsych.ParameterType.OBJECT, default: { short: 11.5, long: 13 } },
      /** The face's width in the same units. */
      face_units: { type: jspsych.ParameterType.FLOAT, default: 26 },
      fixation_ms: { type: jspsych.ParameterType.INT, default: 500 },
      face_ms: { type: jspsych.ParameterType.INT, default: 500 },
      mouth_ms: { type: jspsych.ParameterType.INT, default: 100 },
      /** Time to answer after the mouth's onset (ms). */
      response_deadline_ms: { type: jspsych.ParameterType.INT, default: 3000 },
      /** The deadline under extended_time (ms). */
      extended_response_deadline_ms: { type: jspsych.ParameterType.INT, default: 6000 },
      /** How long the outcome stays up (ms); doubled under extended_time. */
      feedback_ms: { type: jspsych.ParameterType.INT, default: 1500 },
      iti_ms: { type: jspsych.ParameterType.INT, default: 500 },
      reward_cents: { type: jspsych.ParameterType.INT, default: 5 },
      /** record(type, data, at): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** Unrecorded practice with feedback on every answer. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
    },
    data: {
      /** Trials played. */
      trials: { type: jspsych.ParameterType.INT },
      /** Rewards won. */
      rewards: { type: jspsych.ParameterType.INT },
      /** Whether this was the practice. */
      practice: { type: jspsych.ParameterType.BOOL },
    },
  };

  var Kit = window.PymetricsKit;
  var el = Kit.el;
  var t = Kit.t;

  /** Longest rt_ms the server accepts (spec.MAX_RT_MS). */
  var MAX_RT_MS = 7000;
  /** Frames whose start is within this of mouth_ms still count as showing the mouth. */
  var HALF_FRAME_MS = 8;

  function round1(value) {
    return Math.round(value * 10) / 10;
  }

  function formatCents(cents) {
    return '$' + (cents / 100).toFixed(2);
  }

  /**
   * The controlled reinforcement schedule, as spec.RewardLedger: rewards owed per
   * kind of face, counted from the start of each block.
   */
  function RewardLedger() {
    this.block = 0;
    this.owed = { rich: 0, lean: 0 };
  }

  RewardLedger.prototype.settle = function (entry, correct) {
    if (entry.block !== this.block) {
      this.block = entry.block;
      this.owed = { rich: 0, lean: 0 };
    }
    if (entry.reward_due) {
      this.owed[entry.stimulus] += 1;
    }
    if (correct && this.owed[entry.stimulus] > 0) {
      this.owed[entry.stimulus] -= 1;
      return true;
    }
    return false;
  };

  /**
   * The face: a head, two eyes and a mouth line centred on the face. viewBox units
   * are face units, so mouth lengths are given in the spec's own units.
   */
  function faceSvg(faceUnits) {
    var r = faceUnits / 2;
    var node = Kit.svg('svg', {
      viewBox: [-r - 1, -r - 1, 2 * r + 2, 2 * r + 2].join(' '),
      class: 'prt-face__svg', 'aria-hidden': 'true', focusable: 'false',
    });
    node.appendChild(Kit.svg('circle', { class: 'prt-face__head', cx: '0', cy: '0', r: String(r) }));
    var eyeX = (r * 0.35).toFixed(2);
    var eyeY = (-r * 0.25).toFixed(2);
    var eyeR = (r * 0.1).toFixed(2);
    node.appendChild(Kit.svg('circle', { class: 'prt-face__eye', cx: '-' + eyeX, cy: eyeY, r: eyeR }));
    node.appendChild(Kit.svg('circle', { class: 'prt-face__eye', cx: eyeX, cy: eyeY, r: eyeR }));
    var mouth = Kit.svg('line', {
      class: 'prt-face__mouth', x1: '0', x2: '0', y1: (r * 0.45).toFixed(2), y2: (r * 0.45).toFixed(2),
      visibility: 'hidden',
    });
    node.appendChild(mouth);
    return {
      node: node,
      showMouth: function (units) {
        mouth.setAttribute('x1', String(-units / 2));
        mouth.setAttribute('x2', String(units / 2));
        mouth.setAttribute('visibility', 'visible');
      },
      hideMouth: function () {
        mouth.setAttribute('visibility', 'hidden');
      },
    };
  }

  class LengthsPlugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var settings = Kit.accommodations(trial.accommodation);
      var practice = !!trial.practice;
      var schedule = (trial.schedule || []).slice();
      var count = schedule.length;
      var blockSize = Math.max(1, trial.trials_per_block);
      var blocks = Math.ceil(count / blockSize);
      var deadline = settings.extendedTime
        ? trial.extended_response_deadline_ms : trial.response_deadline_ms;
      var feedbackMs = Math.max(0, trial.feedback_ms) * settings.timeFactor;
      var mouthUnits = trial.mouth_units || {};
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;
      var emit = Kit.recorder(record, 'lengths');

      schedule.forEach(function (entry) {
        if (!entry || (entry.length !== 'short' && entry.length !== 'long') ||
          !Number.isInteger(entry.trial) || !Number.isInteger(entry.block)) {
          throw new Error('lengths: every schedule entry needs {trial, block, length}');
        }
      });
      if (!(mouthUnits.short > 0) || !(mouthUnits.long > 0)) {
        throw new Error('lengths: mouth_units needs short and long lengths');
      }

      // --- state -------------------------------------------------------------
      var state = {
        index: -1,          // 0-based position of the current trial
        onset: null,        // the mouth's onset frame time (performance.now clock)
        accepting: false,   // an answer now is this trial's answer
        token: 0,           // changes every trial and phase, so late callbacks can tell
        timers: [],
        rewards: 0,
        finished: false,
      };
      var ledger = new RewardLedger();

      // --- DOM ---------------------------------------------------------------
      var root = el('div', {
        class: Kit.rootClass('prt', settings, practice ? 'prt--practice' : ''),
        'data-testid': 'lengths-game',
        'data-phase': 'iti',
        'data-state': 'wait',
      });
      var counter = el('p', { class: 'prt-hud__counter', 'data-testid': 'lengths-counter' });
      var bar = Kit.progress(practice ? t('Practice progress') : t('Game progress'));
      var winnings = el('span', { class: 'prt-hud__value', 'data-testid': 'lengths-winnings' });
      var hud = el('div', { class: 'prt-hud' }, [
        counter,
        bar.node,
        practice ? null : el('p', { class: 'prt-hud__winnings' }, [
          el('span', { class: 'prt-hud__label', text: t('Won so far:') }), ' ', winnings,
        ]),
      ]);

      var fixation = el('span', { class: 'prt-fixation', 'aria-hidden': 'true', text: '+', hidden: true });
      var face = faceSvg(trial.face_units || 26);
      var faceNode = el('div', { class: 'prt-face', 'data-testid': 'lengths-face', hidden: true }, [face.node]);
      var reward = el('div', {
        class: 'prt-reward', 'data-testid': 'lengths-reward', hidden: true,
      }, [
        el('span', { class: 'prt-reward__icon', 'aria-hidden': 'true', text: '\u2605' }),
        el('span', { class: 'prt-reward__text' }),
      ]);
      var stage = el('div', {
        class: 'prt-stage', role: 'img', 'aria-label': t('Empty screen'), 'data-testid': 'lengths-stage',
      }, [fixation, faceNode, reward]);

      var status = el('p', {
        class: 'prt-status', 'data-testid': 'lengths-status', role: 'status', 'aria-live': 'polite',
      });

      function answerButton(length, label, keys) {
        return el('button', {
          type: 'button', class: 'prt-btn prt-btn--' + length, 'data-testid': 'lengths-' + length,
          'aria-keyshortcuts': keys.join(' '),
        }, [
          el('span', { class: 'prt-btn__icon', 'aria-hidden': 'true' }),
          el('span', { class: 'prt-btn__label', text: label }),
          el('span', { class: 'prt-btn__keys', 'aria-hidden': 'true' }, [
            el('kbd', { text: keys[0] }), ' / ',
            el('kbd', { text: keys[1] === 'ArrowLeft' ? '\u2190' : '\u2192' }),
          ]),
        ]);
      }

      var shortButton = answerButton('short', t('Short mouth'), ['S', 'ArrowLeft']);
      var longButton = answerButton('long', t('Long mouth'), ['L', 'ArrowRight']);
      var continueButton = el('button', {
        type: 'button', class: 'prt-btn prt-btn--continue', 'data-testid': 'lengths-continue',
        'aria-keyshortcuts': 'Space Enter', hidden: true,
      }, [el('span', { class: 'prt-btn__label', text: t('Continue') })]);
      var actions = el('div', { class: 'prt-actions' }, [shortButton, longButton, continueButton]);
      var keysHint = el('p', { class: 'prt-keys' });
      // One sentence for translators; the key names are markup filled in afterwards.
      keysHint.innerHTML = t('Keys: %(s)s or %(left)s for short, %(l)s or %(right)s for long.', {
        s: '<kbd>S</kbd>', left: '<kbd>\u2190</kbd>', l: '<kbd>L</kbd>', right: '<kbd>\u2192</kbd>',
      });

      root.appendChild(hud);
      root.appendChild(stage);
      root.appendChild(status);
      root.appendChild(actions);
      root.appendChild(keysHint);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      // --- helpers -------------------------------------------------------------
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

      function setAccepting(accepting) {
        state.accepting = accepting;
        root.setAttribute('data-state', accepting ? 'respond' : 'wait');
      }

      function entry() {
        return schedule[state.index];
      }

      function show(node) {
        fixation.hidden = node !== fixation;
        faceNode.hidden = node !== faceNode;
        reward.hidden = true;
        root.classList.remove('prt--rewarded');
      }

      function setButtons(enabled) {
        shortButton.disabled = !enabled;
        longButton.disabled = !enabled;
      }

      function renderWinnings() {
        winnings.textContent = formatCents(state.rewards * trial.reward_cents);
      }

      // --- the trial sequence ----------------------------------------------------
      function startTrial() {
        state.index += 1;
        state.token += 1;
        state.onset = null;
        setAccepting(false);
        clearTimers();
        var current = entry();
        counter.textContent = practice
          ? t('Practice %(n)s of %(total)s', { n: state.index + 1, total: count })
          : t('Trial %(n)s of %(total)s', { n: state.index + 1, total: count });
        bar.set(state.index, count);
        root.setAttribute('data-trial', String(practice ? state.index + 1 : current.trial));
        root.setAttribute('data-block', String(current.block));
        root.classList.remove('prt--feedback-ok', 'prt--feedback-note');
        continueButton.hidden = true;
        shortButton.hidden = false;
        longButton.hidden = false;
        setButtons(true);
        status.textContent = '';
        face.hideMouth();
        show(fixation);
        stage.setAttribute('aria-label', t('Fixation cross: a face comes next'));
        setPhase('fixation');
        var token = state.token;
        Kit.onPaint(function (ts) {
          if (token !== state.token || state.finished) {
            return;
          }
          later(showFace, trial.fixation_ms - (Kit.now() - ts));
        });
      }

      function showFace() {
        show(faceNode);
        stage.setAttribute('aria-label', t('A face without a mouth: the mouth comes next'));
        setPhase('face');
        var token = state.token;
        Kit.onPaint(function (ts) {
          if (token !== state.token || state.finished) {
            return;
          }
          later(showMouth, trial.face_ms - (Kit.now() - ts));
        });
      }

      function showMouth() {
        var current = entry();
        face.showMouth(mouthUnits[current.length]);
        faceNode.setAttribute('data-length', current.length);
        stage.setAttribute('aria-label', t('A face with a mouth, shown briefly'));
        var token = state.token;
        Kit.onPaint(function (ts) {
          if (token !== state.token || state.finished) {
            return;
          }
          state.onset = ts;
          setAccepting(true);
          setPhase('mouth');
          emit('trial_start', {
            trial: current.trial, block: current.block, length: current.length,
            stimulus: current.stimulus,
          }, ts);
          hideMouthAfter(ts, token);
          later(onDeadline, deadline - (Kit.now() - ts));
        });
      }

      /**
       * Hides the mouth in the callback of the first frame that starts mouth_ms after
       * the onset frame (less half a frame), so it is on screen for a whole number of
       * frames closest to mouth_ms.
       */
      function hideMouthAfter(onset, token) {
        function onFrame(ts) {
          if (token !== state.token || state.finished) {
            return;
          }
          if (ts - onset >= trial.mouth_ms - HALF_FRAME_MS) {
            face.hideMouth();
            faceNode.removeAttribute('data-length');
            stage.setAttribute('aria-label', t('A face without a mouth: short or long?'));
            setPhase('respond');
          } else {
            Kit.onPaint(onFrame);
          }
        }
        Kit.onPaint(onFrame);
      }

      function respond(length, event) {
        if (!state.accepting || state.onset === null) {
          return false;
        }
        setAccepting(false);
        var at = Kit.eventTime(event);
        var rt = Math.min(MAX_RT_MS, Math.max(0, round1(at - state.onset)));
        emit('response', { trial: entry().trial, response: length, rt_ms: rt }, at);
        endTrial(length, rt);
        return true;
      }

      function onDeadline() {
        if (!state.accepting) {
          return;
        }
        setAccepting(false);
        endTrial(null, null);
      }

      function endTrial(response, rt) {
        clearTimers();
        state.token += 1;
        var current = entry();
        var answered = response !== null;
        var correct = answered && response === current.length;
        var rewarded = practice ? false : ledger.settle(current, correct);
        if (rewarded) {
          state.rewards += 1;
        }
        face.hideMouth();
        faceNode.removeAttribute('data-length');
        setButtons(false);
        bar.set(state.index + 1, count);
        showOutcome(current, answered, correct, rewarded);
        var token = state.token;
        Kit.onPaint(function (ts) {
          if (token !== state.token || state.finished) {
            return;
          }
          if (!practice) {
            emit('feedback', {
              trial: current.trial, block: current.block, length: current.length,
              stimulus: current.stimulus, response: response,
              correct: answered ? (correct ? 1 : 0) : null, rt_ms: rt, rewarded: rewarded,
            }, ts);
          }
          later(afterFeedback, feedbackMs - (Kit.now() - ts));
        });
      }

      function showOutcome(current, answered, correct, rewarded) {
        setPhase('feedback');
        show(faceNode);
        if (practice) {
          var text;
          if (!answered) {
            text = t('No answer in time. Answer as soon as you can after the mouth appears.');
          } else if (current.length === 'long') {
            text = correct ? t('Right: that was the long mouth.') : t('That was the long mouth.');
          } else {
            text = correct ? t('Right: that was the short mouth.') : t('That was the short mouth.');
          }
          root.classList.add(correct ? 'prt--feedback-ok' : 'prt--feedback-note');
          stage.setAttribute('aria-label', t('Feedback'));
          status.textContent = text;
          return;
        }
        if (rewarded) {
          var message = t('Correct! You won %(amount)s', { amount: formatCents(trial.reward_cents) });
          reward.lastChild.textContent = message;
          faceNode.hidden = true;
          reward.hidden = false;
          root.classList.add('prt--rewarded');
          stage.setAttribute('aria-label', message);
          status.textContent = message;
          renderWinnings();
        } else if (!answered) {
          stage.setAttribute('aria-label', t('No answer in time'));
          status.textContent = t('No answer in time.');
        } else {
          stage.setAttribute('aria-label', t('A face without a mouth'));
        }
      }

      function afterFeedback() {
        show(null);
        root.classList.remove('prt--feedback-ok', 'prt--feedback-note');
        status.textContent = '';
        stage.setAttribute('aria-label', t('Empty screen'));
        setPhase('iti');
        var done = state.index + 1;
        later(function () {
          if (done >= count) {
            if (practice) {
              showContinue(t('That was the practice. Press Continue when you are ready.'));
            } else {
              finish();
            }
          } else if (!practice && done % blockSize === 0) {
            var block = done / blockSize;
            showContinue(t('Part %(done)s of %(parts)s done. Take a short break; press ' +
              'Continue (or Space) when you are ready for part %(next)s.',
            { done: block, parts: blocks, next: block + 1 }));
          } else {
            startTrial();
          }
        }, trial.iti_ms);
      }

      function showContinue(text) {
        setPhase(practice && state.index + 1 >= count ? 'done' : 'break');
        show(null);
        stage.setAttribute('aria-label', t('Break'));
        shortButton.hidden = true;
        longButton.hidden = true;
        continueButton.hidden = false;
        status.textContent = text;
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
        setAccepting(false);
        clearTimers();
        detachKeys();
        setPhase('done');
        display_element.innerHTML = '';
        jsPsych.finishTrial({ trials: count, rewards: state.rewards, practice: practice });
      }

      // --- input ---------------------------------------------------------------
      function lengthOf(event) {
        var key = event.key;
        var code = event.code;
        if (key === 'ArrowLeft' || key === 's' || key === 'S' || code === 'KeyS') {
          return 'short';
        }
        if (key === 'ArrowRight' || key === 'l' || key === 'L' || code === 'KeyL') {
          return 'long';
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
        var length = lengthOf(event);
        if (length === null) {
          return false;
        }
        respond(length, event);
        // Arrow keys must never scroll the page during the game, used or not.
        return true;
      }, { swallow: ['ArrowLeft', 'ArrowRight', ' '] });

      function onPointer(length) {
        return function (event) {
          if (event.button !== undefined && event.button > 0) {
            return;
          }
          respond(length, event);
        };
      }

      function onKeyboardClick(length) {
        // A click with detail 0 comes from the keyboard or assistive technology on a
        // focused button; pointer clicks were already handled on pointerdown.
        return function (event) {
          if (event.detail === 0) {
            respond(length, event);
          }
        };
      }

      shortButton.addEventListener('pointerdown', onPointer('short'));
      longButton.addEventListener('pointerdown', onPointer('long'));
      shortButton.addEventListener('click', onKeyboardClick('short'));
      longButton.addEventListener('click', onKeyboardClick('long'));
      continueButton.addEventListener('click', onContinue);

      renderWinnings();
      if (count === 0) {
        finish();
        return;
      }
      // A short blank screen first, so the first fixation cross is not missed.
      setButtons(false);
      later(startTrial, trial.iti_ms);
    }
  }

  LengthsPlugin.info = info;
  LengthsPlugin.RewardLedger = RewardLedger;
  return LengthsPlugin;
})(jsPsychModule);

/**
 * The lengths game's timeline: instructions (with a picture of both mouths) ->
 * practice (config.practice: the practice faces' lengths, with feedback, not
 * recorded) -> ready screen -> the recorded game. config.config is the session's
 * make_config(seed) dict; config.accommodations the candidate's accommodations.
 */
(function () {
  'use strict';

  var registry = (window.PymetricsGames = window.PymetricsGames || {});
  var Kit = window.PymetricsKit;
  var t = Kit.t;

  /** A static face with a mouth, as markup for the instructions. */
  function faceMarkup(faceUnits, mouthUnits, label) {
    var r = faceUnits / 2;
    var y = (r * 0.45).toFixed(2);
    return '<figure class="prt-example">' +
      '<svg class="prt-example__svg" viewBox="' + [-r - 1, -r - 1, 2 * r + 2, 2 * r + 2].join(' ') +
      '" role="img" aria-label="' + Kit.escapeHtml(label) + '">' +
      '<circle class="prt-face__head" cx="0" cy="0" r="' + r + '"></circle>' +
      '<circle class="prt-face__eye" cx="' + (-r * 0.35).toFixed(2) + '" cy="' +
      (-r * 0.25).toFixed(2) + '" r="' + (r * 0.1).toFixed(2) + '"></circle>' +
      '<circle class="prt-face__eye" cx="' + (r * 0.35).toFixed(2) + '" cy="' +
      (-r * 0.25).toFixed(2) + '" r="' + (r * 0.1).toFixed(2) + '"></circle>' +
      '<line class="prt-face__mouth" x1="' + (-mouthUnits / 2) + '" x2="' + (mouthUnits / 2) +
      '" y1="' + y + '" y2="' + y + '"></line></svg>' +
      '<figcaption>' + Kit.escapeHtml(label) + '</figcaption></figure>';
  }

  registry.lengths = function buildLengthsTimeline(config, client) {
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var kit = Kit.accommodations(accommodation);
    var schedule = settings.schedule || [];
    var count = schedule.length;
    var blockSize = settings.trials_per_block || 100;
    var blocks = Math.max(1, Math.ceil(count / blockSize));
    var mouthUnits = settings.mouth_units || { short: 11.5, long: 13 };
    var faceUnits = settings.face_units || 26;
    var deadlineMs = settings.response_deadline_ms || 3000;
    var extendedMs = settings.extended_response_deadline_ms || 2 * deadlineMs;
    var deadline = kit.extendedTime ? extendedMs : deadlineMs;
    var seconds = (deadline / 1000).toLocaleString('en', { maximumFractionDigits: 1 });
    var rewardCents = settings.reward_cents || 5;
    var rewardText = '$' + (rewardCents / 100).toFixed(2);
    var minutes = Math.max(1, Math.round(count * 3.6 / 60));
    var practiceLengths = settings.practice || [];
    var practiceTrials = practiceLengths.length;

    var common = {
      type: jsPsychLengths,
      trials_per_block: blockSize,
      mouth_units: mouthUnits,
      face_units: faceUnits,
      fixation_ms: settings.fixation_ms || 500,
      face_ms: settings.face_ms || 500,
      mouth_ms: settings.mouth_ms || 100,
      response_deadline_ms: deadlineMs,
      extended_response_deadline_ms: extendedMs,
      feedback_ms: settings.feedback_ms || 1500,
      iti_ms: settings.iti_ms || 500,
      reward_cents: rewardCents,
      accommodation: accommodation,
    };

    function extend(extra) {
      var merged = {};
      Object.keys(common).forEach(function (key) { merged[key] = common[key]; });
      Object.keys(extra).forEach(function (key) { merged[key] = extra[key]; });
      return merged;
    }

    var examples = '<div class="prt-examples">' +
      faceMarkup(faceUnits, mouthUnits.short, t('Short mouth')) +
      faceMarkup(faceUnits, mouthUnits.long, t('Long mouth')) + '</div>';

    var instructions = Kit.instructions([
      Kit.page(t('Lengths'), [
        '<p>' + t('In this game you will see a cartoon face, again and again. Each time, for ' +
          'a split second, it has a mouth: either a short one or a slightly longer one. Say ' +
          'which one you saw.') + '</p>',
        examples,
        '<p>' + (blocks > 1
          ? t('There are %(count)s faces in %(parts)s parts, with a short break between parts.',
            { count: count, parts: blocks })
          : t('There are %(count)s faces.', { count: count })) + ' ' +
          (minutes > 1
            ? t('It takes about %(minutes)s minutes.', { minutes: minutes })
            : t('It takes about a minute.')) + '</p>',
      ]),
      Kit.page(t('Winning money'), [
        '<ul class="game-list">',
        '<li>' + t('Some correct answers win you %(amount)s: you will see \u201cCorrect! You ' +
          'won %(amount)s\u201d.', { amount: rewardText }) + '</li>',
        '<li>' + t('Not every correct answer wins, so do not worry when nothing appears after ' +
          'an answer.') + '</li>',
        '<li>' + t('The mouth is on screen only very briefly and the two lengths are close, ' +
          'so the game is meant to be hard. When you are not sure, give your best guess.') +
          '</li>',
        '<li>' + t('Try to win as much money as you can.') + '</li>',
        '</ul>',
      ]),
      Kit.page(t('Controls'), [
        '<p>' + t('Use the keyboard, or the two big buttons with a mouse or your finger:') + '</p>',
        '<dl class="game-keys">',
        '<div><dt>' + t('%(first)s or %(second)s', { first: '<kbd>S</kbd>', second: '<kbd>\u2190</kbd>' }) +
          '</dt><dd>' + t('Short mouth') + '</dd></div>',
        '<div><dt>' + t('%(first)s or %(second)s', { first: '<kbd>L</kbd>', second: '<kbd>\u2192</kbd>' }) +
          '</dt><dd>' + t('Long mouth') + '</dd></div>',
        '</dl>',
        '<p>' + t('Each face waits up to %(seconds)s seconds for your answer.',
          { seconds: seconds }) + '</p>',
        practiceTrials > 0
          ? '<p>' + t('First you will try %(count)s practice faces, with a note after each ' +
            'one telling you which mouth it was. They do not count.', { count: practiceTrials }) +
            '</p>'
          : '',
      ]),
    ]);

    var practice = extend({
      practice: true,
      schedule: practiceLengths.map(function (length, index) {
        return { trial: index + 1, block: 1, length: length, stimulus: null, reward_due: false };
      }),
    });

    var ready = Kit.ready(t('Ready?'), [
      '<p>' + t('The real game starts now: %(count)s faces. From here on you will not be told ' +
        'which mouth it was, but some correct answers win money.', { count: count }) + '</p>',
      '<p>' + t('Remember: S or \u2190 for a short mouth, L or \u2192 for a long mouth.') + '</p>',
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
