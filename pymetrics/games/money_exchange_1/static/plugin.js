/**
 * jsPsychMoneyExchange1: the trust game (Berg, Dickhaut & McCabe 1995) as one jsPsych 8
 * trial that runs every round of the session, plus the game's timeline builder.
 *
 * Each round pairs the candidate with a new simulated partner. As investor (shown as
 * "Player A") the candidate holds `endowment` points and sends 0..endowment of them;
 * what is sent arrives multiplied by `multiplier`, and the partner returns its round's
 * `partner_return_percent` of it, rounded half up: (received * percent + 50) // 100,
 * in integers, exactly as spec.partner_returned. As trustee ("Player B") the
 * candidate receives multiplier x the partner's `partner_sent` and returns
 * 0..received. When the role changes from one round to the next a short notice
 * explains the new role. Events (shared SCIENCE.md, money_exchange_1) go out through
 * `record(type, data, at)`, normally PymetricsEventClient.record:
 *
 *   round_start {round, role, endowment[, sent, received]}   on the frame that paints it
 *   decision    {round, role, amount, rt_ms}                 at the confirming click/key
 *   outcome     {round, role, endowment, sent, received, returned, payoff}
 *                                                            on the frame that paints it
 *
 * rt_ms is the confirming input's timeStamp minus the round_start frame, measured here.
 *
 * Operation: the amount has no preset value (a preset would anchor the choice); it is
 * set with the slider (mouse, touch, arrow keys, Home/End), the - and + buttons (or
 * the - and + keys), or by typing into the number field; the confirm button (or Enter)
 * sends it. The result stays until the candidate presses Next (or Enter).
 * Accommodations: the game is self-paced with no time limit anywhere, so
 * extended_time has no deadline to double or remove; colour_safe swaps the
 * teal/purple of "you" and "partner" for blue/orange (both are always labelled in
 * words and marked by shape, a square for Player A and a circle for Player B);
 * reduced_motion (also from prefers-reduced-motion) turns every transition off.
 *
 * practice: true plays the given rounds with the same screens and records nothing.
 * The trial's data: {amounts, payoffs, total_points, practice}.
 */
