/**
 * jsPsychDigits: digit span (WAIS procedure) as one jsPsych 8 trial per part,
 * forward or backward, plus the timeline builder the game page uses.
 *
 * A part starts at the shortest length of `levels` and gives both sequences of a
 * length; the next length follows when at least one of the two was typed back
 * right, and the part ends when both fail, or after the longest length. Digits are
 * shown one per second (digit_on_ms on screen, digit_off_ms blank); then the
 * candidate types them back, in the same order (forward) or in reverse (backward).
 * There is no time limit to answer. Events (shared SCIENCE.md, digits) go out
 * through `record(type, data, at)`, normally PymetricsEventClient.record:
 *
 *   sequence_shown {trial, direction, length, attempt}   at = paint of the first digit
 *   response       {trial, entered, rt_ms}                at = the Done key or click
 *   trial_end      {trial, direction, length, attempt, correct}
 *
 * rt_ms is the Done key or click time minus the timestamp of the frame that painted
 * the answer prompt (float ms, measured in the browser). Trials are numbered from
 * `first_trial`, so the backward part continues the forward part's numbering.
 *
 * Operation: on-screen keypad (0-9, Delete, Done; mouse or touch, buttons at least
 * 44 px) or the keyboard (digits 0-9 on the main row or the number pad, Backspace
 * deletes, Enter = Done). Accommodations: reduced_motion (also honoured from
 * prefers-reduced-motion: nothing moves or fades), colour_safe (blue/orange palette;
 * feedback also carries a symbol and words), extended_time (the "get ready" pause
 * before each sequence and the pause after each answer are doubled). The digits
 * keep their standard pace of one per second under extended time: presenting them
 * more slowly would give more time to rehearse and change what the span measures,
 * and answering is untimed for everyone anyway.
 *
 * practice: true plays `practice_sequences` with feedback after each and records
 * nothing. The trial's data: {direction, trials, correct, span, practice}.
 */
