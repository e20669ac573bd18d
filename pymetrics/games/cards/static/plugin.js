/**
 * jsPsychCards: the Iowa Gambling Task (Bechara et al. 1994) as one jsPsych 8 trial
 * that runs every choice of the session, plus the game's timeline builder.
 *
 * Four decks, A, B, C and D, left to right. Each choice deals the chosen deck's next
 * card from the session's fixed schedule (config.gains / config.losses, one entry
 * per card, repeating after the last), shows what it won and took away, and updates
 * the balance. Events (shared SCIENCE.md, cards) go out through the
 * `record(type, data, at)` callback, normally PymetricsEventClient.record:
 *
 *   deck_shown {trial}                              on the frame the decks open
 *   choice     {trial, deck, gain, loss, rt_ms}     one per trial; rt_ms = choice
 *                                                   time - deck_shown frame time
 *
 * Operation: click or tap a deck, or press 1-4 or A-D. Input is ignored while a
 * card's outcome is shown. Self-paced: there is no time limit on a choice.
 * Accommodations: reduced_motion (also honoured from prefers-reduced-motion) turns
 * every animation off; colour_safe swaps the green/red outcome colours for
 * blue/orange (outcomes always carry an arrow icon and words too); extended_time
 * doubles the pause in which each outcome is shown (the task has no time limit).
 *
 * practice: true plays `trials` draws from the practice schedule with feedback and
 * records nothing. The trial's data: {balance, decks: [chosen deck per trial], practice}.
 */