var jsPsychMoneyExchange1 = (function (jspsych) {
  'use strict';

  var version = '1.0.0';
  var Kit = window.PymetricsKit;
  var t = Kit.t;
  var el = Kit.el;

  var info = {
    name: 'money-exchange-1',
    version: version,
    parameters: {
      /** [{round, role, endowment, partner_return_percent | partner_sent}], in play order. */
      rounds: { type: jspsych.ParameterType.COMPLEX, array: true, default: undefined },
      /** What a point sent is worth to the trustee. */
      multiplier: { type: jspsych.ParameterType.INT, default: 3 },
      /** record(type, data, at): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** Unrecorded practice rounds with a labelled practice partner. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
    },
    data: {
      /** The amount sent (investor) or returned (trustee) in each round. */
      amounts: { type: jspsych.ParameterType.INT, array: true },
      /** The candidate's points from each round. */
      payoffs: { type: jspsych.ParameterType.INT, array: true },
      /** Sum of the payoffs. */
      total_points: { type: jspsych.ParameterType.INT },
      /** Whether this was the practice. */
      practice: { type: jspsych.ParameterType.BOOL },
    },
  };

  /** Longest rt_ms the server accepts (spec.MAX_RT_MS): one hour on a single decision. */
  var MAX_RT_MS = 3600000;
  var ROLES = { investor: 'A', trustee: 'B' };

  function roundTenth(value) {
    return Math.round(value * 10) / 10;
  }

  function points(n) {
    return n === 1 ? t('%(n)s point', { n: n }) : t('%(n)s points', { n: n });
  }

  /** What a simulated trustee returns: percent % of received, half rounded up. */
  function partnerReturned(received, percent) {
    return Math.floor((received * percent + 50) / 100);
  }

  /** A player marker: a square for Player A, a circle for Player B, with the letter. */
  function marker(letter, who) {
    var shape = letter === 'A' ? 'mx1-marker--square' : 'mx1-marker--circle';
    return el('span', {
      class: 'mx1-marker ' + shape + ' mx1-marker--' + who, 'aria-hidden': 'true', text: letter,
    });
  }

  class MoneyExchange1Plugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var settings = Kit.accommodations(trial.accommodation);
      var practice = !!trial.practice;
      var rounds = (trial.rounds || []).slice();
      var multiplier = trial.multiplier;
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;
      var emit = Kit.recorder(record, 'money_exchange_1');

      rounds.forEach(function (item) {
        var ok = (item.role === 'investor' && item.partner_return_percent >= 0 &&
            item.partner_return_percent <= 100) ||
          (item.role === 'trustee' && item.partner_sent >= 0 && item.partner_sent <= item.endowment);
        if (!ok || !(item.endowment > 0) || !(item.round >= 1)) {
          throw new Error('money_exchange_1: invalid round in the schedule: ' + JSON.stringify(item));
        }
      });

      // --- state -----------------------------------------------------------------
      var state = {
        index: -1,          // 0-based position in rounds
        phase: 'idle',      // opening, decide, outcome, role_change, idle
        onset: null,        // frame timestamp of the current round_start
        amount: null,       // the amount chosen so far (null: not chosen yet)
        most: 0,            // the largest amount allowed this round
        amounts: [],
        payoffs: [],
        finished: false,
      };

      // --- DOM -------------------------------------------------------------------
      var root = el('div', {
        class: Kit.rootClass('mx1', settings, practice ? 'mx1--practice' : ''),
        'data-testid': 'money_exchange_1-game',
        'data-state': 'idle',
        'data-round': '0',
      });

      var counter = el('p', { class: 'mx1-hud__counter', 'data-testid': 'money_exchange_1-counter' });
      var bar = Kit.progress(practice ? t('Practice rounds played') : t('Rounds played'));
      var roleBadge = el('p', { class: 'mx1-hud__role', 'data-testid': 'money_exchange_1-role' });
      var hud = el('div', { class: 'mx1-hud' }, [
        el('div', { class: 'mx1-hud__progress' }, [counter, bar.node]),
        roleBadge,
      ]);

      // The decision: the situation in words, the two players' points, the controls.
      var sceneTitle = el('h2', { class: 'mx1-scene__title', id: 'mx1-scene-title' });
      var sceneText = el('p', {
        class: 'mx1-scene__text', id: 'mx1-scene-text', 'data-testid': 'money_exchange_1-scene',
      });
      var youValue = el('span', { class: 'mx1-pot__value', 'data-testid': 'money_exchange_1-you' });
      var partnerValue = el('span', {
        class: 'mx1-pot__value', 'data-testid': 'money_exchange_1-partner',
      });
      var youMarker = el('span', { class: 'mx1-pot__marker' });
      var partnerMarker = el('span', { class: 'mx1-pot__marker' });
      var youLabel = el('span', { class: 'mx1-pot__label' });
      var partnerLabel = el('span', { class: 'mx1-pot__label' });
      var pots = el('div', { class: 'mx1-pots' }, [
        el('p', { class: 'mx1-pot mx1-pot--you' }, [youMarker, youLabel, youValue]),
        el('p', { class: 'mx1-pot mx1-pot--partner' }, [partnerMarker, partnerLabel, partnerValue]),
      ]);

      var amountLabel = el('label', { class: 'mx1-amount__label', for: 'mx1-amount' });
      var minus = el('button', {
        type: 'button', class: 'mx1-step', 'data-testid': 'money_exchange_1-minus',
        'aria-label': t('One point less'), 'aria-keyshortcuts': '-',
      }, ['\u2212']);
      var plus = el('button', {
        type: 'button', class: 'mx1-step', 'data-testid': 'money_exchange_1-plus',
        'aria-label': t('One point more'), 'aria-keyshortcuts': '+',
      }, ['+']);
      var slider = el('input', {
        type: 'range', class: 'mx1-slider mx1-slider--unset', id: 'mx1-slider', min: '0', max: '0',
        step: '1', value: '0', 'data-testid': 'money_exchange_1-slider',
        'aria-describedby': 'mx1-scene-text',
      });
      var number = el('input', {
        type: 'number', class: 'mx1-number', id: 'mx1-amount', min: '0', max: '0', step: '1',
        inputmode: 'numeric', autocomplete: 'off', 'data-testid': 'money_exchange_1-amount',
        'aria-describedby': 'mx1-scene-text mx1-hint',
      });
      var rangeNote = el('span', { class: 'mx1-amount__range', 'aria-hidden': 'true' });
      var hint = el('p', {
        class: 'mx1-hint', id: 'mx1-hint', 'data-testid': 'money_exchange_1-hint',
        'aria-live': 'polite',
      });
      var confirm = el('button', {
        type: 'button', class: 'mx1-btn mx1-btn--primary', 'data-testid': 'money_exchange_1-confirm',
        disabled: true,
      });
      var controls = el('div', { class: 'mx1-controls' }, [
        el('div', { class: 'mx1-amount' }, [
          amountLabel,
          el('div', { class: 'mx1-amount__row' }, [minus, slider, plus]),
          el('div', { class: 'mx1-amount__typed' }, [number, rangeNote]),
        ]),
        hint,
        confirm,
      ]);
      var decision = el('section', {
        class: 'mx1-decision', 'aria-labelledby': 'mx1-scene-title',
      }, [sceneTitle, sceneText, pots, controls]);

      // The result of a round.
      var outcomeTitle = el('h2', { class: 'mx1-scene__title', id: 'mx1-outcome-title' });
      var outcomeText = el('p', {
        class: 'mx1-outcome__text', 'data-testid': 'money_exchange_1-outcome-text',
      });
      var outcomeYou = el('span', {
        class: 'mx1-pot__value', 'data-testid': 'money_exchange_1-payoff',
      });
      var outcomePartner = el('span', { class: 'mx1-pot__value' });
      var outcomeYouMarker = el('span', { class: 'mx1-pot__marker' });
      var outcomePartnerMarker = el('span', { class: 'mx1-pot__marker' });
      var next = el('button', {
        type: 'button', class: 'mx1-btn mx1-btn--primary', 'data-testid': 'money_exchange_1-next',
      });
      var outcome = el('section', {
        class: 'mx1-outcome', 'data-testid': 'money_exchange_1-outcome',
        'aria-labelledby': 'mx1-outcome-title', hidden: true,
      }, [
        outcomeTitle,
        outcomeText,
        el('div', { class: 'mx1-pots' }, [
          el('p', { class: 'mx1-pot mx1-pot--you' }, [
            outcomeYouMarker, el('span', { class: 'mx1-pot__label', text: t('You end with') }),
            outcomeYou,
          ]),
          el('p', { class: 'mx1-pot mx1-pot--partner' }, [
            outcomePartnerMarker,
            el('span', { class: 'mx1-pot__label', text: t('Your partner ends with') }),
            outcomePartner,
          ]),
        ]),
        next,
      ]);

      // The notice between the two roles.
      var switchTitle = el('h2', { class: 'mx1-scene__title', id: 'mx1-switch-title' });
      var switchText = el('p', { class: 'mx1-switch__text' });
      var continueButton = el('button', {
        type: 'button', class: 'mx1-btn mx1-btn--primary',
        'data-testid': 'money_exchange_1-continue', text: t('Continue'),
      });
      var roleSwitch = el('section', {
        class: 'mx1-switch', 'data-testid': 'money_exchange_1-role-change',
        'aria-labelledby': 'mx1-switch-title', hidden: true,
      }, [switchTitle, switchText, continueButton]);

      // One polite live region announces each result and role change for screen readers.
      var status = el('p', {
        class: 'visually-hidden', 'data-testid': 'money_exchange_1-status', role: 'status',
        'aria-live': 'polite',
      });

      root.appendChild(hud);
      root.appendChild(decision);
      root.appendChild(outcome);
      root.appendChild(roleSwitch);
      root.appendChild(status);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      // --- helpers ---------------------------------------------------------------
      function current() {
        return rounds[state.index];
      }

      function setPhase(phase) {
        state.phase = phase;
        root.setAttribute('data-state', phase);
      }

      function received(item) {
        return multiplier * item.partner_sent;
      }

      function roleName(role) {
        return role === 'investor' ? t('Player A') : t('Player B');
      }

      /** Show the amount chosen so far in every control, the pots and the confirm button. */
      function showAmount(fromNumberField) {
        var item = current();
        var chosen = state.amount !== null;
        var amount = chosen ? state.amount : 0;
        slider.value = String(amount);
        slider.classList.toggle('mx1-slider--unset', !chosen);
        slider.setAttribute('aria-valuetext', chosen ? points(amount) : t('No amount chosen yet'));
        if (!fromNumberField) {
          number.value = chosen ? String(amount) : '';
        }
        confirm.disabled = !chosen;
        if (item.role === 'investor') {
          youValue.textContent = chosen ? points(item.endowment - amount) : points(item.endowment);
          partnerValue.textContent = chosen ? points(multiplier * amount) : '\u2014';
          confirm.textContent = chosen ? t('Send %(amount)s', { amount: points(amount) })
            : t('Send');
        } else {
          var got = received(item);
          youValue.textContent = chosen ? points(got - amount) : points(got);
          partnerValue.textContent = chosen
            ? points(item.endowment - item.partner_sent + amount)
            : points(item.endowment - item.partner_sent);
          confirm.textContent = chosen ? t('Send back %(amount)s', { amount: points(amount) })
            : t('Send back');
        }
      }

      function setAmount(value, fromNumberField) {
        if (state.phase !== 'decide' && state.phase !== 'opening') {
          return;
        }
        state.amount = Math.max(0, Math.min(state.most, value));
        hint.textContent = '';
        showAmount(fromNumberField);
      }

      function step(delta) {
        if (state.amount === null) {
          setAmount(delta > 0 ? 1 : 0);
        } else {
          setAmount(state.amount + delta);
        }
      }

      function renderRound() {
        var item = current();
        var total = rounds.length;
        var letter = ROLES[item.role];
        var n = state.index + 1;
        counter.textContent = practice
          ? t('Practice round %(n)s of %(total)s', { n: n, total: total })
          : t('Round %(n)s of %(total)s', { n: n, total: total });
        bar.set(state.index, total);
        root.setAttribute('data-round', String(n));
        root.setAttribute('data-role', item.role);
        roleBadge.innerHTML = '';
        roleBadge.appendChild(marker(letter, 'you'));
        roleBadge.appendChild(document.createTextNode(
          t('You are %(player)s', { player: roleName(item.role) })));

        youMarker.innerHTML = '';
        youMarker.appendChild(marker(letter, 'you'));
        partnerMarker.innerHTML = '';
        partnerMarker.appendChild(marker(letter === 'A' ? 'B' : 'A', 'partner'));
        youLabel.textContent = t('You');
        partnerLabel.textContent = t('Your partner (%(player)s)', {
          player: roleName(item.role === 'investor' ? 'trustee' : 'investor'),
        });

        if (item.role === 'investor') {
          state.most = item.endowment;
          sceneTitle.textContent = practice
            ? t('Practice: you have %(amount)s', { amount: points(item.endowment) })
            : t('You have %(amount)s', { amount: points(item.endowment) });
          sceneText.textContent = t(
            'How many of your %(endowment)s do you send to your partner? Every point you ' +
            'send is multiplied by %(multiplier)s on the way. Then your partner decides how ' +
            'many of the points they received to send back to you.',
            { endowment: points(item.endowment), multiplier: multiplier });
          amountLabel.textContent = t('Points to send (0 to %(most)s)', { most: state.most });
        } else {
          var got = received(item);
          state.most = got;
          sceneTitle.textContent = practice
            ? t('Practice: you received %(amount)s', { amount: points(got) })
            : t('You received %(amount)s', { amount: points(got) });
          sceneText.textContent = t(
            'Your partner had %(endowment)s and sent you %(sent)s. Multiplied by ' +
            '%(multiplier)s, that makes %(received)s for you. How many of them do you send ' +
            'back to your partner?',
            {
              endowment: points(item.endowment), sent: points(item.partner_sent),
              multiplier: multiplier, received: points(got),
            });
          amountLabel.textContent = t('Points to send back (0 to %(most)s)', { most: state.most });
        }
        slider.max = String(state.most);
        number.max = String(state.most);
        slider.setAttribute('aria-label', amountLabel.textContent);
        rangeNote.textContent = t('from 0 to %(most)s', { most: state.most });
        state.amount = null;
        hint.textContent = '';
        showAmount(false);
      }

      function startRound() {
        state.index += 1;
        state.onset = null;
        outcome.hidden = true;
        roleSwitch.hidden = true;
        decision.hidden = false;
        renderRound();
        setPhase('opening');
        // The decision screen is the stimulus: its painted frame is the onset of rt_ms.
        Kit.onPaint(function (timestamp) {
          if (state.finished) {
            return;
          }
          state.onset = timestamp;
          setPhase('decide');
          var item = current();
          var data = { round: item.round, role: item.role, endowment: item.endowment };
          if (item.role === 'trustee') {
            data.sent = item.partner_sent;
            data.received = received(item);
          }
          emit('round_start', data, timestamp);
        });
        // The slider takes the focus: arrow keys, - and + and Enter work at once, and on
        // touch screens no on-screen keyboard pops up as the number field's would.
        slider.focus({ preventScroll: true });
      }

      function confirmAmount(event) {
        if (state.phase !== 'decide' || state.onset === null || state.amount === null) {
          return;
        }
        var at = Kit.eventTime(event);
        var rt = Math.min(MAX_RT_MS, Math.max(0, at - state.onset));
        var item = current();
        var amount = state.amount;
        var sent;
        var got;
        var returned;
        var payoff;
        if (item.role === 'investor') {
          sent = amount;
          got = multiplier * sent;
          returned = partnerReturned(got, item.partner_return_percent);
          payoff = item.endowment - sent + returned;
        } else {
          sent = item.partner_sent;
          got = received(item);
          returned = amount;
          payoff = got - returned;
        }
        var partnerPayoff = item.role === 'investor'
          ? got - returned : item.endowment - sent + returned;
        state.amounts.push(amount);
        state.payoffs.push(payoff);
        setPhase('outcome');
        emit('decision', {
          round: item.round, role: item.role, amount: amount, rt_ms: roundTenth(rt),
        }, at);

        var summary;
        if (item.role === 'investor') {
          outcomeTitle.textContent = t('Your partner sent back %(amount)s', {
            amount: points(returned),
          });
          summary = t(
            'You sent %(sent)s. Your partner received %(received)s and sent back ' +
            '%(returned)s. You end this round with %(payoff)s.',
            {
              sent: points(sent), received: points(got), returned: points(returned),
              payoff: points(payoff),
            });
        } else {
          outcomeTitle.textContent = t('You sent back %(amount)s', { amount: points(returned) });
          summary = t(
            'You received %(received)s and sent back %(returned)s. You end this round with ' +
            '%(payoff)s, and your partner with %(partner)s.',
            {
              received: points(got), returned: points(returned), payoff: points(payoff),
              partner: points(partnerPayoff),
            });
        }
        outcomeText.textContent = summary;
        outcomeYou.textContent = points(payoff);
        outcomePartner.textContent = points(partnerPayoff);
        outcomeYouMarker.innerHTML = '';
        outcomeYouMarker.appendChild(marker(ROLES[item.role], 'you'));
        outcomePartnerMarker.innerHTML = '';
        outcomePartnerMarker.appendChild(marker(item.role === 'investor' ? 'B' : 'A', 'partner'));
        var last = state.index >= rounds.length - 1;
        next.textContent = last
          ? (practice ? t('Finish the practice') : t('Finish'))
          : t('Next round');
        decision.hidden = true;
        outcome.hidden = false;
        bar.set(state.index + 1, rounds.length);
        status.textContent = summary;
        Kit.onPaint(function (timestamp) {
          if (state.finished) {
            return;
          }
          emit('outcome', {
            round: item.round, role: item.role, endowment: item.endowment, sent: sent,
            received: got, returned: returned, payoff: payoff,
          }, timestamp);
        });
        next.focus({ preventScroll: true });
      }

      function advance() {
        if (state.phase === 'role_change') {
          startRound();
          return;
        }
        if (state.phase !== 'outcome') {
          return;
        }
        if (state.index >= rounds.length - 1) {
          finish();
          return;
        }
        var upcoming = rounds[state.index + 1];
        if (upcoming.role !== current().role) {
          showRoleChange(upcoming);
          return;
        }
        startRound();
      }

      function showRoleChange(upcoming) {
        setPhase('role_change');
        outcome.hidden = true;
        decision.hidden = true;
        roleSwitch.hidden = false;
        switchTitle.textContent = t('Now you are %(player)s', { player: roleName(upcoming.role) });
        switchText.textContent = upcoming.role === 'trustee'
          ? t('From now on, in each round a new partner (Player A) has %(endowment)s and ' +
            'decides how many to send you. Every point sent is multiplied by %(multiplier)s. ' +
            'You decide how many of the points you receive to send back.',
            { endowment: points(upcoming.endowment), multiplier: multiplier })
          : t('From now on, in each round you have %(endowment)s and decide how many to send ' +
            'to a new partner (Player B). Every point you send is multiplied by ' +
            '%(multiplier)s, and your partner decides how many to send back.',
            { endowment: points(upcoming.endowment), multiplier: multiplier });
        status.textContent = switchTitle.textContent;
        continueButton.focus({ preventScroll: true });
      }

      function finish() {
        if (state.finished) {
          return;
        }
        state.finished = true;
        setPhase('idle');
        detachKeys();
        display_element.innerHTML = '';
        jsPsych.finishTrial({
          amounts: state.amounts.slice(),
          payoffs: state.payoffs.slice(),
          total_points: state.payoffs.reduce(function (sum, value) { return sum + value; }, 0),
          practice: practice,
        });
      }

      // --- input -----------------------------------------------------------------
      slider.addEventListener('input', function () {
        setAmount(Number(slider.value), false);
      });
      number.addEventListener('input', function () {
        var text = number.value.trim();
        var value = Number(text);
        if (text === '' || !/^\d+$/.test(text) || value > state.most) {
          // Keep what was typed; nothing is chosen until it is a valid amount.
          state.amount = null;
          showAmount(true);
          hint.textContent = text === '' ? ''
            : t('Enter a whole number from 0 to %(most)s.', { most: state.most });
          return;
        }
        setAmount(value, true);
      });
      number.addEventListener('blur', function () {
        if (state.amount !== null) {
          number.value = String(state.amount);
        }
      });
      minus.addEventListener('click', function () { step(-1); });
      plus.addEventListener('click', function () { step(1); });
      confirm.addEventListener('click', confirmAmount);
      next.addEventListener('click', advance);
      continueButton.addEventListener('click', advance);

      var detachKeys = Kit.listenKeys(root, function (event) {
        var active = document.activeElement;
        var onButton = active && active.tagName === 'BUTTON';
        if (event.key === 'Enter') {
          if (onButton) {
            return false; // the focused button's own click
          }
          if (state.phase === 'decide') {
            if (state.amount === null) {
              hint.textContent = t('Choose an amount first.');
              return true;
            }
            confirmAmount(event);
            return true;
          }
          if (state.phase === 'outcome' || state.phase === 'role_change') {
            advance();
            return true;
          }
          return false;
        }
        if (state.phase !== 'decide' || active === number) {
          return false; // typing in the number field keeps its own keys
        }
        if (event.key === '+' || event.key === '=') {
          step(1);
          return true;
        }
        if (event.key === '-' || event.key === '_') {
          step(-1);
          return true;
        }
        return false;
      }, { swallow: ['+', '=', '-', '_', 'Enter'] });

      if (rounds.length === 0) {
        finish();
        return;
      }
      startRound();
    }
  }

  MoneyExchange1Plugin.info = info;
  return MoneyExchange1Plugin;
})(jsPsychModule);