var jsPsychDigits = (function (jspsych) {
  'use strict';

  var version = '1.0.0';

  var info = {
    name: 'digits',
    version: version,
    parameters: {
      /** 'forward' (same order) or 'backward' (reverse order). */
      direction: { type: jspsych.ParameterType.STRING, default: 'forward' },
      /** [{length, sequences: [attempt 1, attempt 2]}] in increasing length (make_config). */
      levels: { type: jspsych.ParameterType.COMPLEX, array: true, default: [] },
      /** Practice only: the sequences to practise, in order, each with feedback. */
      practice_sequences: { type: jspsych.ParameterType.STRING, array: true, default: [] },
      /** Number of this part's first trial (the backward part follows on from forward). */
      first_trial: { type: jspsych.ParameterType.INT, default: 1 },
      /** How long each digit stays on screen (ms). */
      digit_on_ms: { type: jspsych.ParameterType.INT, default: 800 },
      /** Blank gap after each digit (ms); on + off = one digit per second. */
      digit_off_ms: { type: jspsych.ParameterType.INT, default: 200 },
      /** "Get ready" pause before a sequence (ms); doubled under extended_time. */
      lead_in_ms: { type: jspsych.ParameterType.INT, default: 1000 },
      /** Pause after an answer before the next trial (ms); doubled under extended_time. */
      pause_ms: { type: jspsych.ParameterType.INT, default: 700 },
      /** record(type, data, at): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** Practice: unrecorded, with feedback. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
    },
    data: {
      /** 'forward' or 'backward'. */
      direction: { type: jspsych.ParameterType.STRING },
      /** Sequences given in this part. */
      trials: { type: jspsych.ParameterType.INT },
      /** Sequences typed back right. */
      correct: { type: jspsych.ParameterType.INT },
      /** Longest length typed back right at least once (0 if none). */
      span: { type: jspsych.ParameterType.INT },
      /** Whether this was practice. */
      practice: { type: jspsych.ParameterType.BOOL },
    },
  };

  var Kit = window.PymetricsKit;
  var el = Kit.el;
  var DIGIT_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

  function spaced(digits) {
    return digits.split('').join(' ');
  }

  /** Every user-facing string goes through the kit's translation (named placeholders). */
  var t = Kit.t;

  function digitsText(count) {
    return count === 1 ? t('1 digit') : t('%(count)s digits', { count: count });
  }

  function roundMs(value) {
    return Math.round(value * 10) / 10;
  }

  function isEnter(event) {
    return event.key === 'Enter' || event.code === 'Enter' || event.code === 'NumpadEnter';
  }

  function isDelete(event) {
    return event.key === 'Backspace' || event.key === 'Delete';
  }

  function digitOf(event) {
    if (DIGIT_KEYS.indexOf(event.key) !== -1) {
      return event.key;
    }
    var match = /^(?:Digit|Numpad)([0-9])$/.exec(event.code || '');
    // Number-pad digits with Num Lock off arrive as arrows: their code still says which.
    return match && !event.shiftKey ? match[1] : null;
  }

  /** The trials of a part in order: the adaptive schedule, or the practice list. */
  function normaliseLevels(levels) {
    return (levels || []).map(function (level) {
      var sequences = (level.sequences || []).map(String);
      sequences.forEach(function (sequence) {
        if (!/^[0-9]+$/.test(sequence) || sequence.length !== level.length) {
          throw new Error('digits: a sequence of length ' + level.length + ' is malformed');
        }
      });
      return { length: level.length, sequences: sequences };
    });
  }

  class DigitsPlugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var settings = Kit.accommodations(trial.accommodation);
      var practice = !!trial.practice;
      var backward = trial.direction === 'backward';
      var direction = backward ? 'backward' : 'forward';
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;
      var levels = practice
        ? (trial.practice_sequences || []).map(function (sequence) {
          return { length: String(sequence).length, sequences: [String(sequence)] };
        })
        : normaliseLevels(trial.levels);
      var maxTrials = levels.reduce(function (sum, level) {
        return sum + level.sequences.length;
      }, 0);
      var leadInMs = Math.max(0, trial.lead_in_ms) * settings.timeFactor;
      var pauseMs = Math.max(0, trial.pause_ms) * settings.timeFactor;
      var onMs = Math.max(1, trial.digit_on_ms);
      var offMs = Math.max(0, trial.digit_off_ms);

      // --- state -------------------------------------------------------------
      var state = {
        level: 0,            // index into levels
        attempt: 0,          // 1-based attempt within the level
        given: 0,            // sequences given in this part
        correctCount: 0,
        span: 0,
        levelCorrect: false, // at least one right at the current length
        sequence: '',
        expected: '',
        entered: '',
        phase: 'start',      // lead-in, showing, answer, pause, feedback, done
        promptAt: 0,         // paint time of the answer prompt
        finished: false,
      };

      // --- DOM ---------------------------------------------------------------
      var root = el('div', {
        class: Kit.rootClass('digits', settings, (practice ? 'digits--practice ' : '') +
          'digits--' + direction),
        'data-testid': 'digits-game',
        'data-direction': direction,
        'data-practice': practice ? 'true' : 'false',
        'data-phase': 'start',
      });

      var counter = el('p', { class: 'digits-hud__counter', 'data-testid': 'digits-counter' });
      var detail = el('p', { class: 'digits-hud__detail', 'data-testid': 'digits-detail' });
      var bar = Kit.progress(backward ? t('Progress through part 2') : t('Progress through part 1'));
      var hud = el('div', { class: 'digits-hud' }, [
        el('p', {
          class: 'digits-hud__part',
          text: practice
            ? (backward ? t('Practice: reverse order') : t('Practice: same order'))
            : (backward ? t('Part 2 of 2 · reverse order') : t('Part 1 of 2 · same order')),
        }),
        counter,
        practice ? null : bar.node,
        detail,
      ]);

      var stimulus = el('div', {
        class: 'digits-stimulus', 'data-testid': 'digits-stimulus', 'aria-live': 'assertive',
        'aria-atomic': 'true',
      });
      var stage = el('div', { class: 'digits-stage' }, [stimulus]);

      var prompt = el('p', { class: 'digits-prompt', 'data-testid': 'digits-prompt' });
      var slots = el('div', {
        class: 'digits-slots', 'data-testid': 'digits-answer', role: 'group',
        'aria-label': t('Your answer'),
      });
      var status = el('p', {
        class: 'digits-status', 'data-testid': 'digits-status', role: 'status',
        'aria-live': 'polite',
      });

      var keyButtons = {};
      function keyButton(digit) {
        var button = el('button', {
          type: 'button', class: 'digits-key', 'data-testid': 'digits-key-' + digit,
          'aria-label': t('Digit %(digit)s', { digit: digit }), 'aria-keyshortcuts': digit,
        }, [digit]);
        button.addEventListener('click', function () {
          addDigit(digit);
        });
        keyButtons[digit] = button;
        return button;
      }
      var deleteButton = el('button', {
        type: 'button', class: 'digits-key digits-key--delete', 'data-testid': 'digits-delete',
        'aria-keyshortcuts': 'Backspace',
      }, [
        el('span', { class: 'digits-key__symbol', 'aria-hidden': 'true', text: '\u232B' }),
        el('span', { class: 'digits-key__label', text: t('Delete') }),
      ]);
      var doneButton = el('button', {
        type: 'button', class: 'digits-key digits-key--done', 'data-testid': 'digits-done',
        'aria-keyshortcuts': 'Enter',
      }, [
        el('span', { class: 'digits-key__symbol', 'aria-hidden': 'true', text: '\u2713' }),
        el('span', { class: 'digits-key__label', text: t('Done') }),
      ]);
      var keypad = el('div', {
        class: 'digits-keypad', role: 'group', 'aria-label': t('Keypad'),
      }, ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map(keyButton).concat([
        deleteButton, keyButton('0'), doneButton,
      ]));
      var continueButton = el('button', {
        type: 'button', class: 'digits-continue', 'data-testid': 'digits-continue',
        hidden: true,
      }, [t('Continue')]);
      var keysHint = el('p', { class: 'digits-keys' });
      // One translatable sentence; the keys are placed where the translation puts them.
      keysHint.innerHTML = t('Keyboard: type %(digits)s, %(backspace)s deletes, %(enter)s is ' +
        'Done.', {
        digits: '<kbd>0</kbd>\u2013<kbd>9</kbd>',
        backspace: '<kbd>' + Kit.escapeHtml(t('Backspace')) + '</kbd>',
        enter: '<kbd>' + Kit.escapeHtml(t('Enter')) + '</kbd>',
      });

      root.appendChild(hud);
      root.appendChild(stage);
      root.appendChild(prompt);
      root.appendChild(slots);
      root.appendChild(status);
      root.appendChild(keypad);
      root.appendChild(continueButton);
      root.appendChild(keysHint);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      var refocus = null; // keypad button to focus again when answering resumes

      // --- helpers -------------------------------------------------------------
      var emit = window.PymetricsKit.recorder(record, 'digits');

      function setPhase(phase) {
        state.phase = phase;
        root.setAttribute('data-phase', phase);
      }

      function trialNumber() {
        return trial.first_trial + state.given - 1;
      }

      function currentLength() {
        return levels[state.level].length;
      }

      function renderHud() {
        var length = currentLength();
        if (practice) {
          counter.textContent = t('Practice %(n)s of %(total)s', { n: state.given, total: maxTrials });
        } else {
          counter.textContent = t('Trial %(n)s of up to %(total)s',
            { n: state.given, total: maxTrials });
          bar.set(state.given - 1, maxTrials);
        }
        detail.textContent = practice
          ? digitsText(length)
          : t('%(digits)s · sequence %(n)s of %(total)s', {
            digits: digitsText(length), n: state.attempt,
            total: levels[state.level].sequences.length,
          });
        root.setAttribute('data-trial', practice ? 'practice-' + state.given : String(trialNumber()));
      }

      function renderSlots() {
        var length = currentLength();
        var answering = state.phase === 'answer';
        slots.innerHTML = '';
        for (var i = 0; i < length; i++) {
          var digit = state.entered.charAt(i);
          slots.appendChild(el('span', {
            class: 'digits-slot' + (digit ? ' digits-slot--filled' : '') +
              (answering && i === state.entered.length ? ' digits-slot--next' : ''),
            'aria-hidden': 'true',
          }, [digit || '']));
        }
        slots.setAttribute('aria-label', state.entered
          ? t('Your answer: %(digits)s', { digits: spaced(state.entered) })
          : t('Your answer: nothing typed yet'));
        slots.setAttribute('data-entered', state.entered);
        var full = state.entered.length >= length;
        DIGIT_KEYS.forEach(function (key) {
          keyButtons[key].disabled = !answering || full;
        });
        deleteButton.disabled = !answering || state.entered.length === 0;
        doneButton.disabled = !answering;
      }

      // --- one trial -------------------------------------------------------------
      function startTrial() {
        var level = levels[state.level];
        state.given += 1;
        state.sequence = level.sequences[state.attempt - 1];
        state.expected = backward ? state.sequence.split('').reverse().join('') : state.sequence;
        state.entered = '';
        setPhase('lead-in');
        renderHud();
        renderSlots();
        continueButton.hidden = true;
        keypad.hidden = false;
        keysHint.hidden = false;
        stimulus.textContent = '';
        stimulus.classList.add('digits-stimulus--cue');
        stimulus.setAttribute('data-cue', t('Get ready'));
        prompt.textContent = t('Watch the digits.');
        status.textContent = t('Get ready: %(digits)s coming.', { digits: digitsText(level.length) });
        jsPsych.pluginAPI.setTimeout(function () {
          showDigit(0);
        }, leadInMs);
      }

      function showDigit(index) {
        if (index === 0) {
          setPhase('showing');
          stimulus.classList.remove('digits-stimulus--cue');
          stimulus.removeAttribute('data-cue');
          status.textContent = '';
        }
        stimulus.textContent = state.sequence.charAt(index);
        stimulus.setAttribute('data-index', String(index + 1));
        if (index === 0) {
          var data = {
            trial: trialNumber(),
            direction: direction,
            length: state.sequence.length,
            attempt: state.attempt,
          };
          Kit.onPaint(function (timestamp) {
            emit('sequence_shown', data, timestamp);
          });
        }
        jsPsych.pluginAPI.setTimeout(function () {
          stimulus.textContent = '';
          stimulus.removeAttribute('data-index');
          jsPsych.pluginAPI.setTimeout(function () {
            if (index + 1 < state.sequence.length) {
              showDigit(index + 1);
            } else {
              startAnswer();
            }
          }, offMs);
        }, onMs);
      }

      function startAnswer() {
        setPhase('answer');
        stimulus.textContent = '';
        stimulus.classList.add('digits-stimulus--cue');
        stimulus.setAttribute('data-cue', backward ? t('Reverse order') : t('Same order'));
        var length = state.sequence.length;
        prompt.textContent = backward
          ? t('Type the %(count)s digits in reverse order, last one first.', { count: length })
          : t('Type the %(count)s digits in the same order.', { count: length });
        status.textContent = t('Your turn. Press Done when you have finished.');
        renderSlots();
        state.promptAt = Kit.now();
        Kit.onPaint(function (timestamp) {
          state.promptAt = timestamp;
        });
        if (refocus && !refocus.disabled &&
            (document.activeElement === null || document.activeElement === document.body)) {
          // The keypad was disabled while the digits showed, which drops focus: give it
          // back so keyboard and switch users stay where they were.
          refocus.focus({ preventScroll: true });
        }
        refocus = null;
      }

      function addDigit(digit) {
        if (state.phase !== 'answer') {
          return;
        }
        if (state.entered.length >= currentLength()) {
          status.textContent = t('That is all %(count)s digits. Press Done, or Delete to change one.',
            { count: currentLength() });
          return;
        }
        state.entered += digit;
        status.textContent = '';
        renderSlots();
        if (keyButtons[digit].disabled && document.activeElement === keyButtons[digit]) {
          doneButton.focus({ preventScroll: true });
        }
      }

      function deleteDigit() {
        if (state.phase !== 'answer' || !state.entered) {
          return;
        }
        state.entered = state.entered.slice(0, -1);
        status.textContent = '';
        renderSlots();
        if (deleteButton.disabled && document.activeElement === deleteButton) {
          keyButtons['0'].focus({ preventScroll: true });
        }
      }

      function done(event) {
        if (state.phase !== 'answer') {
          return;
        }
        var at = Kit.eventTime(event);
        var rt = roundMs(Math.max(0, at - state.promptAt));
        var correct = state.entered === state.expected;
        var focused = document.activeElement;
        refocus = focused && keypad.contains(focused) ? focused : null;
        setPhase(practice ? 'feedback' : 'pause');
        renderSlots();
        emit('response', { trial: trialNumber(), entered: state.entered, rt_ms: rt }, at);
        emit('trial_end', {
          trial: trialNumber(),
          direction: direction,
          length: state.sequence.length,
          attempt: state.attempt,
          correct: correct ? 1 : 0,
        });
        if (correct) {
          state.correctCount += 1;
          state.levelCorrect = true;
          state.span = Math.max(state.span, state.sequence.length);
        }
        if (practice) {
          showFeedback(correct);
          return;
        }
        status.textContent = t('Answer saved.');
        prompt.textContent = '';
        jsPsych.pluginAPI.setTimeout(next, pauseMs);
      }

      function showFeedback(correct) {
        var shown = spaced(state.sequence);
        var answer = spaced(state.expected);
        root.classList.toggle('digits--right', correct);
        root.classList.toggle('digits--miss', !correct);
        stimulus.classList.add('digits-stimulus--cue');
        stimulus.setAttribute('data-cue', correct
          ? '\u2713 ' + t('That is it') : '\u21BA ' + t('Not quite'));
        prompt.textContent = '';
        var outcome = { shown: shown, answer: answer, typed: spaced(state.entered) };
        if (correct) {
          status.textContent = backward
            ? t('That is it: the digits were %(shown)s, so the answer was %(answer)s.', outcome)
            : t('That is it: the digits were %(shown)s.', outcome);
        } else if (backward) {
          status.textContent = state.entered
            ? t('Not quite. The digits were %(shown)s, so in reverse order the answer was ' +
              '%(answer)s. You typed %(typed)s.', outcome)
            : t('Not quite. The digits were %(shown)s, so in reverse order the answer was ' +
              '%(answer)s. You typed nothing.', outcome);
        } else {
          status.textContent = state.entered
            ? t('Not quite. The digits were %(shown)s. You typed %(typed)s.', outcome)
            : t('Not quite. The digits were %(shown)s. You typed nothing.', outcome);
        }
        keypad.hidden = true;
        keysHint.hidden = true;
        continueButton.hidden = false;
        continueButton.focus({ preventScroll: true });
      }

      function next() {
        if (state.finished) {
          return;
        }
        root.classList.remove('digits--right', 'digits--miss');
        var level = levels[state.level];
        if (state.attempt < level.sequences.length) {
          state.attempt += 1;
          startTrial();
          return;
        }
        // Practice goes through its list; the real part moves up a length only after
        // at least one of the pair was right.
        if ((practice || state.levelCorrect) && state.level + 1 < levels.length) {
          state.level += 1;
          state.attempt = 1;
          state.levelCorrect = false;
          startTrial();
          return;
        }
        finish();
      }

      function finish() {
        if (state.finished) {
          return;
        }
        state.finished = true;
        setPhase('done');
        detachKeys();
        if (!practice) {
          bar.set(maxTrials, maxTrials);
        }
        display_element.innerHTML = '';
        jsPsych.finishTrial({
          direction: direction,
          trials: state.given,
          correct: state.correctCount,
          span: state.span,
          practice: practice,
        });
      }

      // --- input ---------------------------------------------------------------
      function onKey(event) {
        if (state.phase === 'feedback') {
          if (isEnter(event) || event.key === ' ') {
            next();
            return true;
          }
          return false;
        }
        if (isEnter(event)) {
          // Enter always means Done, whatever has focus: never also "click" a key.
          done(event);
          return true;
        }
        if (isDelete(event)) {
          deleteDigit();
          return true;
        }
        var digit = digitOf(event);
        if (digit !== null) {
          addDigit(digit);
          return true;
        }
        return false;
      }

      var detachKeys = Kit.listenKeys(root, onKey, {
        swallow: ['Enter', 'NumpadEnter', 'Backspace', 'Delete'].concat(DIGIT_KEYS),
      });

      deleteButton.addEventListener('click', deleteDigit);
      doneButton.addEventListener('click', done);
      continueButton.addEventListener('click', next);

      if (levels.length === 0 || maxTrials === 0) {
        finish();
        return;
      }
      state.level = 0;
      state.attempt = 1;
      startTrial();
    }

    /**
     * jsPsych simulation (data-only): simulation_options.span (default 5) is the
     * longest length the simulated player gets right; longer ones fail.
     */
    simulate(trial, simulation_mode, simulation_options, load_callback) {
      var options = simulation_options || {};
      var capacity = options.span === undefined ? 5 : options.span;
      load_callback();
      var backward = trial.direction === 'backward';
      var direction = backward ? 'backward' : 'forward';
      var practice = !!trial.practice;
      var record = typeof trial.record === 'function' && !practice ? trial.record : function () {};
      var levels = practice
        ? (trial.practice_sequences || []).map(function (s) {
          return { length: String(s).length, sequences: [String(s)] };
        })
        : normaliseLevels(trial.levels);
      var number = trial.first_trial === undefined ? 1 : trial.first_trial;
      var given = 0;
      var correctCount = 0;
      var span = 0;
      for (var i = 0; i < levels.length; i++) {
        var anyRight = false;
        for (var a = 0; a < levels[i].sequences.length; a++) {
          var sequence = levels[i].sequences[a];
          var expected = backward ? sequence.split('').reverse().join('') : sequence;
          var right = sequence.length <= capacity;
          var trialNo = number + given;
          given += 1;
          record('sequence_shown', {
            trial: trialNo, direction: direction, length: sequence.length, attempt: a + 1,
          });
          record('response', {
            trial: trialNo, entered: right ? expected : expected.slice(1), rt_ms: 1500,
          });
          record('trial_end', {
            trial: trialNo, direction: direction, length: sequence.length, attempt: a + 1,
            correct: right ? 1 : 0,
          });
          if (right) {
            anyRight = true;
            correctCount += 1;
            span = Math.max(span, sequence.length);
          }
        }
        if (!anyRight && !practice) {
          break;
        }
      }
      this.jsPsych.finishTrial({
        direction: direction, trials: given, correct: correctCount, span: span,
        practice: practice,
      });
    }
  }

  DigitsPlugin.info = info;

  // --- the game page's timeline --------------------------------------------------

  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  /** The standard schedule's longest forward run: the time estimate is for it. */
  var STANDARD_MAX_FORWARD = 12;

  /**
   * Instructions -> practice (same order) -> ready -> part 1 (recorded) -> reverse
   * instructions -> practice (reverse order) -> ready -> part 2 (recorded).
   * client.start() runs when part 1 begins, so t = 0 at its first trial; the time
   * spent on the part 2 instructions and practice is part of the session clock.
   */
  registry.digits = function buildDigitsTimeline(config, client) {
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var extended = !!accommodation.extended_time;
    var startLength = settings.start_length || 3;
    var maxForward = (settings.max_length || {}).forward || STANDARD_MAX_FORWARD;
    var practiceSequences = settings.practice || {};
    var forwardTrials = 0;

    function part(direction) {
      return {
        type: DigitsPlugin,
        direction: direction,
        levels: settings[direction] || [],
        digit_on_ms: settings.digit_on_ms || 800,
        digit_off_ms: settings.digit_off_ms || 200,
        accommodation: accommodation,
        first_trial: function () {
          return direction === 'backward' ? forwardTrials + 1 : 1;
        },
        record: function (type, data, at) {
          client.record(type, data, at);
        },
        on_start: function () {
          // t = 0 when the first recorded sequence is about to start; visibility and
          // focus are watched from here (start() does nothing the second time).
          client.start();
        },
        on_finish: function (data) {
          if (direction === 'forward') {
            forwardTrials = data.trials || 0;
          }
        },
      };
    }

    function practiceRun(direction) {
      return {
        type: DigitsPlugin,
        practice: true,
        direction: direction,
        practice_sequences: practiceSequences[direction] ? [practiceSequences[direction]] : [],
        digit_on_ms: settings.digit_on_ms || 800,
        digit_off_ms: settings.digit_off_ms || 200,
        accommodation: accommodation,
      };
    }

    var page = Kit.page;
    var introduction = Kit.instructions([
      page(t('Digits'), [
        '<p>' + t('In this game you will see short runs of digits, one digit at a time, and ' +
          'then type them back.') + '</p>',
        '<p>' + t('There are two parts. In the first you type the digits in the <strong>same ' +
          'order</strong>; in the second, in <strong>reverse order</strong>.') + '</p>',
        '<p>' + t('The runs start with %(count)s digits and grow by one digit at a time. Each ' +
          'part ends when the runs get too long to hold in mind, which happens to everyone at ' +
          'some point. There is nothing to win or lose: just do your best.',
        { count: startLength }) + '</p>',
        '<p>' + (maxForward >= STANDARD_MAX_FORWARD
          ? t('There is no time limit for typing your answers. Most people take about eight ' +
            'minutes.')
          : t('There is no time limit for typing your answers.')) + '</p>',
      ]),
      page(t('How it works'), [
        '<ul class="game-list">',
        '<li>' + t('After a short "Get ready", the digits appear one by one in the ' +
          'middle of the screen, one each second.') + '</li>',
        '<li>' + t('When the last digit has gone, it is your turn: type the digits, then press ' +
          '<strong>Done</strong>.') + '</li>',
        '<li>' + t('You can correct a digit before pressing Done.') + '</li>',
        '<li>' + t('Then the next run begins. There are two runs of each length.') + '</li>',
        extended ? '<li>' + t('You have extra time to get ready before each run.') + '</li>' : '',
        '</ul>',
      ]),
      page(t('Controls'), [
        '<p>' + t('Use the on-screen keypad with a mouse or your finger, or the keyboard:') +
          '</p>',
        '<dl class="game-keys">',
        '<div><dt><kbd>0</kbd> \u2013 <kbd>9</kbd></dt><dd>' + t('Type a digit') + '</dd></div>',
        '<div><dt><kbd>' + Kit.escapeHtml(t('Backspace')) + '</kbd></dt><dd>' +
          t('Delete the last digit') + '</dd></div>',
        '<div><dt><kbd>' + Kit.escapeHtml(t('Enter')) + '</kbd></dt><dd>' +
          t('Done: send your answer') + '</dd></div>',
        '</dl>',
        '<p>' + t('First you will try one short <strong>practice run</strong>. It does not ' +
          'count.') + '</p>',
      ]),
    ]);

    var reverseIntroduction = Kit.instructions([
      page(t('Part 2: reverse order'), [
        '<p>' + t('That is the end of part 1. In this part, type the digits in ' +
          '<strong>reverse order</strong>, starting with the last one you saw.') + '</p>',
        '<p>' + t('For example, if you see <strong>7 2 5</strong>, type <strong>5 2 7</strong>.') +
          '</p>',
        '<p>' + t('The runs start with %(count)s digits again. First, one short practice run ' +
          'that does not count.', { count: startLength }) + '</p>',
      ]),
    ]);

    return [
      introduction,
      practiceRun('forward'),
      Kit.ready(t('Ready?'), [
        '<p>' + t('Part 1 starts now: type the digits in the <strong>same order</strong>. From ' +
          'here on, your answers count.') + '</p>',
        '<p>' + t('Take your time to answer: there is no time limit.') + '</p>',
      ], t('Start part 1')),
      part('forward'),
      reverseIntroduction,
      practiceRun('backward'),
      Kit.ready(t('Ready?'), [
        '<p>' + t('Part 2 starts now: type the digits in <strong>reverse order</strong>, last ' +
          'one first.') + '</p>',
      ], t('Start part 2')),
      part('backward'),
    ];
  };

  return DigitsPlugin;
})(jsPsychModule);
