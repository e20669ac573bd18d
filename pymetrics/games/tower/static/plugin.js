/**
 * jsPsychTower: the Tower of London (Shallice 1982) as one jsPsych 8 trial that runs
 * every problem of the session, plus the game's timeline builder.
 *
 * Three pegs hold at most 3, 2 and 1 balls (config.capacities); three balls, red,
 * green and blue, each also marked with its initial so colour is never the only cue.
 * Each problem shows the goal layout beside the candidate's board and the fewest
 * moves that solve it. Layouts are text, pegs bottom-up separated by "|"
 * ("GR|B|": green under red on peg 1, blue on peg 2), as in spec.py.
 *
 * Operation: click or tap a peg to pick up its top ball, then the peg to put it on
 * (the same peg again puts it back, which is not a move); or press 1, 2, 3 for the
 * pegs. Undo (button, U or Backspace) puts the last moved ball back; Reset (button)
 * restores the start layout. Undo and reset are not moves, but the moves they take
 * back stay counted (spec.py).
 *
 * Limits: a problem ends unsolved after config.move_limit moves or
 * config.time_limit_ms from its onset. Accommodations: extended_time doubles the
 * time limit and the pause after each problem; reduced_motion (also honoured from
 * prefers-reduced-motion) turns off the lifting and dropping animation;
 * colour_safe switches to a palette that stays distinct under colour-vision
 * deficiency (the letters stay).
 *
 * Events (shared SCIENCE.md, tower) go out through `record(type, data, at)`:
 *
 *   problem_start {problem, min_moves, start, goal}     on the frame that paints it
 *   move          {problem, kind, from, to, moves, layout}   at the input event
 *   problem_end   {problem, min_moves, moves, first_move_ms, total_ms, solved, end}
 *
 * first_move_ms is the time from the painted onset to the input that first picked up
 * a ball; total_ms from the onset to the end (the solving move, the move limit, or
 * exactly the time limit). practice: true records nothing.
 */