/**
 * The money_exchange_1 timeline: instructions -> practice (one round in each role, not
 * recorded) -> ready -> the game. `config.config` is spec.make_config(seed);
 * `config.accommodations` the candidate's.
 */
(function () {
  'use strict';

  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  registry.money_exchange_1 = function buildMoneyExchange1Timeline(config, client) {
    var K = window.PymetricsKit;
    var t = K.t;
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var rounds = settings.rounds || [];
    var practiceRounds = settings.practice_rounds || [];
    var endowment = settings.endowment || 10;
    var multiplier = settings.multiplier || 3;
    var asInvestor = rounds.filter(function (item) { return item.role === 'investor'; }).length;
    var asTrustee = rounds.length - asInvestor;
    var exampleSent = 4;
    var exampleBack = 5;

    function p(text) {
      return '<p>' + text + '</p>';
    }

    var instructions = K.instructions([
      K.page(t('Money Exchange'), [
        p(t('In this game you exchange points with other players, one round at a time. In ' +
          'every round you are paired with a new partner.')),
        p(t('Your partners are simulated: their decisions are modelled on choices people ' +
          'make in this game. Each partner plays one round with you and does not see your ' +
          'other rounds.')),
        p(t('There is no right or wrong way to play. Choose the way that feels right to you.')),
        p(t('There is no time limit. Most people take about four minutes.')),
      ]),
      K.page(t('How a round works'), [
        '<ul class="game-list">',
        '<li>' + t('Player A starts with %(endowment)s points and chooses how many of them ' +
          'to send to Player B, from none to all.', { endowment: endowment }) + '</li>',
        '<li>' + t('Every point sent is multiplied by %(multiplier)s: Player B receives ' +
          '%(multiplier)s points for each point sent.', { multiplier: multiplier }) + '</li>',
        '<li>' + t('Player B then chooses how many of the points they received to send back ' +
          'to Player A, from none to all.') + '</li>',
        '<li>' + t('Each player keeps what they did not send, plus what they received.') +
          '</li>',
        '</ul>',
        p(t('For example, if Player A sends %(sent)s points, Player B receives %(received)s. ' +
          'If Player B sends back %(back)s, Player A ends with %(a_total)s points and ' +
          'Player B with %(b_total)s.', {
          sent: exampleSent, received: multiplier * exampleSent, back: exampleBack,
          a_total: endowment - exampleSent + exampleBack,
          b_total: multiplier * exampleSent - exampleBack,
        })),
      ]),
      K.page(t('Your rounds and the controls'), [
        p(t('You play %(a)s rounds as Player A, then %(b)s rounds as Player B.', {
          a: asInvestor, b: asTrustee,
        })),
        p(t('Choose an amount with the slider, the \u2212 and + buttons, or by typing a ' +
          'number. Then confirm it with the Send button. Nothing is chosen in advance.')),
        '<dl class="game-keys">',
        '<div><dt><kbd>\u2190</kbd> <kbd>\u2192</kbd></dt><dd>' +
          t('Move the slider (when it has the focus)') + '</dd></div>',
        '<div><dt><kbd>\u2212</kbd> <kbd>+</kbd></dt><dd>' +
          t('One point less or more') + '</dd></div>',
        '<div><dt><kbd>' + t('Enter') + '</kbd></dt><dd>' +
          t('Confirm, or go on to the next round') +
          '</dd></div>',
        '</dl>',
        p(t('First you play %(n)s practice rounds, one in each role, with a practice ' +
          'partner. They do not count.', { n: practiceRounds.length })),
      ]),
    ]);

    var practice = {
      type: jsPsychMoneyExchange1,
      practice: true,
      rounds: practiceRounds,
      multiplier: multiplier,
      accommodation: accommodation,
    };

    var ready = K.ready(t('Ready?'), [
      p(t('The real game starts now: %(a)s rounds as Player A, then %(b)s rounds as ' +
        'Player B, each with a new partner. From here on, your choices count.', {
        a: asInvestor, b: asTrustee,
      })),
      p(t('Take your time.')),
    ], t('Start the game'));

    var main = {
      type: jsPsychMoneyExchange1,
      practice: false,
      rounds: rounds,
      multiplier: multiplier,
      accommodation: accommodation,
      record: function (type, data, at) {
        client.record(type, data, at);
      },
      on_start: function () {
        // t = 0 at the first real round; visibility and focus are watched from here.
        client.start();
      },
    };

    return [instructions, practice, ready, main];
  };
})();
