/**
 * jsPsychEasyOrHard: the Effort Expenditure for Rewards Task (Treadway et al. 2009)
 * as one jsPsych 8 trial that runs every trial of the session, plus the game's
 * timeline builder (instructions, practice, ready screen, recorded game).
 *
 * Each trial offers an EASY task (easy_presses presses in easy_time_ms for
 * easy_reward) or a HARD one (hard_presses in hard_time_ms for the trial's reward),
 * either of which pays out with the trial's probability once completed. The
 * candidate chooses within choice_time_ms (otherwise the schedule's fallback task
 * is assigned, as the original assigns one at random), presses until the task is
 * done or time runs out, and sees whether the win came up (the schedule's win draw
 * below the probability). Events (shared SCIENCE.md, easy_or_hard) go out through
 * `record(type, data, at)`, normally PymetricsEventClient.record:
 *
 *   offer     {trial, probability, reward}             on the frame that paints it
 *   choice    {trial, choice, rt_ms, timed_out}        at the key/click (or the timeout)
 *   press     {trial, presses}                         once per counted press
 *   trial_end {trial, probability, reward, choice, completed, won}
 *
 * rt_ms is the choice's time minus the offer's onset frame, measured in the browser.
 *
 * Operation: big buttons (mouse, touch) or keys: E or Left arrow = easy, H or Right
 * arrow = hard, Space = press (a press counts only after the key was let go, so
 * holding the key down or auto-repeat does nothing), Enter = continue after practice.
 * Accommodations: extended_time removes the choice limit and doubles the time to
 * press and every pause; colour_safe uses a blue/orange palette (the options also
 * differ in label, icon and position; the chance of winning is a pie and a number);
 * reduced_motion (also from prefers-reduced-motion) turns animations off.
 *
 * practice: true plays the given trials with extra guidance and records nothing.
 */