var jsPsychTower = (function (jspsych) {
  'use strict';

  var version = '1.0.0';

  var info = {
    name: 'tower',
    version: version,
    parameters: {
      /** The problems in order: {min_moves, start, goal} (and `problem`, its number). */
      problems: { type: jspsych.ParameterType.OBJECT, array: true, default: [] },
      /** How many balls each peg holds, left to right. */
      capacities: { type: jspsych.ParameterType.INT, array: true, default: [3, 2, 1] },
      /** A problem ends unsolved after this many moves. */
      move_limit: { type: jspsych.ParameterType.INT, default: 20 },
      /** ... or this long after its onset (ms); doubled under extended time. */
      time_limit_ms: { type: jspsych.ParameterType.INT, default: 90000 },
      /** How long a problem's result is shown before the next one (ms). */
      feedback_ms: { type: jspsych.ParameterType.INT, default: 1500 },
      /** record(type, data, at): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** Unrecorded practice problems, ending on a Continue button. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
    },
    data: {
      /** Moves made on each problem, in order. */
      moves: { type: jspsych.ParameterType.INT, array: true },
      /** Whether each problem was solved. */
      solved: { type: jspsych.ParameterType.BOOL, array: true },
      /** Whether this was the practice. */
      practice: { type: jspsych.ParameterType.BOOL },
    },
  };

  var BALLS = ['R', 'G', 'B'];
  var SLOT = 34; // height of one ball slot in the peg drawing (SVG units)

  function kit() {
    return window.PymetricsKit;
  }

  function roundTenth(value) {
    return Math.round(value * 10) / 10;
  }

  function parseLayout(text) {
    return String(text).split('|').map(function (peg) {
      return peg ? peg.split('') : [];
    });
  }

  function formatLayout(pegs) {
    return pegs.map(function (peg) { return peg.join(''); }).join('|');
  }

  function copyLayout(pegs) {
    return pegs.map(function (peg) { return peg.slice(); });
  }

  function ballName(ball) {
    var t = kit().t;
    return { R: t('red'), G: t('green'), B: t('blue') }[ball];
  }

  function ballLetter(ball) {
    var t = kit().t;
    // The initial of each colour's name, drawn on the ball so colour is not the only cue.
    return { R: t('R'), G: t('G'), B: t('B') }[ball];
  }

  /** Words for one peg's balls, bottom to top, for screen readers. */
  function describePeg(peg) {
    var t = kit().t;
    if (!peg.length) {
      return t('empty');
    }
    var names = peg.map(ballName);
    return t('%(balls)s (top: %(top)s)', {
      balls: names.join(', '), top: names[names.length - 1],
    });
  }

  function describeLayout(pegs) {
    var t = kit().t;
    return pegs.map(function (peg, index) {
      return t('peg %(n)s: %(balls)s', { n: index + 1, balls: describePeg(peg) });
    }).join('; ');
  }

  /**
   * One peg as SVG: a base, a rod as tall as its capacity, its balls bottom-up, and
   * (when `held`) its top ball lifted above the rod.
   */
  function pegSvg(peg, capacity, maxCapacity, held) {
    var K = kit();
    var height = Math.round((maxCapacity + 1.4) * SLOT + 12);
    var node = K.svg('svg', {
      viewBox: '0 0 80 ' + height, class: 'tol-peg__svg', 'aria-hidden': 'true', focusable: 'false',
    });
    var baseY = height - 8;
    node.appendChild(K.svg('rect', { x: '4', y: String(baseY), width: '72', height: '8', rx: '3', class: 'tol-peg__base' }));
    node.appendChild(K.svg('rect', {
      x: '36', y: String(baseY - capacity * SLOT - 6), width: '8', height: String(capacity * SLOT + 6),
      rx: '3', class: 'tol-peg__rod',
    }));
    peg.forEach(function (ball, height_index) {
      var lifted = held && height_index === peg.length - 1;
      var cy = lifted ? SLOT * 0.55 : baseY - SLOT * (height_index + 0.5);
      var group = K.svg('g', {
        class: 'tol-ball tol-ball--' + ball + (lifted ? ' tol-ball--held' : ''),
      });
      group.appendChild(K.svg('circle', { cx: '40', cy: String(cy), r: String(SLOT / 2 - 1), class: 'tol-ball__body' }));
      var label = K.svg('text', {
        x: '40', y: String(cy + 6), 'text-anchor': 'middle', class: 'tol-ball__letter',
      });
      label.textContent = ballLetter(ball);
      group.appendChild(label);
      node.appendChild(group);
    });
    return node;
  }

  class TowerPlugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var K = kit();
      var t = K.t;
      var settings = K.accommodations(trial.accommodation);
      var practice = !!trial.practice;
      var problems = (trial.problems || []).slice();
      var capacities = (trial.capacities || [3, 2, 1]).slice();
      var maxCapacity = Math.max.apply(null, capacities);
      var total = problems.length;
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;
      var emit = K.recorder(record, 'tower');
      var timeLimitMs = Math.max(0, trial.time_limit_ms) * settings.timeFactor;
      var feedbackMs = Math.max(0, trial.feedback_ms) * settings.timeFactor;
      var moveLimit = Math.max(1, trial.move_limit | 0);

      // --- state -------------------------------------------------------------
      var state = {
        index: -1,          // 0-based index of the current problem
        problem: null,
        number: 0,          // the problem's number as recorded
        start: null,
        goal: null,
        pegs: null,
        held: null,         // index of the peg whose top ball is picked up
        history: [],        // [{from, to}] of the moves not undone or reset
        moves: 0,
        firstPick: null,    // ms from onset to the first pick-up
        onset: null,
        accepting: false,
        finished: false,
        limitTimer: null,
        results: { moves: [], solved: [] },
      };

      // --- DOM ---------------------------------------------------------------
      var root = K.el('div', {
        class: K.rootClass('tol', settings, practice ? 'tol--practice' : ''),
        'data-testid': 'tower-game',
        'data-state': 'wait',
      });
      var counter = K.el('p', { class: 'tol-hud__counter', 'data-testid': 'tower-counter' });
      var bar = K.progress(practice ? t('Practice problems done') : t('Problems done'));
      var movesValue = K.el('span', { class: 'tol-figure__value', 'data-testid': 'tower-moves' });
      var minValue = K.el('span', { class: 'tol-figure__value', 'data-testid': 'tower-min' });
      var hud = K.el('div', { class: 'tol-hud' }, [
        K.el('div', { class: 'tol-hud__progress' }, [counter, practice ? null : bar.node]),
        K.el('p', { class: 'tol-figure' }, [
          K.el('span', { class: 'tol-figure__label', text: t('Moves') }), movesValue,
        ]),
        K.el('p', { class: 'tol-figure' }, [
          K.el('span', { class: 'tol-figure__label', text: t('Fewest possible') }), minValue,
        ]),
      ]);

      var goalPegs = K.el('div', { class: 'tol-pegs tol-pegs--goal' });
      var goalFigure = K.el('figure', {
        class: 'tol-goal', 'data-testid': 'tower-goal', role: 'img',
      }, [
        K.el('figcaption', { class: 'tol-caption', text: t('Goal') }),
        goalPegs,
      ]);

      var pegButtons = capacities.map(function (capacity, index) {
        var button = K.el('button', {
          type: 'button',
          class: 'tol-peg',
          'data-testid': 'tower-peg-' + (index + 1),
          'data-peg': String(index + 1),
          'aria-keyshortcuts': String(index + 1),
          'aria-pressed': 'false',
          disabled: true,
        });
        button.addEventListener('click', function (event) {
          choosePeg(index, event);
        });
        return button;
      });
      var board = K.el('div', {
        class: 'tol-board', role: 'group', 'data-testid': 'tower-board',
      }, [
        K.el('p', { class: 'tol-caption', text: t('Your board') }),
        K.el('div', { class: 'tol-pegs' }, pegButtons),
      ]);
      board.setAttribute('aria-label', t('Your board'));

      var undoButton = K.el('button', {
        type: 'button', class: 'tol-btn tol-btn--secondary', 'data-testid': 'tower-undo',
        'aria-keyshortcuts': 'U Backspace', disabled: true,
      }, [t('Undo')]);
      var resetButton = K.el('button', {
        type: 'button', class: 'tol-btn tol-btn--secondary', 'data-testid': 'tower-reset',
        disabled: true,
      }, [t('Reset')]);
      var controls = K.el('div', { class: 'tol-controls' }, [undoButton, resetButton]);

      var status = K.el('p', {
        class: 'tol-status', 'data-testid': 'tower-status', role: 'status', 'aria-live': 'polite',
      });
      var continueButton = K.el('button', {
        type: 'button', class: 'tol-btn', 'data-testid': 'tower-continue', hidden: true,
      }, [t('Continue')]);
      var keysHint = K.el('p', { class: 'tol-keys' }, [
        t('Click or tap a peg to pick up its top ball, then the peg to put it on. Keys:'), ' ',
        K.el('kbd', { text: '1' }), ' ', K.el('kbd', { text: '2' }), ' ', K.el('kbd', { text: '3' }),
        ' ', t('for the pegs,'), ' ', K.el('kbd', { text: 'U' }), ' ', t('to undo.'),
      ]);

      root.appendChild(hud);
      root.appendChild(K.el('div', { class: 'tol-boards' }, [goalFigure, board]));
      root.appendChild(controls);
      root.appendChild(status);
      root.appendChild(continueButton);
      root.appendChild(keysHint);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      // --- drawing -------------------------------------------------------------
      function drawGoal() {
        goalPegs.innerHTML = '';
        state.goal.forEach(function (peg, index) {
          goalPegs.appendChild(K.el('div', { class: 'tol-goal__peg' }, [
            pegSvg(peg, capacities[index], maxCapacity, false),
          ]));
        });
        goalFigure.setAttribute('aria-label', t('Goal: %(layout)s', { layout: describeLayout(state.goal) }));
      }

      function drawBoard() {
        pegButtons.forEach(function (button, index) {
          var peg = state.pegs[index];
          var held = state.held === index;
          button.innerHTML = '';
          button.appendChild(pegSvg(peg, capacities[index], maxCapacity, held));
          button.appendChild(K.el('kbd', { class: 'tol-peg__key', 'aria-hidden': 'true', text: String(index + 1) }));
          button.setAttribute('aria-pressed', held ? 'true' : 'false');
          button.classList.toggle('tol-peg--held', held);
          button.setAttribute('aria-label', t(
            'Peg %(n)s, holds up to %(capacity)s: %(balls)s. Press %(n)s.',
            { n: index + 1, capacity: capacities[index], balls: describePeg(peg) }
          ) + (held ? ' ' + t('Its top ball is picked up.') : ''));
        });
        movesValue.textContent = String(state.moves);
        root.setAttribute('data-moves', String(state.moves));
        root.setAttribute('data-layout', formatLayout(state.pegs));
        undoButton.disabled = !state.accepting || state.history.length === 0;
        resetButton.disabled = !state.accepting ||
          formatLayout(state.pegs) === formatLayout(state.start);
      }

      function setAccepting(accepting) {
        state.accepting = accepting;
        pegButtons.forEach(function (button) { button.disabled = !accepting; });
        if (state.pegs) {
          drawBoard();
        }
        root.setAttribute('data-state', !accepting ? 'wait' : (state.held === null ? 'play' : 'holding'));
      }

      function counterText() {
        var params = { n: state.index + 1, total: total };
        return practice ? t('Practice problem %(n)s of %(total)s', params)
          : t('Problem %(n)s of %(total)s', params);
      }

      // --- the problem's course ------------------------------------------------
      var refocus = null;

      function startProblem() {
        state.index += 1;
        state.problem = problems[state.index];
        state.number = state.problem.problem || state.index + 1;
        state.start = parseLayout(state.problem.start);
        state.goal = parseLayout(state.problem.goal);
        state.pegs = copyLayout(state.start);
        state.held = null;
        state.history = [];
        state.moves = 0;
        state.firstPick = null;
        state.onset = null;
        counter.textContent = counterText();
        root.setAttribute('data-problem', String(state.index + 1));
        minValue.textContent = String(state.problem.min_moves);
        bar.set(state.index, total);
        setAccepting(false);
        drawGoal();
        drawBoard();
        status.textContent = t('Problem %(n)s: make your board look like the goal in %(min)s moves.', {
          n: state.index + 1, min: state.problem.min_moves,
        });
        root.setAttribute('data-state', 'opening');
        // The problem's onset is the frame that paints it.
        K.onPaint(function (timestamp) {
          if (state.finished) {
            return;
          }
          state.onset = timestamp;
          setAccepting(true);
          if (refocus && (document.activeElement === null || document.activeElement === document.body)) {
            refocus.focus({ preventScroll: true });
          }
          refocus = null;
          emit('problem_start', {
            problem: state.number,
            min_moves: state.problem.min_moves,
            start: state.problem.start,
            goal: state.problem.goal,
          }, timestamp);
          if (timeLimitMs > 0) {
            state.limitTimer = jsPsych.pluginAPI.setTimeout(function () {
              endProblem('time_limit', state.onset + timeLimitMs);
            }, timeLimitMs);
          }
        });
      }

      function moveData(kind, from, to) {
        var data = { problem: state.number, kind: kind };
        if (kind !== 'reset') {
          data.from = from + 1;
          data.to = to + 1;
        }
        data.moves = state.moves;
        data.layout = formatLayout(state.pegs);
        return data;
      }

      function choosePeg(index, event) {
        if (!state.accepting || state.finished || state.onset === null) {
          return;
        }
        var at = K.eventTime(event);
        var peg = state.pegs[index];
        if (state.held === null) {
          if (!peg.length) {
            status.textContent = t('Peg %(n)s is empty. Pick a peg with a ball on it.', { n: index + 1 });
            return;
          }
          if (state.firstPick === null) {
            state.firstPick = Math.max(0, at - state.onset);
          }
          state.held = index;
          status.textContent = t('Picked up the %(ball)s ball from peg %(n)s. Choose a peg to put it on.', {
            ball: ballName(peg[peg.length - 1]), n: index + 1,
          });
          setAccepting(true);
          return;
        }
        if (state.held === index) {
          state.held = null;
          status.textContent = t('Put the ball back on peg %(n)s.', { n: index + 1 });
          setAccepting(true);
          return;
        }
        if (peg.length >= capacities[index]) {
          status.textContent = t('Peg %(n)s is full. Choose another peg.', { n: index + 1 });
          return;
        }
        var from = state.held;
        var ball = state.pegs[from].pop();
        peg.push(ball);
        state.held = null;
        state.moves += 1;
        state.history.push({ from: from, to: index });
        emit('move', moveData('move', from, index), at);
        status.textContent = t('Moved the %(ball)s ball from peg %(from)s to peg %(to)s.', {
          ball: ballName(ball), from: from + 1, to: index + 1,
        });
        if (formatLayout(state.pegs) === formatLayout(state.goal)) {
          endProblem('solved', at);
        } else if (state.moves >= moveLimit) {
          endProblem('move_limit', at);
        } else {
          setAccepting(true);
        }
      }

      function undo(event) {
        if (!state.accepting || state.finished || state.history.length === 0) {
          return;
        }
        var at = K.eventTime(event);
        state.held = null;
        var last = state.history.pop();
        var ball = state.pegs[last.to].pop();
        state.pegs[last.from].push(ball);
        emit('move', moveData('undo', last.to, last.from), at);
        status.textContent = t('Undone: the %(ball)s ball is back on peg %(n)s.', {
          ball: ballName(ball), n: last.from + 1,
        });
        setAccepting(true);
      }

      function reset(event) {
        if (!state.accepting || state.finished ||
            formatLayout(state.pegs) === formatLayout(state.start)) {
          return;
        }
        var at = K.eventTime(event);
        state.held = null;
        state.history = [];
        state.pegs = copyLayout(state.start);
        emit('move', moveData('reset'), at);
        status.textContent = t('The board is back at the start.');
        setAccepting(true);
      }

      function endProblem(end, at) {
        if (!state.accepting && end !== 'time_limit') {
          return;
        }
        if (state.onset === null || root.getAttribute('data-state') === 'feedback') {
          return;
        }
        if (state.limitTimer !== null) {
          window.clearTimeout(state.limitTimer);
          state.limitTimer = null;
        }
        var solved = end === 'solved';
        var totalMs = end === 'time_limit' ? timeLimitMs : Math.max(0, at - state.onset);
        var first = state.firstPick === null ? null : Math.min(state.firstPick, totalMs);
        refocus = pegButtons.indexOf(document.activeElement) !== -1 ? document.activeElement : null;
        state.held = null;
        setAccepting(false);
        root.setAttribute('data-state', 'feedback');
        emit('problem_end', {
          problem: state.number,
          min_moves: state.problem.min_moves,
          moves: state.moves,
          first_move_ms: first === null ? null : roundTenth(first),
          total_ms: roundTenth(totalMs),
          solved: solved,
          end: end,
        }, at);
        state.results.moves.push(state.moves);
        state.results.solved.push(solved);
        bar.set(state.index + 1, total);
        var params = { moves: state.moves, min: state.problem.min_moves };
        if (solved) {
          status.textContent = t('Solved in %(moves)s moves (fewest possible: %(min)s).', params);
        } else if (end === 'move_limit') {
          status.textContent = t('That was the most moves allowed for this problem.');
        } else {
          status.textContent = t('Time is up for this problem.');
        }
        var last = state.index + 1 >= total;
        if (practice && last) {
          jsPsych.pluginAPI.setTimeout(function () {
            status.textContent += ' ' + t('That was the last practice problem.');
            keysHint.hidden = true;
            continueButton.hidden = false;
            root.setAttribute('data-state', 'done');
            continueButton.focus();
          }, feedbackMs);
          return;
        }
        jsPsych.pluginAPI.setTimeout(function () {
          if (last) {
            finish();
          } else {
            startProblem();
          }
        }, feedbackMs);
      }

      function finish() {
        if (state.finished) {
          return;
        }
        state.finished = true;
        state.accepting = false;
        detachKeys();
        display_element.innerHTML = '';
        jsPsych.finishTrial({
          moves: state.results.moves.slice(),
          solved: state.results.solved.slice(),
          practice: practice,
        });
      }

      // --- input ---------------------------------------------------------------
      function pegForKey(event) {
        var match = /^(?:Digit|Numpad)([1-9])$/.exec(event.code || '');
        if (match) {
          return Number(match[1]) - 1;
        }
        var key = String(event.key || '');
        return /^[1-9]$/.test(key) ? Number(key) - 1 : -1;
      }

      var detachKeys = K.listenKeys(root, function (event) {
        if (!continueButton.hidden) {
          if (event.key === 'Enter' || event.key === ' ') {
            finish();
            return true;
          }
          return false;
        }
        if (event.key === 'u' || event.key === 'U' || event.key === 'Backspace') {
          undo(event);
          return true;
        }
        var index = pegForKey(event);
        if (index < 0 || index >= capacities.length) {
          return false;
        }
        choosePeg(index, event);
        return true;
      }, { swallow: ['1', '2', '3', 'u', 'U', 'Backspace'] });

      undoButton.addEventListener('click', undo);
      resetButton.addEventListener('click', reset);
      continueButton.addEventListener('click', finish);

      if (total === 0) {
        finish();
        return;
      }
      startProblem();
    }
  }

  TowerPlugin.info = info;
  return TowerPlugin;
})(jsPsychModule);

