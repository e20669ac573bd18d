/**
 * jsPsychArrows: a flanker task with a rule switch (Eriksen & Eriksen 1974) as one
 * jsPsych 8 trial that runs every trial of the session, plus the game's timeline
 * builder (window.PymetricsGames.arrows).
 *
 * Each trial: a fixation cross (fixation_ms), then five arrows in a frame. The rule
 * is shown three ways at once, never by colour alone:
 *   Middle rows - dark arrows, a solid frame, the label "Middle" and a bar under the
 *                 middle arrow: answer the way the MIDDLE arrow points;
 *   Outer rows  - red arrows (orange in the colour-safe palette), a double frame, the
 *                 label "Outer" and bars under the four outer arrows: answer the way
 *                 the OUTER arrows point.
 * Only the first answer counts; no answer within deadline_ms is an omission. Then a
 * blank pause (iti_ms) and the next trial. Events (shared SCIENCE.md, arrows) go out
 * through `record(type, data, at)`, normally PymetricsEventClient.record:
 *
 *   trial_start {trial, congruent, rule, centre}              fixation shown
 *   stimulus    {trial}                     at = timestamp of the frame painting the arrows
 *   response    {trial, key, rt_ms}         at = the key/pointer event's timestamp
 *   trial_end   {trial, congruent, rule, centre, key|null, rt_ms|null, correct 0/1}
 *
 * rt_ms = response event time - onset frame time (float ms, measured here).
 *
 * Operation: F or Left arrow = left, J or Right arrow = right, or the two big
 * buttons (mouse, touch, or Tab + Enter). Key auto-repeat is ignored.
 * Accommodations (PymetricsKit.accommodations): extended_time doubles the answer
 * deadline (2 s -> 4 s) and the practice feedback time (fixation and pauses stay the
 * same, so the game does not drag); colour_safe swaps red for orange (the frame, the
 * label and the bars already tell the rules apart); reduced_motion (also from
 * prefers-reduced-motion) turns off every animation. The arrows themselves never
 * animate, so their onset is one painted frame.
 *
 * practice: true runs the given practice trials with feedback after each and records
 * nothing. The trial's data: {practice, trials, correct, omissions}.
 */