var jsPsychEasyOrHard = (function (jspsych) {
  'use strict';

  var version = '1.0.0';
  var Kit = window.PymetricsKit;

  var info = {
    name: 'easy-or-hard',
    version: version,
    parameters: {
      /** The schedule: [{trial, probability, reward, win_draw, fallback}], in order. */
      trials: { type: jspsych.ParameterType.COMPLEX, array: true, default: undefined },
      /** Reward of the easy task, in dollars. */
      easy_reward: { type: jspsych.ParameterType.FLOAT, default: 1 },
      /** Presses needed for the easy and the hard task. */
      easy_presses: { type: jspsych.ParameterType.INT, default: 30 },
      hard_presses: { type: jspsych.ParameterType.INT, default: 100 },
      /** Time allowed to press, in ms (doubled under extended_time). */
      easy_time_ms: { type: jspsych.ParameterType.INT, default: 7000 },
      hard_time_ms: { type: jspsych.ParameterType.INT, default: 21000 },
      /** Time allowed to choose, in ms (no limit under extended_time). */
      choice_time_ms: { type: jspsych.ParameterType.INT, default: 5000 },
      /** "Get ready" pause between the choice and the pressing (doubled under extended_time). */
      ready_ms: { type: jspsych.ParameterType.INT, default: 1000 },
      /** How long the result stays on screen (doubled under extended_time). */
      feedback_ms: { type: jspsych.ParameterType.INT, default: 2000 },
      /** record(type, data, at): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** Unrecorded practice with extra guidance and a Continue button at the end. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
    },
    data: {
      /** Money won over the whole run, in dollars. */
      total_won: { type: jspsych.ParameterType.FLOAT },
      /** The task taken on each trial ('easy' or 'hard'). */
      choices: { type: jspsych.ParameterType.STRING, array: true },
      /** 1 where the task was completed in time, else 0. */
      completed: { type: jspsych.ParameterType.INT, array: true },
      /** Whether this was the practice. */
      practice: { type: jspsych.ParameterType.BOOL },
    },
  };

  var el = Kit.el;
  var svg = Kit.svg;
  /** Every user-facing string goes through the kit's translation (named placeholders). */
  var t = Kit.t;

  /** The game's keys as <kbd> markup, for translated sentences that name them. */
  function keyMarkup() {
    return {
      e: '<kbd>E</kbd>',
      h: '<kbd>H</kbd>',
      left: '<kbd aria-label="' + Kit.escapeHtml(t('Left arrow')) + '">\u2190</kbd>',
      right: '<kbd aria-label="' + Kit.escapeHtml(t('Right arrow')) + '">\u2192</kbd>',
      space: '<kbd>' + Kit.escapeHtml(t('Space')) + '</kbd>',
    };
  }

  function formatDollars(dollars) {
    return '$' + Number(dollars).toFixed(2);
  }

  function percent(probability) {
    return Math.round(probability * 100) + '%';
  }

  function seconds(ms) {
    var s = ms / 1000;
    // A no-break space keeps "14 s" together on narrow screens.
    return (Math.round(s) === s ? String(s) : s.toFixed(1)) + '\u00a0s';
  }

  /** A pie showing the chance of winning: the filled share is the probability. */
  function chancePie(probability) {
    var root = svg('svg', {
      viewBox: '0 0 64 64', class: 'eoh-pie', 'aria-hidden': 'true', focusable: 'false',
    });
    root.appendChild(svg('circle', { cx: '32', cy: '32', r: '28', class: 'eoh-pie__empty' }));
    var angle = 2 * Math.PI * probability;
    var x = 32 + 28 * Math.sin(angle);
    var y = 32 - 28 * Math.cos(angle);
    root.appendChild(svg('path', {
      class: 'eoh-pie__won',
      d: 'M32 32 L32 4 A28 28 0 ' + (probability > 0.5 ? 1 : 0) + ' 1 ' +
        x.toFixed(2) + ' ' + y.toFixed(2) + ' Z',
    }));
    root.appendChild(svg('circle', { cx: '32', cy: '32', r: '28', class: 'eoh-pie__rim' }));
    return root;
  }

  /** Task icon: a few short bars (easy) or many tall bars (hard), so shape tells them apart. */
  function taskIcon(kind) {
    var root = svg('svg', {
      viewBox: '0 0 48 32', class: 'eoh-icon eoh-icon--' + kind, 'aria-hidden': 'true',
      focusable: 'false',
    });
    var bars = kind === 'hard' ? [10, 16, 22, 28, 32] : [10, 14];
    bars.forEach(function (height, index) {
      root.appendChild(svg('rect', {
        x: String(2 + index * 9), y: String(32 - height), width: '6', height: String(height),
        rx: '1.5',
      }));
    });
    return root;
  }

  class EasyOrHardPlugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var settings = Kit.accommodations(trial.accommodation);
      var practice = !!trial.practice;
      var schedule = (trial.trials || []).slice();
      var count = schedule.length;
      var timeFactor = settings.timeFactor;
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;
      var tasks = {
        easy: { presses: trial.easy_presses, timeMs: trial.easy_time_ms * timeFactor },
        hard: { presses: trial.hard_presses, timeMs: trial.hard_time_ms * timeFactor },
      };
      // Extended time: no limit on choosing (documented in the instructions).
      var choiceLimit = settings.extendedTime ? null : trial.choice_time_ms;

      schedule.forEach(function (item) {
        if (!(item.probability > 0 && item.probability < 1) || !(item.reward > 0) ||
          (item.fallback !== 'easy' && item.fallback !== 'hard')) {
          throw new Error('easy_or_hard: invalid trial in the schedule: ' + JSON.stringify(item));
        }
      });

      // --- state -----------------------------------------------------------------
      var state = {
        index: -1,          // 0-based position in the schedule
        phase: 'idle',      // offer, ready, press, feedback, idle
        accepting: false,   // input allowed in the current phase
        onset: 0,           // paint time of the offer or of the press screen
        choice: null,
        presses: 0,
        spaceArmed: true,   // Space must be let go before it counts again
        totalWon: 0,
        choices: [],
        completed: [],
        timers: [],
        finished: false,
      };

      // --- DOM -------------------------------------------------------------------
      var root = el('div', {
        class: Kit.rootClass('eoh', settings, practice ? 'eoh--practice' : ''),
        'data-testid': 'eoh-game',
        'data-phase': 'idle',
        'data-trial': '0',
      });

      var counter = el('p', { class: 'eoh-hud__counter', 'data-testid': 'eoh-counter' });
      var bar = Kit.progress(practice ? t('Practice') : t('Trials done'));
      var totalValue = el('span', { class: 'eoh-hud__total-value', 'data-testid': 'eoh-total' });
      var hud = el('div', { class: 'eoh-hud' }, [
        el('div', { class: 'eoh-hud__progress' }, [counter, bar.node]),
        el('p', { class: 'eoh-hud__total' }, [
          el('span', {
            class: 'eoh-hud__total-label', text: practice ? t('Practice winnings') : t('Won so far'),
          }),
          totalValue,
        ]),
      ]);

      // Offer: chance of winning, then the two options.
      var pieSlot = el('span', { class: 'eoh-chance__pie' });
      var chanceText = el('span', { class: 'eoh-chance__text', 'data-testid': 'eoh-probability' });
      var chance = el('p', { class: 'eoh-chance' }, [pieSlot, chanceText]);

      function optionButton(kind, title, keys) {
        var keyNames = el('span', { class: 'eoh-option__keys' });
        keyNames.innerHTML = t('%(letter)s or %(arrow)s', {
          letter: '<kbd>' + (keys[0] === 'E' ? 'E' : 'H') + '</kbd>',
          arrow: '<kbd>' + (keys[0] === 'E' ? '\u2190' : '\u2192') + '</kbd>',
        });
        var amount = el('span', { class: 'eoh-option__amount', 'data-testid': 'eoh-' + kind + '-reward' });
        var detail = el('span', { class: 'eoh-option__detail' });
        var button = el('button', {
          type: 'button', class: 'eoh-option eoh-option--' + kind,
          'data-testid': 'eoh-choose-' + kind, 'aria-keyshortcuts': keys.join(' '), disabled: true,
        }, [
          el('span', { class: 'eoh-option__head' }, [taskIcon(kind), el('span', { class: 'eoh-option__title', text: title })]),
          detail,
          amount,
          keyNames,
        ]);
        return { button: button, amount: amount, detail: detail };
      }
      var easyOption = optionButton('easy', t('Easy'), ['E', 'ArrowLeft']);
      var hardOption = optionButton('hard', t('Hard'), ['H', 'ArrowRight']);
      var choiceTimer = el('p', { class: 'eoh-choice-timer', 'data-testid': 'eoh-choice-timer' });
      var offer = el('section', { class: 'eoh-offer', 'data-testid': 'eoh-offer', 'aria-label': t('Choose a task') }, [
        chance,
        el('div', { class: 'eoh-options' }, [easyOption.button, hardOption.button]),
        choiceTimer,
      ]);

      // Task: a filling bar of presses, the time left, and the big press button.
      var taskTitle = el('p', { class: 'eoh-task__title', 'data-testid': 'eoh-task-title' });
      var meterFill = el('span', { class: 'eoh-meter__fill' });
      var meter = el('span', {
        class: 'eoh-meter', role: 'progressbar', 'aria-label': t('Presses done'),
        'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0',
      }, [meterFill]);
      var pressCount = el('p', { class: 'eoh-task__count', 'data-testid': 'eoh-count' });
      var clockFill = el('span', { class: 'eoh-clock__fill' });
      var clockBar = el('span', { class: 'eoh-clock', 'aria-hidden': 'true' }, [clockFill]);
      var timeLeft = el('p', { class: 'eoh-task__time', 'data-testid': 'eoh-time-left' });
      var pressButton = el('button', {
        type: 'button', class: 'eoh-press', 'data-testid': 'eoh-press', 'aria-keyshortcuts': 'Space',
        disabled: true,
      }, [
        el('span', { class: 'eoh-press__label', text: t('Press') }),
        el('kbd', { class: 'eoh-press__key', text: t('Space') }),
      ]);
      var task = el('section', {
        class: 'eoh-task', 'data-testid': 'eoh-task', 'aria-label': t('Task'), hidden: true,
      }, [
        taskTitle, meter, pressCount, clockBar, timeLeft, pressButton,
      ]);

      // Feedback after each trial.
      var feedbackTitle = el('p', { class: 'eoh-feedback__title', 'data-testid': 'eoh-feedback-title' });
      var feedbackWin = el('p', { class: 'eoh-feedback__win', 'data-testid': 'eoh-feedback-win' });
      var continueButton = el('button', {
        type: 'button', class: 'eoh-continue', 'data-testid': 'eoh-continue', hidden: true,
      }, [el('span', { text: t('Continue') }), el('kbd', { class: 'eoh-press__key', text: t('Enter') })]);
      var feedback = el('section', { class: 'eoh-feedback', 'data-testid': 'eoh-feedback', hidden: true }, [
        feedbackTitle, feedbackWin, continueButton,
      ]);

      var status = el('p', {
        class: 'eoh-status', 'data-testid': 'eoh-status', role: 'status', 'aria-live': 'polite',
      });
      var keysHint = el('p', { class: 'eoh-keys' });
      // One translatable sentence; the keys are placed where the translation puts them.
      keysHint.innerHTML = t('Keyboard: %(e)s or %(left)s easy, %(h)s or %(right)s hard, %(space)s ' +
        'to press.', keyMarkup());

      root.appendChild(hud);
      root.appendChild(offer);
      root.appendChild(task);
      root.appendChild(feedback);
      root.appendChild(status);
      root.appendChild(keysHint);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      // --- helpers ---------------------------------------------------------------
      var emit = window.PymetricsKit.recorder(record, 'easy_or_hard');

      function later(callback, ms) {
        state.timers.push(jsPsych.pluginAPI.setTimeout(callback, ms));
      }

      function clearTimers() {
        state.timers.forEach(function (handle) { clearTimeout(handle); });
        state.timers = [];
      }

      function setPhase(phase) {
        state.phase = phase;
        root.setAttribute('data-phase', phase);
      }

      function setStatus(text) {
        status.textContent = text;
      }

      function current() {
        return schedule[state.index];
      }

      function renderHud() {
        counter.textContent = practice
          ? t('Practice round')
          : t('Trial %(n)s of %(total)s', { n: state.index + 1, total: count });
        bar.set(state.index, count);
        totalValue.textContent = formatDollars(state.totalWon);
      }

      function show(section) {
        offer.hidden = section !== offer;
        task.hidden = section !== task;
        feedback.hidden = section !== feedback;
      }

      // --- offer -----------------------------------------------------------------
      function startTrial() {
        clearTimers();
        state.index += 1;
        state.choice = null;
        state.presses = 0;
        state.accepting = false;
        var item = current();
        root.setAttribute('data-trial', String(state.index + 1));
        setPhase('offer-pending');
        renderHud();
        pieSlot.innerHTML = '';
        pieSlot.appendChild(chancePie(item.probability));
        chanceText.textContent = t('%(percent)s chance to win', { percent: percent(item.probability) });
        easyOption.detail.textContent = t('%(presses)s presses in %(time)s',
          { presses: tasks.easy.presses, time: seconds(tasks.easy.timeMs) });
        hardOption.detail.textContent = t('%(presses)s presses in %(time)s',
          { presses: tasks.hard.presses, time: seconds(tasks.hard.timeMs) });
        easyOption.amount.textContent = formatDollars(trial.easy_reward);
        hardOption.amount.textContent = formatDollars(item.reward);
        easyOption.button.setAttribute('aria-label', t('Easy: %(presses)s presses in %(seconds)s ' +
          'seconds, can win %(amount)s', {
          presses: tasks.easy.presses, seconds: tasks.easy.timeMs / 1000,
          amount: formatDollars(trial.easy_reward),
        }));
        hardOption.button.setAttribute('aria-label', t('Hard: %(presses)s presses in %(seconds)s ' +
          'seconds, can win %(amount)s', {
          presses: tasks.hard.presses, seconds: tasks.hard.timeMs / 1000,
          amount: formatDollars(item.reward),
        }));
        choiceTimer.textContent = choiceLimit === null
          ? t('Take your time to choose.')
          : t('Choose within %(time)s.', { time: seconds(choiceLimit) });
        root.classList.remove('eoh--choice-late');
        show(offer);
        restartAnimation(offer, 'eoh-enter');
        var offerText = {
          n: state.index + 1, total: count, percent: percent(item.probability),
          easy: formatDollars(trial.easy_reward), hard: formatDollars(item.reward),
        };
        setStatus(practice
          ? t('Practice. %(percent)s chance to win. Easy pays %(easy)s, hard pays %(hard)s.',
            offerText)
          : t('Trial %(n)s of %(total)s. %(percent)s chance to win. Easy pays %(easy)s, hard ' +
            'pays %(hard)s.', offerText));
        Kit.onPaint(function (ts) {
          if (state.finished || state.phase !== 'offer-pending') {
            return;
          }
          state.onset = ts;
          state.accepting = true;
          easyOption.button.disabled = false;
          hardOption.button.disabled = false;
          setPhase('offer');
          emit('offer', { trial: item.trial, probability: item.probability, reward: item.reward }, ts);
          if (choiceLimit !== null) {
            tickChoice();
            later(function () {
              if (state.phase === 'offer' && state.accepting) {
                choose(item.fallback, null, true);
              }
            }, choiceLimit);
          }
        });
      }

      function tickChoice() {
        if (state.phase !== 'offer') {
          return;
        }
        var left = Math.max(0, choiceLimit - (Kit.now() - state.onset));
        choiceTimer.textContent = t('Choose within %(seconds)s s.', { seconds: Math.ceil(left / 1000) });
        root.classList.toggle('eoh--choice-late', left <= 2000);
        if (left > 0) {
          later(tickChoice, 200);
        }
      }

      function choose(kind, event, timedOut) {
        if (state.phase !== 'offer' || !state.accepting) {
          return;
        }
        var item = current();
        var at = event ? Kit.eventTime(event) : Kit.now();
        var rt = Math.max(0, at - state.onset);
        state.accepting = false;
        state.choice = kind;
        clearTimers();
        easyOption.button.disabled = true;
        hardOption.button.disabled = true;
        emit('choice', { trial: item.trial, choice: kind, rt_ms: rt, timed_out: !!timedOut }, at);
        startReady(timedOut);
      }

      // --- pressing --------------------------------------------------------------
      function startReady(timedOut) {
        var spec = tasks[state.choice];
        setPhase('ready');
        show(task);
        root.classList.toggle('eoh--hard', state.choice === 'hard');
        root.classList.toggle('eoh--easy', state.choice === 'easy');
        taskTitle.textContent = state.choice === 'hard'
          ? t('Hard task: %(presses)s presses', { presses: spec.presses })
          : t('Easy task: %(presses)s presses', { presses: spec.presses });
        renderPresses();
        clockFill.style.width = '100%';
        timeLeft.textContent = t('%(time)s to go', { time: seconds(spec.timeMs) });
        pressButton.disabled = true;
        var getReady = t('Get ready: press %(presses)s times.', { presses: spec.presses });
        if (timedOut) {
          getReady = (state.choice === 'hard'
            ? t('Time to choose ran out, so this one was picked for you: the hard task.')
            : t('Time to choose ran out, so this one was picked for you: the easy task.')) +
            ' ' + getReady;
        }
        setStatus(getReady);
        later(startPress, trial.ready_ms * timeFactor);
      }

      function renderPresses() {
        var needed = tasks[state.choice].presses;
        var share = needed > 0 ? state.presses / needed : 0;
        meterFill.style.width = (100 * Math.min(1, share)).toFixed(1) + '%';
        meter.setAttribute('aria-valuenow', String(Math.round(100 * Math.min(1, share))));
        pressCount.textContent = t('%(done)s / %(needed)s', { done: state.presses, needed: needed });
      }

      function startPress() {
        setPhase('press-pending');
        state.spaceArmed = true;
        pressButton.disabled = false;
        if (document.activeElement === null || document.activeElement === document.body ||
          root.contains(document.activeElement)) {
          pressButton.focus({ preventScroll: true });
        }
        setStatus(t('Go! Press Space or the Press button.'));
        Kit.onPaint(function (ts) {
          if (state.finished || state.phase !== 'press-pending') {
            return;
          }
          state.onset = ts;
          state.accepting = true;
          setPhase('press');
          tickPress();
          later(function () { endPress(false); }, tasks[state.choice].timeMs);
        });
      }

      function tickPress() {
        if (state.phase !== 'press') {
          return;
        }
        var limit = tasks[state.choice].timeMs;
        var left = Math.max(0, limit - (Kit.now() - state.onset));
        clockFill.style.width = (100 * left / limit).toFixed(1) + '%';
        timeLeft.textContent = t('%(seconds)s s left', { seconds: (left / 1000).toFixed(1) });
        if (left > 0) {
          later(tickPress, 100);
        }
      }

      function press(event) {
        if (state.phase !== 'press' || !state.accepting) {
          return;
        }
        var at = event ? Kit.eventTime(event) : Kit.now();
        var spec = tasks[state.choice];
        if (at - state.onset > spec.timeMs) {
          // Pressed after time ran out (the timer is about to end the task): not counted.
          return;
        }
        state.presses += 1;
        emit('press', { trial: current().trial, presses: state.presses }, at);
        renderPresses();
        if (state.presses >= spec.presses) {
          endPress(true);
        }
      }

      function endPress(completed) {
        if (state.phase !== 'press') {
          return;
        }
        state.accepting = false;
        clearTimers();
        pressButton.disabled = true;
        showFeedback(completed);
      }

      // --- feedback --------------------------------------------------------------
      function showFeedback(completed) {
        var item = current();
        var won = completed && item.win_draw < item.probability;
        var amount = state.choice === 'hard' ? item.reward : trial.easy_reward;
        if (won) {
          state.totalWon = Math.round((state.totalWon + amount) * 100) / 100;
        }
        state.choices.push(state.choice);
        state.completed.push(completed ? 1 : 0);
        setPhase('feedback-pending');
        show(feedback);
        root.classList.toggle('eoh--won', won);
        if (completed) {
          feedbackTitle.textContent = state.choice === 'hard'
            ? t('Done: you finished the hard task.')
            : t('Done: you finished the easy task.');
        } else {
          feedbackTitle.textContent = t('Time is up: %(done)s of %(needed)s presses.',
            { done: state.presses, needed: tasks[state.choice].presses });
        }
        feedbackWin.textContent = completed
          ? (won ? t('You won %(amount)s!', { amount: formatDollars(amount) }) : t('No win this time.'))
          : t('Only finished tasks can win.');
        renderHud();
        bar.set(state.index + 1, count);
        setStatus(feedbackTitle.textContent + ' ' + feedbackWin.textContent + ' ' +
          (practice ? '' : t('Won so far: %(amount)s.', { amount: formatDollars(state.totalWon) })));
        Kit.onPaint(function (ts) {
          if (state.finished) {
            return;
          }
          setPhase('feedback');
          emit('trial_end', {
            trial: item.trial, probability: item.probability, reward: item.reward,
            choice: state.choice, completed: completed ? 1 : 0, won: won ? 1 : 0,
          }, ts);
          if (practice && state.index >= count - 1) {
            continueButton.hidden = false;
            keysHint.hidden = true;
            continueButton.focus({ preventScroll: true });
            return;
          }
          later(function () {
            if (state.index >= count - 1) {
              finish();
            } else {
              startTrial();
            }
          }, trial.feedback_ms * timeFactor);
        });
      }

      function restartAnimation(node, className) {
        if (settings.reducedMotion) {
          return;
        }
        node.classList.remove(className);
        // Reading layout restarts the CSS animation on the next class change.
        void node.offsetWidth;
        node.classList.add(className);
      }

      function finish() {
        if (state.finished) {
          return;
        }
        state.finished = true;
        state.accepting = false;
        clearTimers();
        detachKeys();
        document.removeEventListener('keyup', onKeyUp, true);
        display_element.innerHTML = '';
        jsPsych.finishTrial({
          total_won: state.totalWon,
          choices: state.choices.slice(),
          completed: state.completed.slice(),
          practice: practice,
        });
      }

      // --- input -----------------------------------------------------------------
      function isSpace(event) {
        return event.key === ' ' || event.code === 'Space' || event.key === 'Spacebar';
      }

      function onKey(event) {
        var key = event.key;
        if (isSpace(event)) {
          if (state.spaceArmed) {
            state.spaceArmed = false;
            press(event);
          }
          // Space always means "press": never scroll or click a focused button.
          return true;
        }
        if (state.phase === 'offer') {
          if (key === 'e' || key === 'E' || key === 'ArrowLeft') {
            choose('easy', event, false);
            return true;
          }
          if (key === 'h' || key === 'H' || key === 'ArrowRight') {
            choose('hard', event, false);
            return true;
          }
        }
        if (key === 'Enter' && !continueButton.hidden) {
          finish();
          return true;
        }
        return false;
      }

      function onKeyUp(event) {
        if (!root.isConnected) {
          document.removeEventListener('keyup', onKeyUp, true);
          return;
        }
        if (isSpace(event)) {
          state.spaceArmed = true;
          // Chromium activates a focused button on Space keyup.
          event.preventDefault();
        }
      }

      var detachKeys = Kit.listenKeys(root, onKey, {
        swallow: [' ', 'Spacebar', 'Space', 'Enter', 'ArrowLeft', 'ArrowRight'],
      });
      document.addEventListener('keyup', onKeyUp, true);
      easyOption.button.addEventListener('click', function (event) { choose('easy', event, false); });
      hardOption.button.addEventListener('click', function (event) { choose('hard', event, false); });
      pressButton.addEventListener('click', function (event) { press(event); });
      continueButton.addEventListener('click', finish);

      if (count === 0) {
        finish();
        return;
      }
      startTrial();
    }
  }

  EasyOrHardPlugin.info = info;
  return EasyOrHardPlugin;
})(jsPsychModule);