/**
 * The tower timeline: instructions -> practice (not recorded) -> ready -> the game.
 * `config.config` is spec.make_config(seed); `config.accommodations` the candidate's.
 */
(function () {
  'use strict';

  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  registry.tower = function buildTowerTimeline(config, client) {
    var K = window.PymetricsKit;
    var t = K.t;
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var problems = settings.problems || [];
    var practiceProblems = settings.practice || [];
    var moveLimit = settings.move_limit || 20;
    var timeFactor = K.accommodations(accommodation).timeFactor;
    var seconds = Math.round((settings.time_limit_ms || 90000) * timeFactor / 1000);
    var common = {
      capacities: settings.capacities || [3, 2, 1],
      move_limit: moveLimit,
      time_limit_ms: settings.time_limit_ms || 90000,
      feedback_ms: settings.feedback_ms || 1500,
      accommodation: accommodation,
    };

    var instructions = K.instructions([
      K.page(t('Tower'), [
        '<p>' + t('In this game you move coloured balls between three pegs. The pegs hold ' +
          'at most 3, 2 and 1 balls. Each ball also shows its first letter: ' +
          '%(red)s for red, %(green)s for green and %(blue)s for blue.', {
          red: '<strong>' + K.escapeHtml(t('R')) + '</strong>',
          green: '<strong>' + K.escapeHtml(t('G')) + '</strong>',
          blue: '<strong>' + K.escapeHtml(t('B')) + '</strong>',
        }) + '</p>',
        '<p>' + t('There are %(count)s problems. In each one, make your board look like the ' +
          'goal picture beside it.', { count: problems.length }) + '</p>',
      ]),
      K.page(t('How it works'), [
        '<ul class="game-list">',
        '<li>' + t('You can only move the top ball of a peg, one ball at a time.') + '</li>',
        '<li>' + t('Each problem shows the fewest moves that solve it. Try to solve it in ' +
          'that many moves.') + '</li>',
        '<li>' + t('Plan your moves before you start: think first, then move.') + '</li>',
        '<li>' + t('Undo puts the last ball back and Reset starts the problem again, but ' +
          'the moves you made still count.') + '</li>',
        '<li>' + t('A problem ends after %(moves)s moves or %(seconds)s seconds.', {
          moves: moveLimit, seconds: seconds,
        }) + '</li>',
        '</ul>',
      ]),
      K.page(t('Controls'), [
        '<p>' + t('Click or tap a peg to pick up its top ball, then click or tap the peg ' +
          'to put it on. Or use the keyboard:') + '</p>',
        '<dl class="game-keys">',
        '<div><dt><kbd>1</kbd> <kbd>2</kbd> <kbd>3</kbd></dt><dd>' +
          t('Pick up from, or put on, peg 1, 2 or 3') + '</dd></div>',
        '<div><dt><kbd>U</kbd></dt><dd>' + t('Undo the last move') + '</dd></div>',
        '</dl>',
        '<p>' + t('First you will solve %(count)s practice problems. They do not count.', {
          count: practiceProblems.length,
        }) + '</p>',
      ]),
    ]);

    var practice = Object.assign({
      type: jsPsychTower,
      practice: true,
      problems: practiceProblems,
    }, common);

    var ready = K.ready(t('Ready?'), [
      '<p>' + t('The real game starts now: %(count)s problems. From here on, your moves count.', {
        count: problems.length,
      }) + '</p>',
      '<p>' + t('Remember: plan first, then move. Use as few moves as you can.') + '</p>',
    ], t('Start the game'));

    var main = Object.assign({
      type: jsPsychTower,
      practice: false,
      problems: problems,
      record: function (type, data, at) {
        client.record(type, data, at);
      },
      on_start: function () {
        // t = 0 at the first real problem; visibility and focus are watched from here.
        client.start();
      },
    }, common);

    return [instructions, practice, ready, main];
  };
})();