var jsPsychArrows = (function (jspsych) {
  'use strict';

  var version = '1.0.0';

  var info = {
    name: 'arrows',
    version: version,
    parameters: {
      /** The schedule: [{trial, congruent 0/1, rule 'centre'|'flankers', centre 'left'|'right'}]. */
      trials: { type: jspsych.ParameterType.COMPLEX, array: true, default: undefined },
      /** Fixation time before each trial's arrows (ms); 500 where missing. */
      fixation_ms: { type: jspsych.ParameterType.INT, array: true, default: [] },
      /** Time to answer after the arrows appear (ms); doubled under extended_time. */
      deadline_ms: { type: jspsych.ParameterType.INT, default: 2000 },
      /** Blank pause after each answer or omission (ms). */
      iti_ms: { type: jspsych.ParameterType.INT, default: 500 },
      /** How long practice feedback stays up (ms); doubled under extended_time. */
      feedback_ms: { type: jspsych.ParameterType.INT, default: 1600 },
      /** record(type, data, at): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** Practice: feedback after every trial, nothing recorded. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
    },
    data: {
      /** Whether this was the practice. */
      practice: { type: jspsych.ParameterType.BOOL },
      /** Number of trials played. */
      trials: { type: jspsych.ParameterType.INT },
      /** Number of correct answers. */
      correct: { type: jspsych.ParameterType.INT },
      /** Number of trials without an answer. */
      omissions: { type: jspsych.ParameterType.INT },
    },
  };

  var ARROW_PATH = 'M4 15.5H21V6L37 20L21 34V24.5H4Z';
  var DEFAULT_FIXATION_MS = 500;
  var MAX_RT_MS = 10000;

  function kit() {
    return window.PymetricsKit;
  }

  /** Every user-facing string goes through the kit's translation (named placeholders). */
  function t(text, params) {
    return kit().t(text, params);
  }

  /** The label shown above a row: which arrows the rule asks about. */
  function ruleLabel(rule) {
    return rule === 'centre' ? t('Middle') : t('Outer');
  }

  function ruleQuestion(rule) {
    return rule === 'centre'
      ? t('Which way does the middle arrow point?')
      : t('Which way do the outer arrows point?');
  }

  function directionWord(direction) {
    return direction === 'left' ? t('left') : t('right');
  }

  /** The direction the rule asks for: the centre arrow's, or the flankers'. */
  function correctAnswer(trial) {
    if (trial.rule === 'centre' || trial.congruent) {
      return trial.centre;
    }
    return trial.centre === 'right' ? 'left' : 'right';
  }

  /** The five directions shown, left to right. */
  function directions(trial) {
    var outer = trial.congruent ? trial.centre : (trial.centre === 'right' ? 'left' : 'right');
    return [outer, outer, trial.centre, outer, outer];
  }

  function arrowsText(trial) {
    return directions(trial).map(function (d) { return d === 'left' ? '<' : '>'; }).join('');
  }

  /** True when the arrow at `position` (0..4) is the one the rule asks about. */
  function isTarget(rule, position) {
    return rule === 'centre' ? position === 2 : position !== 2;
  }

  /** One arrow as SVG markup (for instruction pages, which take HTML strings). */
  function arrowMarkup(direction) {
    return '<svg class="arw-glyph arw-glyph--' + direction + '" viewBox="0 0 40 40" ' +
      'aria-hidden="true" focusable="false"><path d="' + ARROW_PATH + '"/></svg>';
  }

  function arrowNode(direction) {
    var Kit = kit();
    var svg = Kit.svg('svg', {
      class: 'arw-glyph arw-glyph--' + direction, viewBox: '0 0 40 40',
      'aria-hidden': 'true', focusable: 'false',
    });
    svg.appendChild(Kit.svg('path', { d: ARROW_PATH }));
    return svg;
  }

  /** A small static example row for the instructions. */
  function exampleMarkup(trial, caption) {
    var cells = directions(trial).map(function (direction, position) {
      return '<span class="arw-cell' + (isTarget(trial.rule, position) ? ' arw-cell--target' : '') +
        '">' + arrowMarkup(direction) + '</span>';
    }).join('');
    return '<figure class="arw-example arw-example--' + trial.rule + '">' +
      '<span class="arw-cue arw-cue--' + trial.rule + '">' + ruleLabel(trial.rule) + '</span>' +
      '<span class="arw-frame arw-frame--' + trial.rule + '"><span class="arw-row">' + cells +
      '</span></span><figcaption>' + caption + '</figcaption></figure>';
  }

  class ArrowsPlugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var Kit = kit();
      var settings = Kit.accommodations(trial.accommodation);
      var practice = !!trial.practice;
      var schedule = (trial.trials || []).slice();
      var fixations = trial.fixation_ms || [];
      var total = schedule.length;
      var deadlineMs = Math.max(1, trial.deadline_ms) * settings.timeFactor;
      var feedbackMs = Math.max(0, trial.feedback_ms) * settings.timeFactor;
      var itiMs = Math.max(0, trial.iti_ms);
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;

      schedule.forEach(function (item) {
        if (!item || (item.rule !== 'centre' && item.rule !== 'flankers') ||
            (item.centre !== 'left' && item.centre !== 'right')) {
          throw new Error('arrows: every trial needs a rule and a centre direction');
        }
      });

      // --- state -------------------------------------------------------------
      var state = {
        index: -1,           // 0-based position in the schedule
        onset: null,         // frame timestamp of the current arrows
        accepting: false,    // true only while the arrows wait for an answer
        deadlineTimer: null,
        correct: 0,
        omissions: 0,
        finished: false,
      };

      // --- DOM ---------------------------------------------------------------
      var el = Kit.el;
      var root = el('div', {
        class: Kit.rootClass('arw', settings, practice ? 'arw--practice' : ''),
        'data-testid': 'arrows-game',
      });
      var counter = el('p', { class: 'arw-counter', 'data-testid': 'arrows-counter' });
      var bar = Kit.progress(practice ? t('Practice progress') : t('Game progress'));
      var cue = el('p', { class: 'arw-cue', 'data-testid': 'arrows-rule' });
      var question = el('p', { class: 'arw-question', 'data-testid': 'arrows-question' });
      var fixation = el('span', { class: 'arw-fixation', 'aria-hidden': 'true', text: '+' });
      var row = el('span', {
        class: 'arw-row', 'data-testid': 'arrows-stimulus', role: 'img', 'data-state': 'blank',
      });
      var feedback = el('span', { class: 'arw-feedback', 'data-testid': 'arrows-feedback', hidden: true });
      var frame = el('div', { class: 'arw-frame arw-frame--neutral' }, [fixation, row, feedback]);
      var stage = el('div', { class: 'arw-stage' }, [cue, frame, question]);
      var status = el('p', {
        class: 'arw-status', 'data-testid': 'arrows-status', role: 'status', 'aria-live': 'polite',
      });

      function responseButton(side, label, keys) {
        return el('button', {
          type: 'button', class: 'arw-btn arw-btn--' + side, 'data-testid': 'arrows-' + side,
          'aria-keyshortcuts': keys.join(' '),
          'aria-label': t('%(label)s (%(key)s)', { label: label, key: keys[0] }),
        }, [
          arrowNode(side),
          el('span', { class: 'arw-btn__label', text: label }),
          keyNames(keys[0] === 'F' ? 'F' : 'J', keys[0] === 'F' ? '\u2190' : '\u2192'),
        ]);
      }
      function keyNames(letter, arrowKey) {
        var names = el('span', { class: 'arw-btn__keys' });
        names.innerHTML = t('%(letter)s or %(arrow)s', {
          letter: '<kbd>' + letter + '</kbd>', arrow: '<kbd>' + arrowKey + '</kbd>',
        });
        return names;
      }
      var leftButton = responseButton('left', t('Left'), ['F', 'ArrowLeft']);
      var rightButton = responseButton('right', t('Right'), ['J', 'ArrowRight']);
      var actions = el('div', { class: 'arw-actions' }, [leftButton, rightButton]);
      var keysHint = el('p', { class: 'arw-keys' });
      // One translatable sentence; the keys are placed where the translation puts them.
      keysHint.innerHTML = t('Keyboard: %(f)s or %(left)s for left, %(j)s or %(right)s for ' +
        'right. You have %(seconds)s seconds for each row.', {
        f: '<kbd>F</kbd>', left: '<kbd>\u2190</kbd>', j: '<kbd>J</kbd>', right: '<kbd>\u2192</kbd>',
        seconds: deadlineMs / 1000,
      });

      root.appendChild(el('div', { class: 'arw-hud' }, [counter, bar.node]));
      root.appendChild(stage);
      root.appendChild(status);
      root.appendChild(actions);
      root.appendChild(keysHint);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      // --- helpers -------------------------------------------------------------
      var emit = window.PymetricsKit.recorder(record, 'arrows');

      function later(callback, ms) {
        return jsPsych.pluginAPI.setTimeout(function () {
          if (!state.finished && root.isConnected) {
            callback();
          }
        }, ms);
      }

      function setButtonsActive(active) {
        // aria-disabled rather than disabled: a disabled button loses keyboard focus,
        // and keyboard or switch users would have to find it again on every trial.
        [leftButton, rightButton].forEach(function (button) {
          button.setAttribute('aria-disabled', active ? 'false' : 'true');
        });
      }

      function current() {
        return schedule[state.index];
      }

      function setFrame(kind) {
        frame.className = 'arw-frame arw-frame--' + kind;
      }

      function showBlank() {
        setFrame('neutral');
        fixation.hidden = true;
        row.hidden = true;
        row.setAttribute('data-state', 'blank');
        feedback.hidden = true;
        cue.textContent = '';
        cue.className = 'arw-cue';
        question.textContent = '';
      }

      // --- trial flow ----------------------------------------------------------
      function startTrial() {
        state.index += 1;
        if (state.index >= total) {
          finish();
          return;
        }
        var item = current();
        counter.textContent = practice
          ? t('Practice %(n)s of %(total)s', { n: state.index + 1, total: total })
          : t('Trial %(n)s of %(total)s', { n: state.index + 1, total: total });
        bar.set(state.index, total);
        showBlank();
        fixation.hidden = false;
        row.setAttribute('data-state', 'fixation');
        row.setAttribute('data-trial', String(item.trial));
        status.textContent = '';
        emit('trial_start', {
          trial: item.trial, congruent: !!item.congruent, rule: item.rule, centre: item.centre,
        });
        var wait = fixations[state.index];
        later(showArrows, typeof wait === 'number' && wait >= 0 ? wait : DEFAULT_FIXATION_MS);
      }

      function showArrows() {
        var item = current();
        var shown = directions(item);
        row.innerHTML = '';
        shown.forEach(function (direction, position) {
          row.appendChild(el('span', {
            class: 'arw-cell' + (isTarget(item.rule, position) ? ' arw-cell--target' : ''),
          }, [arrowNode(direction)]));
        });
        row.setAttribute('data-rule', item.rule);
        row.setAttribute('data-arrows', arrowsText(item));
        row.setAttribute('aria-label', t('%(rule)s row: arrows pointing %(arrows)s.', {
          rule: ruleLabel(item.rule), arrows: shown.map(directionWord).join(', '),
        }));
        setFrame(item.rule);
        cue.textContent = ruleLabel(item.rule);
        cue.className = 'arw-cue arw-cue--' + item.rule;
        question.textContent = ruleQuestion(item.rule);
        fixation.hidden = true;
        row.hidden = false;
        Kit.onPaint(function (timestamp) {
          if (state.finished || !root.isConnected || current() !== item) {
            return;
          }
          state.onset = timestamp;
          state.accepting = true;
          row.setAttribute('data-state', 'stimulus');
          setButtonsActive(true);
          emit('stimulus', { trial: item.trial }, timestamp);
          state.deadlineTimer = later(onDeadline, deadlineMs);
        });
      }

      function respond(side, event) {
        if (!state.accepting) {
          return;
        }
        var at = Kit.eventTime(event);
        var rt = Math.max(0, at - state.onset);
        if (rt > deadlineMs) {
          // The deadline passed before this input was handled (a busy device): it is
          // an omission, exactly as if the timer had fired first.
          onDeadline();
          return;
        }
        state.accepting = false;
        window.clearTimeout(state.deadlineTimer);
        var item = current();
        var rtMs = Math.min(MAX_RT_MS, Math.round(rt * 100) / 100);
        emit('response', { trial: item.trial, key: side, rt_ms: rtMs }, at);
        endTrial(side, rtMs);
      }

      function onDeadline() {
        if (!state.accepting) {
          return;
        }
        state.accepting = false;
        window.clearTimeout(state.deadlineTimer);
        endTrial(null, null);
      }

      function endTrial(key, rtMs) {
        var item = current();
        var answer = correctAnswer(item);
        var correct = key !== null && key === answer ? 1 : 0;
        state.correct += correct;
        state.omissions += key === null ? 1 : 0;
        setButtonsActive(false);
        emit('trial_end', {
          trial: item.trial, congruent: !!item.congruent, rule: item.rule, centre: item.centre,
          key: key, rt_ms: rtMs, correct: correct,
        });
        showBlank();
        if (practice) {
          showFeedback(item, key, answer, correct);
          later(startTrial, feedbackMs);
          return;
        }
        if (key === null) {
          status.textContent = t('Time\u2019s up for that one. The next row is coming.');
        }
        later(startTrial, itiMs);
      }

      function showFeedback(item, key, answer, correct) {
        var text;
        var kind;
        if (key === null) {
          kind = 'late';
          text = t('Time\u2019s up. Try to answer a little sooner.');
        } else if (correct) {
          kind = 'correct';
          text = '\u2714 ' + t('Correct: %(answer)s.', { answer: directionWord(answer) });
        } else {
          kind = 'wrong';
          text = '\u2716 ' + (item.rule === 'centre'
            ? t('Not this time. In a Middle row, follow the middle arrow: %(answer)s.',
              { answer: directionWord(answer) })
            : t('Not this time. In an Outer row, follow the outer arrows: %(answer)s.',
              { answer: directionWord(answer) }));
        }
        feedback.className = 'arw-feedback arw-feedback--' + kind;
        feedback.textContent = text;
        feedback.hidden = false;
        status.textContent = text;
      }

      function finish() {
        if (state.finished) {
          return;
        }
        state.finished = true;
        state.accepting = false;
        window.clearTimeout(state.deadlineTimer);
        bar.set(total, total);
        detachKeys();
        display_element.innerHTML = '';
        jsPsych.finishTrial({
          practice: practice, trials: total, correct: state.correct, omissions: state.omissions,
        });
      }

      // --- input ---------------------------------------------------------------
      function sideOfKey(event) {
        var key = event.key;
        if (key === 'ArrowLeft' || key === 'f' || key === 'F' || event.code === 'KeyF') {
          return 'left';
        }
        if (key === 'ArrowRight' || key === 'j' || key === 'J' || event.code === 'KeyJ') {
          return 'right';
        }
        return null;
      }

      var detachKeys = Kit.listenKeys(root, function (event) {
        var side = sideOfKey(event);
        if (side === null) {
          return false;
        }
        respond(side, event);
        return true;
      }, { swallow: ['ArrowLeft', 'ArrowRight', 'f', 'F', 'j', 'J'] });

      [[leftButton, 'left'], [rightButton, 'right']].forEach(function (pair) {
        var button = pair[0];
        var side = pair[1];
        // pointerdown is the moment of the press (a click comes only on release);
        // a click with detail 0 is a keyboard activation (Tab to the button + Enter).
        button.addEventListener('pointerdown', function (event) {
          if (event.isPrimary !== false && (event.button === 0 || event.button === undefined)) {
            respond(side, event);
          }
        });
        button.addEventListener('click', function (event) {
          if (event.detail === 0) {
            respond(side, event);
          }
        });
      });

      setButtonsActive(false);
      if (total === 0) {
        finish();
        return;
      }
      startTrial();
    }
  }

  ArrowsPlugin.info = info;

  // --- timeline ----------------------------------------------------------------

  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  /** The standard schedule's length: the time estimate in the instructions is for it. */
  var STANDARD_TRIALS = 96;

  registry.arrows = function buildArrowsTimeline(config, client) {
    var Kit = kit();
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var access = Kit.accommodations(accommodation);
    var trials = settings.trials || [];
    var total = trials.length;
    var deadline = settings.deadline_ms || 2000;
    var seconds = (deadline * access.timeFactor) / 1000;
    var practiceTrials = settings.practice || [
      { trial: 1, congruent: 1, rule: 'centre', centre: 'right' },
      { trial: 2, congruent: 0, rule: 'centre', centre: 'left' },
      { trial: 3, congruent: 0, rule: 'flankers', centre: 'left' },
      { trial: 4, congruent: 1, rule: 'flankers', centre: 'right' },
    ];
    var page = Kit.page;

    function keyRow(letter, arrowKey, meaning) {
      return '<div><dt>' + t('%(letter)s or %(arrow)s', {
        letter: '<kbd>' + letter + '</kbd>', arrow: '<kbd>' + arrowKey + '</kbd>',
      }) + '</dt><dd>' + meaning + '</dd></div>';
    }

    var instructions = Kit.instructions([
      page(t('Arrows'), [
        '<p>' + t('In this game you see a row of five arrows, like this one, and say which way ' +
          'they point.') + '</p>',
        exampleMarkup({ congruent: 1, rule: 'centre', centre: 'right' },
          t('All five point right.')),
        '<p>' + t('There are %(count)s rows. Answer as quickly and as accurately as you ' +
          'comfortably can. Everybody makes some mistakes here; just carry on with the next ' +
          'row.', { count: total }) + '</p>',
        total >= STANDARD_TRIALS ? '<p>' + t('It takes about five minutes.') + '</p>' : '',
      ]),
      page(t('Middle or outer?'), [
        '<p>' + t('Sometimes the arrows do not all point the same way. How the row is shown ' +
          'tells you which arrows to follow:') + '</p>',
        '<div class="arw-examples">',
        exampleMarkup({ congruent: 0, rule: 'centre', centre: 'right' },
          t('<strong>Middle</strong>: dark arrows in a single frame. Follow the ' +
          '<strong>middle</strong> arrow. Here: <strong>right</strong>.')),
        exampleMarkup({ congruent: 0, rule: 'flankers', centre: 'right' }, access.colourSafe
          ? t('<strong>Outer</strong>: orange arrows in a double frame. Follow the ' +
            '<strong>outer</strong> arrows. Here: <strong>left</strong>.')
          : t('<strong>Outer</strong>: red arrows in a double frame. Follow the ' +
            '<strong>outer</strong> arrows. Here: <strong>left</strong>.')),
        '</div>',
        '<p>' + t('The label above the row and the marks under the arrows also show which ones ' +
          'count.') + '</p>',
      ]),
      page(t('Controls'), [
        '<p>' + t('Use the keyboard, or the two big buttons with a mouse or your finger:') +
          '</p>',
        '<dl class="game-keys">',
        keyRow('F', '\u2190', t('Left')),
        keyRow('J', '\u2192', t('Right')),
        '</dl>',
        '<p>' + t('You have %(seconds)s seconds for each row. Only your first answer counts.',
          { seconds: seconds }) + '</p>',
        '<p>' + t('First there are %(count)s <strong>practice rows</strong> that tell you how ' +
          'you did. They do not count.', { count: practiceTrials.length }) + '</p>',
      ]),
    ]);

    var common = {
      type: ArrowsPlugin,
      deadline_ms: deadline,
      iti_ms: settings.iti_ms === undefined ? 500 : settings.iti_ms,
      accommodation: accommodation,
    };

    var practice = Object.assign({}, common, {
      practice: true,
      trials: practiceTrials,
      fixation_ms: [],
    });

    var ready = Kit.ready(t('Ready?'), [
      '<p>' + t('That was the practice. The real game starts now: %(count)s rows, with no ' +
        'feedback along the way.', { count: total }) + '</p>',
      '<p>' + t('Remember: <strong>Middle</strong> rows, follow the middle arrow; ' +
        '<strong>Outer</strong> rows, follow the outer arrows. %(f)s or %(left)s is left, %(j)s ' +
        'or %(right)s is right.', {
        f: '<kbd>F</kbd>', left: '<kbd>\u2190</kbd>', j: '<kbd>J</kbd>', right: '<kbd>\u2192</kbd>',
      }) + '</p>',
    ], t('Start the game'));

    var main = Object.assign({}, common, {
      practice: false,
      trials: trials,
      fixation_ms: settings.fixation_ms || [],
      record: function (type, data, at) {
        client.record(type, data, at);
      },
      on_start: function () {
        // t = 0 at the first real trial; visibility and focus are watched from here.
        client.start();
      },
    });

    return [instructions, practice, ready, main];
  };

  return ArrowsPlugin;
})(jsPsychModule);