/**
 * The game's timeline: instructions -> one unrecorded practice trial -> ready
 * screen -> the recorded trials (client.start() when they begin). `config.config`
 * is the session's make_config(seed) schedule.
 */
(function () {
  'use strict';

  var Kit = window.PymetricsKit;
  var t = Kit.t;
  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  function dollars(value) {
    return '$' + Number(value).toFixed(2);
  }

  registry.easy_or_hard = function buildEasyOrHardTimeline(config, client) {
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var acc = Kit.accommodations(accommodation);
    var probabilities = settings.probabilities || [];
    var rewards = settings.rewards || [];
    var draws = settings.win_draws || [];
    var fallbacks = settings.fallback_choices || [];
    var n = probabilities.length;
    var trials = probabilities.map(function (probability, index) {
      return {
        trial: index + 1,
        probability: probability,
        reward: rewards[index],
        win_draw: draws[index],
        fallback: fallbacks[index],
      };
    });
    var easyReward = settings.easy_reward === undefined ? 1 : settings.easy_reward;
    var easyPresses = settings.easy_presses || 30;
    var hardPresses = settings.hard_presses || 100;
    var easyTime = (settings.easy_time_ms || 7000) * acc.timeFactor;
    var hardTime = (settings.hard_time_ms || 21000) * acc.timeFactor;
    var choiceTime = settings.choice_time_ms || 5000;

    // The practice offer comes from the session seed, so it is the same on a reload.
    var random = Kit.seededRandom((Number(settings.seed) || 0) + 7);
    var practiceTrial = {
      trial: 1,
      probability: 0.5,
      reward: Math.round(124 + random() * 306) / 100,
      win_draw: random(),
      fallback: random() < 0.5 ? 'easy' : 'hard',
    };

    var common = {
      type: jsPsychEasyOrHard,
      easy_reward: easyReward,
      easy_presses: easyPresses,
      hard_presses: hardPresses,
      easy_time_ms: settings.easy_time_ms || 7000,
      hard_time_ms: settings.hard_time_ms || 21000,
      choice_time_ms: choiceTime,
      accommodation: accommodation,
    };

    var keys = {
      e: '<kbd>E</kbd>',
      h: '<kbd>H</kbd>',
      left: '<kbd aria-label="' + Kit.escapeHtml(t('Left arrow')) + '">\u2190</kbd>',
      right: '<kbd aria-label="' + Kit.escapeHtml(t('Right arrow')) + '">\u2192</kbd>',
      space: '<kbd>' + Kit.escapeHtml(t('Space')) + '</kbd>',
    };
    var choiceRule = acc.extendedTime
      ? '<li>' + t('There is no time limit for choosing.') + '</li>'
      : '<li>' + t('You have <strong>%(seconds)s seconds</strong> to choose. If you do not ' +
        'choose in time, the game picks one of the two for you.',
      { seconds: choiceTime / 1000 }) + '</li>';
    function keyRow(term, meaning) {
      return '<div><dt>' + term + '</dt><dd>' + meaning + '</dd></div>';
    }

    var instructions = Kit.instructions([
      Kit.page(t('Easy or Hard'), [
        '<p>' + t('In this game you choose between two small tasks, again and again: a quick ' +
          '<strong>easy</strong> one and a longer <strong>hard</strong> one. There are ' +
          '%(count)s rounds.', { count: n }) + '</p>',
        '<p>' + t('There is no right or wrong way to play. Some people like the hard task, some ' +
          'prefer the easy one. Just choose what feels right to you each time.') + '</p>',
      ]),
      Kit.page(t('The two tasks'), [
        '<ul class="game-list">',
        '<li>' + t('<strong>Easy:</strong> press %(presses)s times in %(seconds)s seconds. It ' +
          'can win %(amount)s.', {
          presses: easyPresses, seconds: easyTime / 1000, amount: dollars(easyReward),
        }) + '</li>',
        '<li>' + t('<strong>Hard:</strong> press %(presses)s times in %(seconds)s seconds. It ' +
          'can win more: the amount changes each round, from %(low)s to %(high)s.', {
          presses: hardPresses, seconds: hardTime / 1000, low: dollars(1.24), high: dollars(4.3),
        }) + '</li>',
        // Every schedule, standard or short, has each of the three chances.
        '<li>' + t('Each round shows your <strong>chance to win</strong>: 12%, 50% or 88%. It ' +
          'is the same for both tasks, and only a finished task can win.') + '</li>',
        choiceRule,
        '</ul>',
      ]),
      Kit.page(t('Controls'), [
        '<p>' + t('Use the big buttons with a mouse or your finger, or the keyboard:') + '</p>',
        '<dl class="game-keys">',
        keyRow(t('%(letter)s or %(arrow)s', { letter: keys.e, arrow: keys.left }),
          t('Choose the easy task')),
        keyRow(t('%(letter)s or %(arrow)s', { letter: keys.h, arrow: keys.right }),
          t('Choose the hard task')),
        keyRow(keys.space, t('Press (let go of the key between presses; holding it down does ' +
          'not count)')),
        '</dl>',
        '<p>' + t('First you will play one <strong>practice round</strong>. It does not count.') +
          '</p>',
      ]),
    ]);

    var practice = Object.assign({}, common, { practice: true, trials: [practiceTrial] });

    var ready = Kit.ready(t('Ready?'), [
      '<p>' + t('The real game starts now: %(count)s rounds. From here on, your choices count.',
        { count: n }) + '</p>',
      '<p>' + t('Remember: %(e)s easy, %(h)s hard, %(space)s to press.', keys) + '</p>',
    ], t('Start the game'));

    var main = Object.assign({}, common, {
      practice: false,
      trials: trials,
      record: function (type, data, at) {
        client.record(type, data, at);
      },
      on_start: function () {
        // t = 0 at the first real offer; visibility and focus are watched from here.
        client.start();
      },
    });

    return [instructions, practice, ready, main];
  };
})();