var jsPsychCards = (function (jspsych) {
  'use strict';

  var version = '1.0.0';

  var info = {
    name: 'cards',
    version: version,
    parameters: {
      /** Number of choices. */
      trials: { type: jspsych.ParameterType.INT, default: 100 },
      /** Deck names, left to right. */
      decks: { type: jspsych.ParameterType.STRING, array: true, default: ['A', 'B', 'C', 'D'] },
      /** deck -> gain of each of its cards, in order (repeats after the last). */
      gains: { type: jspsych.ParameterType.OBJECT, default: undefined },
      /** deck -> loss magnitude of each of its cards, in order (repeats after the last). */
      losses: { type: jspsych.ParameterType.OBJECT, default: undefined },
      /** Balance before the first card. */
      starting_balance: { type: jspsych.ParameterType.INT, default: 2000 },
      /** record(type, data, at): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** Unrecorded practice draws with feedback, from a separate practice schedule. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
      /** How long each card's outcome is shown before the decks open again (ms). */
      feedback_ms: { type: jspsych.ParameterType.INT, default: 1200 },
    },
    data: {
      /** Balance after the last card. */
      balance: { type: jspsych.ParameterType.INT },
      /** The deck chosen on each trial, in order. */
      decks: { type: jspsych.ParameterType.STRING, array: true },
      /** Whether this was the practice. */
      practice: { type: jspsych.ParameterType.BOOL },
    },
  };

  /** Longest rt_ms the server accepts (spec.MAX_RT_MS): one hour on a single card. */
  var MAX_RT_MS = 3600000;

  function kit() {
    return window.PymetricsKit;
  }

  /** Every user-facing string goes through the kit's translation (named placeholders). */
  function t(text, params) {
    return kit().t(text, params);
  }

  function formatMoney(amount) {
    var sign = amount < 0 ? '\u2212' : '';
    var digits = String(Math.abs(Math.round(amount)));
    return sign + '$' + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  function roundTenth(value) {
    return Math.round(value * 10) / 10;
  }

  /** A card back: a rounded rectangle with a simple pattern and the deck's letter. */
  function cardBack(letter) {
    var K = kit();
    var svg = K.svg('svg', {
      viewBox: '0 0 120 168', class: 'igt-card__svg', 'aria-hidden': 'true', focusable: 'false',
    });
    svg.appendChild(K.svg('rect', {
      x: '4', y: '4', width: '112', height: '160', rx: '12', class: 'igt-card__back',
    }));
    svg.appendChild(K.svg('rect', {
      x: '14', y: '14', width: '92', height: '140', rx: '8', class: 'igt-card__inset',
    }));
    var label = K.svg('text', {
      x: '60', y: '100', class: 'igt-card__letter', 'text-anchor': 'middle',
    });
    label.textContent = letter;
    svg.appendChild(label);
    return svg;
  }

  class CardsPlugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var K = kit();
      var settings = K.accommodations(trial.accommodation);
      var practice = !!trial.practice;
      var decks = (trial.decks || []).slice();
      var gains = trial.gains || {};
      var losses = trial.losses || {};
      var total = Math.max(0, trial.trials | 0);
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;
      var feedbackMs = Math.max(0, trial.feedback_ms) * settings.timeFactor;

      decks.forEach(function (deck) {
        if (!Array.isArray(gains[deck]) || !gains[deck].length ||
            !Array.isArray(losses[deck]) || !losses[deck].length) {
          throw new Error('cards: deck ' + deck + ' needs non-empty gains and losses');
        }
      });

      // --- state -------------------------------------------------------------
      var state = {
        trial: 0,            // 1-based number of the current choice
        balance: trial.starting_balance,
        draws: {},           // deck -> cards drawn so far
        chosen: [],
        onset: null,         // frame timestamp of the current deck_shown
        accepting: false,
        finished: false,
      };
      decks.forEach(function (deck) { state.draws[deck] = 0; });

      // --- DOM ---------------------------------------------------------------
      var root = K.el('div', {
        class: K.rootClass('igt', settings, practice ? 'igt--practice' : ''),
        'data-testid': 'cards-game',
        'data-state': 'wait',
      });

      var counter = K.el('p', { class: 'igt-hud__counter', 'data-testid': 'cards-counter' });
      var bar = K.progress(practice ? t('Practice cards chosen') : t('Cards chosen'));
      var balanceValue = K.el('span', { class: 'igt-figure__value', 'data-testid': 'cards-balance' });
      var hud = K.el('div', { class: 'igt-hud' }, [
        K.el('div', { class: 'igt-hud__progress' }, [counter, practice ? null : bar.node]),
        K.el('p', { class: 'igt-figure' }, [
          K.el('span', {
            class: 'igt-figure__label', text: practice ? t('Practice balance') : t('Balance'),
          }),
          balanceValue,
          practice ? K.el('span', { class: 'igt-figure__note', text: t('not counted') }) : null,
        ]),
      ]);

      var deckButtons = decks.map(function (deck, index) {
        var key = String(index + 1);
        var button = K.el('button', {
          type: 'button',
          class: 'igt-deck',
          'data-testid': 'cards-deck-' + deck,
          'data-deck': deck,
          'aria-label': practice
            ? t('Practice deck %(deck)s. Press %(key)s or %(deck)s.', { deck: deck, key: key })
            : t('Deck %(deck)s. Press %(key)s or %(deck)s.', { deck: deck, key: key }),
          'aria-keyshortcuts': key + ' ' + deck,
          disabled: true,
        }, [
          K.el('span', { class: 'igt-deck__stack', 'aria-hidden': 'true' }, [cardBack(deck)]),
          K.el('span', {
            class: 'igt-deck__name', 'aria-hidden': 'true', text: t('Deck %(deck)s', { deck: deck }),
          }),
          K.el('kbd', { class: 'igt-deck__key', 'aria-hidden': 'true', text: key }),
        ]);
        button.addEventListener('click', function (event) {
          choose(index, event);
        });
        return button;
      });
      var table = K.el('div', {
        class: 'igt-table', role: 'group',
        'aria-label': practice ? t('Practice decks') : t('The four decks'),
      }, deckButtons);

      var gainLine = K.el('p', { class: 'igt-outcome igt-outcome--gain', 'data-testid': 'cards-gain' });
      var lossLine = K.el('p', { class: 'igt-outcome igt-outcome--loss', 'data-testid': 'cards-loss' });
      var feedback = K.el('div', {
        class: 'igt-feedback', 'data-testid': 'cards-feedback', hidden: true,
      }, [gainLine, lossLine]);
      var status = K.el('p', {
        class: 'igt-status', 'data-testid': 'cards-status', role: 'status', 'aria-live': 'polite',
      });
      var continueButton = K.el('button', {
        type: 'button', class: 'igt-btn', 'data-testid': 'cards-continue', hidden: true,
      }, [t('Continue')]);
      var keysHint = K.el('p', { class: 'igt-keys' });
      // One translatable sentence; the keys are placed where the translation puts them.
      keysHint.innerHTML = t('Click or tap a deck, or press %(digits)s or %(letters)s.', {
        digits: '<kbd>1</kbd>\u2013<kbd>4</kbd>',
        letters: '<kbd>A</kbd>\u2013<kbd>D</kbd>',
      });

      root.appendChild(hud);
      root.appendChild(table);
      root.appendChild(feedback);
      root.appendChild(status);
      root.appendChild(continueButton);
      root.appendChild(keysHint);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      var refocus = null; // deck button to focus again when the decks reopen

      // --- helpers -------------------------------------------------------------
      var emit = window.PymetricsKit.recorder(record, 'cards');

      function setAccepting(accepting) {
        state.accepting = accepting;
        root.setAttribute('data-state', accepting ? 'choose' : 'wait');
        deckButtons.forEach(function (button) {
          button.disabled = !accepting;
        });
      }

      function render() {
        counter.textContent = practice
          ? t('Practice card %(n)s of %(total)s', { n: state.trial, total: total })
          : t('Card %(n)s of %(total)s', { n: state.trial, total: total });
        root.setAttribute('data-trial', String(state.trial));
        bar.set(state.trial - 1, total);
        balanceValue.textContent = formatMoney(state.balance);
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

      function startTrial() {
        state.trial += 1;
        state.onset = null;
        deckButtons.forEach(function (button) {
          button.classList.remove('igt-deck--chosen');
        });
        render();
        setAccepting(false);
        root.setAttribute('data-state', 'opening');
        // The decks become usable on the frame that paints them: that frame is the
        // onset from which rt_ms is measured.
        K.onPaint(function (timestamp) {
          if (state.finished) {
            return;
          }
          state.onset = timestamp;
          setAccepting(true);
          if (refocus && (document.activeElement === null || document.activeElement === document.body)) {
            // The deck was disabled while its card was shown, which drops focus: give
            // it back so keyboard and switch users stay where they were.
            refocus.focus({ preventScroll: true });
          }
          refocus = null;
          emit('deck_shown', { trial: state.trial }, timestamp);
        });
      }

      function choose(index, event) {
        if (!state.accepting || state.finished || state.onset === null) {
          return;
        }
        var deck = decks[index];
        var at = K.eventTime(event);
        var rt = Math.min(MAX_RT_MS, Math.max(0, at - state.onset));
        var draw = state.draws[deck];
        var gain = gains[deck][draw % gains[deck].length];
        var loss = Math.abs(losses[deck][draw % losses[deck].length]);
        state.draws[deck] = draw + 1;
        state.balance += gain - loss;
        state.chosen.push(deck);
        refocus = document.activeElement === deckButtons[index] ? deckButtons[index] : null;
        setAccepting(false);
        root.setAttribute('data-state', 'feedback');
        emit('choice', {
          trial: state.trial, deck: deck, gain: gain, loss: loss, rt_ms: roundTenth(rt),
        }, at);

        deckButtons[index].classList.add('igt-deck--chosen');
        restartAnimation(deckButtons[index], 'igt-deck--drawn');
        gainLine.innerHTML = '';
        gainLine.appendChild(K.el('span', { class: 'igt-outcome__icon', 'aria-hidden': 'true', text: '\u25B2' }));
        gainLine.appendChild(document.createTextNode(
          ' ' + t('You won %(amount)s', { amount: formatMoney(gain) })));
        lossLine.innerHTML = '';
        lossLine.appendChild(K.el('span', {
          class: 'igt-outcome__icon', 'aria-hidden': 'true', text: loss > 0 ? '\u25BC' : '\u25CF',
        }));
        lossLine.appendChild(document.createTextNode(' ' + (loss > 0
          ? t('You lost %(amount)s', { amount: formatMoney(loss) })
          : t('Nothing taken away'))));
        lossLine.classList.toggle('igt-outcome--none', loss === 0);
        feedback.hidden = false;
        restartAnimation(feedback, 'igt-feedback--in');
        balanceValue.textContent = formatMoney(state.balance);
        var outcome = { deck: deck, gain: formatMoney(gain), loss: formatMoney(loss),
          balance: formatMoney(state.balance) };
        status.textContent = loss > 0
          ? t('Deck %(deck)s: you won %(gain)s and lost %(loss)s. Balance %(balance)s.', outcome)
          : t('Deck %(deck)s: you won %(gain)s, nothing taken away. Balance %(balance)s.', outcome);
        bar.set(state.trial, total);

        if (practice && state.trial >= total) {
          jsPsych.pluginAPI.setTimeout(function () {
            status.textContent += ' ' + t('That was the last practice card.');
            keysHint.hidden = true;
            continueButton.hidden = false;
            continueButton.focus();
          }, feedbackMs);
          return;
        }
        jsPsych.pluginAPI.setTimeout(function () {
          if (state.trial >= total) {
            finish();
          } else {
            startTrial();
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
          balance: state.balance,
          decks: state.chosen.slice(),
          practice: practice,
        });
      }

      // --- input ---------------------------------------------------------------
      function deckForKey(event) {
        var code = event.code || '';
        var match = /^(?:Digit|Numpad)([1-9])$/.exec(code);
        if (match) {
          return Number(match[1]) - 1;
        }
        var key = String(event.key || '');
        if (/^[1-9]$/.test(key)) {
          return Number(key) - 1;
        }
        return decks.indexOf(key.toUpperCase());
      }

      var detachKeys = K.listenKeys(root, function (event) {
        if (!continueButton.hidden) {
          if (event.key === 'Enter' || event.key === ' ') {
            finish();
            return true;
          }
          return false;
        }
        var index = deckForKey(event);
        if (index < 0 || index >= decks.length) {
          return false;
        }
        choose(index, event);
        return true;
      }, { swallow: ['1', '2', '3', '4', 'a', 'b', 'c', 'd', 'A', 'B', 'C', 'D'] });

      continueButton.addEventListener('click', finish);

      if (total === 0 || decks.length === 0) {
        finish();
        return;
      }
      startTrial();
    }
  }

  CardsPlugin.info = info;
  return CardsPlugin;
})(jsPsychModule);

/**
 * The cards timeline: instructions -> practice (not recorded) -> ready -> the game.
 * `config.config` is spec.make_config(seed); `config.accommodations` the candidate's.
 */
(function () {
  'use strict';

  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  /** The standard schedule's length: the time estimate in the instructions is for it. */
  var STANDARD_TRIALS = 100;

  registry.cards = function buildCardsTimeline(config, client) {
    var K = window.PymetricsKit;
    var t = K.t;
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var decks = settings.decks || ['A', 'B', 'C', 'D'];
    var trials = settings.trials || STANDARD_TRIALS;
    var starting = settings.starting_balance === undefined ? 2000 : settings.starting_balance;
    var practiceSchedule = settings.practice || {};
    var practiceDraws = practiceSchedule.draws || 4;
    var startingText = '$' + String(starting).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    var longer = accommodation.extended_time
      ? '<p>' + t('Each card\u2019s result stays on screen a little longer for you.') + '</p>'
      : '';
    function keyRow(number, deck) {
      return '<div><dt>' + t('%(number)s or %(letter)s', {
        number: '<kbd>' + number + '</kbd>', letter: '<kbd>' + deck + '</kbd>',
      }) + '</dt><dd>' + t('Deck %(deck)s', { deck: deck }) + '</dd></div>';
    }

    var instructions = K.instructions([
      K.page(t('Cards'), [
        '<p>' + t('In this game you choose cards from four decks, called A, B, C and D. You ' +
          'start with <strong>%(balance)s</strong> of play money and choose %(count)s cards, ' +
          'one at a time.', { balance: startingText, count: trials }) + '</p>',
        '<p>' + t('There is no right or wrong way to play. Choose the way that feels right to ' +
          'you.') + '</p>',
        '<p>' + (trials >= STANDARD_TRIALS
          ? t('There is no time limit. Most people take about six minutes.')
          : t('There is no time limit.')) + '</p>',
      ]),
      K.page(t('How it works'), [
        '<ul class="game-list">',
        '<li>' + t('Every card <strong>wins</strong> you some money.') + '</li>',
        '<li>' + t('Some cards also <strong>take some money away</strong>.') + '</li>',
        '<li>' + t('After each card you see what it won, what it took away, and your ' +
          'balance.') + '</li>',
        '<li>' + t('The decks are not all alike. You can choose from any deck, and switch ' +
          'decks whenever you like.') + '</li>',
        '<li>' + t('See how much money you can end up with.') + '</li>',
        '</ul>',
        longer,
      ]),
      K.page(t('Controls'), [
        '<p>' + t('Click or tap a deck to take its top card, or use the keyboard:') + '</p>',
        '<dl class="game-keys">',
        keyRow('1', 'A'),
        keyRow('2', 'B'),
        keyRow('3', 'C'),
        keyRow('4', 'D'),
        '</dl>',
        '<p>' + (practiceDraws === 1
          ? t('First you will take <strong>1 practice card</strong> from practice decks. It ' +
            'does not count, and the real decks are different.')
          : t('First you will take <strong>%(count)s practice cards</strong> from practice ' +
            'decks. They do not count, and the real decks are different.',
          { count: practiceDraws })) + '</p>',
      ]),
    ]);

    var practice = {
      type: jsPsychCards,
      practice: true,
      trials: practiceDraws,
      decks: decks,
      gains: practiceSchedule.gains,
      losses: practiceSchedule.losses,
      starting_balance: starting,
      accommodation: accommodation,
    };

    var ready = K.ready(t('Ready?'), [
      '<p>' + t('The real game starts now: %(count)s cards from four new decks, starting with ' +
        '%(balance)s. From here on, your choices count.',
      { count: trials, balance: startingText }) + '</p>',
      '<p>' + t('Remember: %(digits)s or %(letters)s, or click a deck. Take your time.', {
        digits: '<kbd>1</kbd>\u2013<kbd>4</kbd>', letters: '<kbd>A</kbd>\u2013<kbd>D</kbd>',
      }) + '</p>',
    ], t('Start the game'));

    var main = {
      type: jsPsychCards,
      practice: false,
      trials: trials,
      decks: decks,
      gains: settings.gains,
      losses: settings.losses,
      starting_balance: starting,
      accommodation: accommodation,
      record: function (type, data, at) {
        client.record(type, data, at);
      },
      on_start: function () {
        // t = 0 at the first real card; visibility and focus are watched from here.
        client.start();
      },
    };

    return [instructions, practice, ready, main];
  };
})();
