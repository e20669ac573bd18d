/**
 * jsPsychMoneyExchange2: the ultimatum game (Guth et al. 1982) and the dictator game
 * (Forsythe et al. 1994) as one jsPsych 8 trial that runs every round of the
 * session, plus the game's timeline builder.
 *
 * The schedule (spec.make_config) is a list of rounds played in three parts:
 * responder (accept or reject a simulated partner's offer), proposer (offer part of
 * the total; the simulated partner accepts when the offer is at least the round's
 * partner_min_offer) and dictator (give part of the total; no veto). Each part opens
 * with a short introduction. Events (shared SCIENCE.md, money_exchange_2) go out
 * through `record(type, data, at)`, normally PymetricsEventClient.record:
 *
 *   round_start {trial, role, total, offer (responder)}  on the frame showing the controls
 *   decision    {trial, role, total, offer, accepted (responder), rt_ms}
 *                                                        at the click or key
 *   outcome     {trial, role, total, offer, accepted (not dictator), payoff}
 *                                                        on the frame showing the result
 *
 * rt_ms is the decision's event time minus the round_start frame, measured here.
 *
 * Operation: big buttons (mouse, touch) or keys. Responder: A = accept, R = reject.
 * Amounts: the slider, the - and + buttons (or the - and + keys), or typing a whole
 * number in the box; Enter or the Confirm button confirms. No amount is preset (an
 * empty box and no slider handle) so that no default suggests an answer; stepping
 * from nothing starts at $0, as a number box does. Enter also starts a part. The
 * game is self-paced: no round has a time limit.
 * Accommodations: extended_time doubles the pauses (the partner's decision and the
 * time a result stays up; there are no deadlines to lift); colour_safe uses a
 * blue/orange palette (the two shares are also labelled in words and the partner's
 * share is hatched); reduced_motion (also from prefers-reduced-motion) turns
 * animations off.
 *
 * practice: true plays the given rounds with the same screens, records nothing and
 * ends with a Continue button.
 */
var jsPsychMoneyExchange2 = (function (jspsych) {
  'use strict';

  var version = '1.0.0';
  var Kit = window.PymetricsKit;
  var t = Kit.t;
  var el = Kit.el;

  var info = {
    name: 'money-exchange-2',
    version: version,
    parameters: {
      /** The rounds in order: [{trial, role, total, offer | partner_min_offer}]. */
      rounds: { type: jspsych.ParameterType.COMPLEX, array: true, default: undefined },
      /** How long a round's result stays on screen (ms; doubled under extended_time). */
      feedback_ms: { type: jspsych.ParameterType.INT, default: 1500 },
      /** The simulated partner's pause before its verdict (ms; doubled under extended_time). */
      partner_ms: { type: jspsych.ParameterType.INT, default: 800 },
      /** record(type, data, at): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** Unrecorded practice ending with a Continue button. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
    },
    data: {
      /** Money earned over the run, in whole dollars. */
      earned: { type: jspsych.ParameterType.INT },
      /** The amount that went (or would have gone) to the responder or recipient, per round. */
      offers: { type: jspsych.ParameterType.INT, array: true },
      /** Whether this was the practice. */
      practice: { type: jspsych.ParameterType.BOOL },
    },
  };

  /** Longest rt_ms the server accepts (spec.MAX_RT_MS): one hour on one round. */
  var MAX_RT_MS = 3600000;
  var ROLES = ['responder', 'proposer', 'dictator'];

  function money(amount) {
    return t('$%(amount)s', { amount: String(amount) });
  }

  function roundTenth(value) {
    return Math.round(value * 10) / 10;
  }

  function partTitle(role) {
    if (role === 'responder') {
      return t('You answer offers');
    }
    if (role === 'proposer') {
      return t('You make offers');
    }
    return t('You share money');
  }

  function partText(role, total) {
    if (role === 'responder') {
      return [
        t('Each round, a partner has %(total)s and offers you part of it.', { total: money(total) }),
        t('If you accept, you both get the split they offered. If you reject, neither of you gets anything this round.'),
      ];
    }
    if (role === 'proposer') {
      return [
        t('Each round, you have %(total)s. Choose how much of it to offer your partner.', { total: money(total) }),
        t('Your partner then accepts or rejects. If they accept, you both get that split. If they reject, neither of you gets anything this round.'),
      ];
    }
    return [
      t('Each round, you have %(total)s. Choose how much of it to give your partner.', { total: money(total) }),
      t('Your partner cannot refuse: you keep the rest.'),
    ];
  }

  class MoneyExchange2Plugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var settings = Kit.accommodations(trial.accommodation);
      var practice = !!trial.practice;
      var rounds = (trial.rounds || []).slice();
      var count = rounds.length;
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;
      var feedbackMs = Math.max(0, trial.feedback_ms) * settings.timeFactor;
      var partnerMs = Math.max(0, trial.partner_ms) * settings.timeFactor;

      rounds.forEach(function (item) {
        var total = item.total;
        var valid = ROLES.indexOf(item.role) !== -1 && Number.isInteger(total) && total > 0 &&
          (item.role !== 'responder' ||
            (Number.isInteger(item.offer) && item.offer >= 0 && item.offer <= total)) &&
          (item.role !== 'proposer' || Number.isInteger(item.partner_min_offer));
        if (!valid) {
          throw new Error('money_exchange_2: invalid round in the schedule: ' + JSON.stringify(item));
        }
      });
      var parts = [];
      rounds.forEach(function (item) {
        if (parts.indexOf(item.role) === -1) {
          parts.push(item.role);
        }
      });

      // --- state -----------------------------------------------------------------
      var state = {
        index: -1,          // 0-based position in the schedule
        phase: 'idle',      // intro, opening, respond, amount, partner, outcome, done
        onset: null,        // frame timestamp of the current round_start
        amount: null,       // the amount chosen so far (proposer, dictator); null = none
        earned: 0,
        offers: [],
        timers: [],
        finished: false,
      };

      // --- DOM -------------------------------------------------------------------
      var root = el('div', {
        class: Kit.rootClass('mx', settings, practice ? 'mx--practice' : ''),
        'data-testid': 'mx-game',
        'data-state': 'idle',
        'data-trial': '0',
        'data-role': '',
      });

      var counter = el('p', { class: 'mx-hud__counter', 'data-testid': 'mx-counter' });
      var partLabel = el('p', { class: 'mx-hud__part', 'data-testid': 'mx-part-label' });
      var bar = Kit.progress(practice ? t('Practice rounds done') : t('Rounds done'));
      var earnedValue = el('span', { class: 'mx-hud__earned-value', 'data-testid': 'mx-earned' });
      var hud = el('div', { class: 'mx-hud' }, [
        el('div', { class: 'mx-hud__progress' }, [partLabel, counter, bar.node]),
        el('p', { class: 'mx-hud__earned' }, [
          el('span', {
            class: 'mx-hud__earned-label',
            text: practice ? t('Practice earnings') : t('Earned so far'),
          }),
          earnedValue,
          practice ? el('span', { class: 'mx-hud__note', text: t('not counted') }) : null,
        ]),
      ]);

      // Part introduction.
      var introTitle = el('h2', { class: 'mx-intro__title', 'data-testid': 'mx-intro-title', tabindex: '-1' });
      var introBody = el('div', { class: 'mx-intro__body' });
      var introStart = el('button', {
        type: 'button', class: 'mx-btn mx-btn--primary', 'data-testid': 'mx-part-start',
        'aria-keyshortcuts': 'Enter',
      });
      var intro = el('section', { class: 'mx-intro', 'data-testid': 'mx-intro', hidden: true }, [
        introTitle, introBody, introStart,
      ]);

      // The round: the question, the split, and the controls of the role.
      var prompt = el('p', { class: 'mx-prompt', 'data-testid': 'mx-prompt', tabindex: '-1' });
      var youShare = el('span', { class: 'mx-split__part mx-split__part--you' }, [
        el('span', { class: 'mx-split__who', text: t('You') }),
        el('span', { class: 'mx-split__amount', 'data-testid': 'mx-split-you' }),
      ]);
      var partnerShare = el('span', { class: 'mx-split__part mx-split__part--partner' }, [
        el('span', { class: 'mx-split__who', text: t('Partner') }),
        el('span', { class: 'mx-split__amount', 'data-testid': 'mx-split-partner' }),
      ]);
      var split = el('div', {
        class: 'mx-split', 'data-testid': 'mx-split', role: 'img',
      }, [youShare, partnerShare]);

      function keyHint(key) {
        return el('kbd', { class: 'mx-btn__key', 'aria-hidden': 'true', text: key });
      }
      var acceptButton = el('button', {
        type: 'button', class: 'mx-btn mx-btn--accept', 'data-testid': 'mx-accept',
        'aria-keyshortcuts': 'A', disabled: true,
      }, [
        el('span', { class: 'mx-btn__icon', 'aria-hidden': 'true', text: '\u2713' }),
        el('span', { text: t('Accept') }), keyHint('A'),
      ]);
      var rejectButton = el('button', {
        type: 'button', class: 'mx-btn mx-btn--reject', 'data-testid': 'mx-reject',
        'aria-keyshortcuts': 'R', disabled: true,
      }, [
        el('span', { class: 'mx-btn__icon', 'aria-hidden': 'true', text: '\u2717' }),
        el('span', { text: t('Reject') }), keyHint('R'),
      ]);
      var answer = el('div', { class: 'mx-answer', role: 'group', 'aria-label': t('Your answer') }, [
        acceptButton, rejectButton,
      ]);

      var amountId = 'mx-amount-' + (practice ? 'practice' : 'game');
      var amountLabel = el('label', { class: 'mx-amount__label', for: amountId });
      var minusButton = el('button', {
        type: 'button', class: 'mx-step', 'data-testid': 'mx-minus', 'aria-label': t('One dollar less'),
        'aria-keyshortcuts': '-', disabled: true,
      }, ['\u2212']);
      var plusButton = el('button', {
        type: 'button', class: 'mx-step', 'data-testid': 'mx-plus', 'aria-label': t('One dollar more'),
        'aria-keyshortcuts': '+', disabled: true,
      }, ['+']);
      var slider = el('input', {
        type: 'range', class: 'mx-slider', 'data-testid': 'mx-slider', min: '0', step: '1',
        'aria-label': t('Amount'), disabled: true,
      });
      var amountInput = el('input', {
        type: 'number', id: amountId, class: 'mx-amount__input', 'data-testid': 'mx-amount',
        min: '0', step: '1', inputmode: 'numeric', autocomplete: 'off', disabled: true,
      });
      var amountError = el('p', { class: 'mx-amount__error', 'data-testid': 'mx-amount-error', hidden: true });
      var confirmButton = el('button', {
        type: 'button', class: 'mx-btn mx-btn--primary', 'data-testid': 'mx-confirm',
        'aria-keyshortcuts': 'Enter', disabled: true,
      }, [el('span', { text: t('Confirm') }), keyHint(t('Enter'))]);
      var amountBox = el('div', { class: 'mx-amount mx-amount--unset', 'data-testid': 'mx-amount-box' }, [
        el('div', { class: 'mx-amount__entry' }, [
          amountLabel,
          el('span', { class: 'mx-amount__field' }, [
            el('span', { class: 'mx-amount__currency', 'aria-hidden': 'true', text: t('$') }),
            amountInput,
          ]),
        ]),
        el('div', { class: 'mx-amount__stepper' }, [minusButton, slider, plusButton]),
        amountError,
        confirmButton,
      ]);

      var round = el('section', { class: 'mx-round', 'data-testid': 'mx-round', hidden: true }, [
        prompt, split, answer, amountBox,
      ]);

      var result = el('p', { class: 'mx-result', 'data-testid': 'mx-result', hidden: true });
      var status = el('p', {
        class: 'mx-status', 'data-testid': 'mx-status', role: 'status', 'aria-live': 'polite',
      });
      var continueButton = el('button', {
        type: 'button', class: 'mx-btn mx-btn--primary', 'data-testid': 'mx-continue', hidden: true,
      }, [el('span', { text: t('Continue') }), keyHint(t('Enter'))]);

      root.appendChild(hud);
      root.appendChild(intro);
      root.appendChild(round);
      root.appendChild(result);
      root.appendChild(status);
      root.appendChild(continueButton);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      // --- helpers ---------------------------------------------------------------
      var emit = Kit.recorder(record, 'money_exchange_2');

      function later(callback, ms) {
        state.timers.push(jsPsych.pluginAPI.setTimeout(callback, ms));
      }

      function clearTimers() {
        state.timers.forEach(function (handle) { clearTimeout(handle); });
        state.timers = [];
      }

      function setPhase(phase) {
        state.phase = phase;
        root.setAttribute('data-state', phase);
      }

      function current() {
        return rounds[state.index];
      }

      /**
       * Keep keyboard users in the game: move focus only if it was lost, was ours, or
       * sits on the page around the game (jsPsych focuses its container at each trial).
       */
      function focusIfLost(node) {
        var active = document.activeElement;
        if (active === null || active === document.body || root.contains(active) ||
            active.contains(root)) {
          node.focus({ preventScroll: true });
        }
      }

      function renderHud() {
        var item = current();
        var part = parts.indexOf(item.role) + 1;
        counter.textContent = practice
          ? t('Practice round %(n)s of %(total)s', { n: state.index + 1, total: count })
          : t('Round %(n)s of %(total)s', { n: state.index + 1, total: count });
        partLabel.textContent = t('Part %(part)s of %(parts)s: %(title)s', {
          part: part, parts: parts.length, title: partTitle(item.role),
        });
        root.setAttribute('data-trial', String(item.trial));
        root.setAttribute('data-role', item.role);
        bar.set(state.index, count);
        earnedValue.textContent = money(state.earned);
      }

      function renderSplit(toYou, toPartner) {
        var total = current().total;
        var unset = toYou === null;
        split.classList.toggle('mx-split--unset', unset);
        youShare.querySelector('.mx-split__amount').textContent = unset ? '?' : money(toYou);
        partnerShare.querySelector('.mx-split__amount').textContent = unset ? '?' : money(toPartner);
        var youPercent = unset ? 50 : (100 * toYou) / total;
        youShare.style.flexGrow = String(youPercent);
        partnerShare.style.flexGrow = String(100 - youPercent);
        youShare.classList.toggle('mx-split__part--empty', !unset && toYou === 0);
        partnerShare.classList.toggle('mx-split__part--empty', !unset && toPartner === 0);
        split.setAttribute('aria-label', unset
          ? t('No split chosen yet')
          : t('You get %(you)s, your partner gets %(partner)s', {
            you: money(toYou), partner: money(toPartner),
          }));
      }

      // --- parts -----------------------------------------------------------------
      function next() {
        clearTimers();
        result.hidden = true;
        var previous = state.index >= 0 ? current().role : null;
        state.index += 1;
        if (state.index >= count) {
          finish();
          return;
        }
        renderHud();
        if (current().role !== previous) {
          showIntro();
        } else {
          startRound();
        }
      }

      function showIntro() {
        var item = current();
        var part = parts.indexOf(item.role) + 1;
        setPhase('intro');
        round.hidden = true;
        intro.hidden = false;
        introTitle.textContent = t('Part %(part)s of %(parts)s: %(title)s', {
          part: part, parts: parts.length, title: partTitle(item.role),
        });
        introBody.innerHTML = '';
        partText(item.role, item.total).forEach(function (text) {
          introBody.appendChild(el('p', { text: text }));
        });
        if (practice) {
          introBody.appendChild(el('p', { class: 'mx-intro__note', text: t('This is a practice round. It does not count.') }));
        }
        introStart.textContent = t('Start part %(part)s', { part: part });
        status.textContent = '';
        focusIfLost(introStart);
      }

      function startRound() {
        var item = current();
        var responder = item.role === 'responder';
        intro.hidden = true;
        round.hidden = false;
        answer.hidden = !responder;
        amountBox.hidden = responder;
        acceptButton.disabled = true;
        rejectButton.disabled = true;
        setAmountControls(false);
        state.onset = null;
        state.amount = null;
        if (responder) {
          prompt.textContent = t('Your partner has %(total)s and offers you %(offer)s. They would keep %(keep)s.', {
            total: money(item.total), offer: money(item.offer), keep: money(item.total - item.offer),
          });
          renderSplit(item.offer, item.total - item.offer);
        } else {
          prompt.textContent = item.role === 'proposer'
            ? t('You have %(total)s. How much do you offer your partner? They can accept or reject.', { total: money(item.total) })
            : t('You have %(total)s. How much do you give your partner? They cannot refuse.', { total: money(item.total) });
          amountLabel.textContent = item.role === 'proposer'
            ? t('Offer to your partner, in dollars (0 to %(total)s)', { total: item.total })
            : t('Give to your partner, in dollars (0 to %(total)s)', { total: item.total });
          slider.max = String(item.total);
          amountInput.max = String(item.total);
          setAmount(null, null);
        }
        status.textContent = '';
        setPhase('opening');
        // The controls become usable on the frame that paints them: that frame is the
        // onset from which rt_ms is measured.
        Kit.onPaint(function (timestamp) {
          if (state.finished || state.phase !== 'opening') {
            return;
          }
          state.onset = timestamp;
          var data = { trial: item.trial, role: item.role, total: item.total };
          if (responder) {
            data.offer = item.offer;
            acceptButton.disabled = false;
            rejectButton.disabled = false;
            setPhase('respond');
          } else {
            setAmountControls(true);
            setPhase('amount');
          }
          focusIfLost(prompt);
          emit('round_start', data, timestamp);
        });
      }

      // --- amounts ---------------------------------------------------------------
      function setAmountControls(enabled) {
        [minusButton, plusButton, slider, amountInput].forEach(function (node) {
          node.disabled = !enabled;
        });
        confirmButton.disabled = !enabled || state.amount === null;
      }

      /** Set the chosen amount (null = none); `source` is the control that set it. */
      function setAmount(amount, source) {
        var item = current();
        state.amount = amount;
        amountBox.classList.toggle('mx-amount--unset', amount === null);
        amountError.hidden = true;
        if (source !== slider) {
          slider.value = String(amount === null ? 0 : amount);
        }
        if (source !== amountInput) {
          amountInput.value = amount === null ? '' : String(amount);
        }
        slider.setAttribute('aria-valuetext', amount === null
          ? t('No amount chosen yet')
          : money(amount));
        if (amount === null) {
          renderSplit(null, null);
        } else {
          renderSplit(item.total - amount, amount);
        }
        confirmButton.disabled = amount === null || state.phase !== 'amount';
      }

      function step(delta) {
        if (state.phase !== 'amount') {
          return;
        }
        var total = current().total;
        var from = state.amount === null ? 0 : state.amount;
        setAmount(Math.max(0, Math.min(total, from + delta)), null);
      }

      function typed() {
        if (state.phase !== 'amount') {
          return;
        }
        var text = amountInput.value.trim();
        var total = current().total;
        if (text === '' && !amountInput.validity.badInput) {
          setAmount(null, amountInput);
          return;
        }
        var value = Number(text);
        if (!/^\d+$/.test(text) || value > total) {
          state.amount = null;
          confirmButton.disabled = true;
          amountBox.classList.add('mx-amount--unset');
          renderSplit(null, null);
          amountError.textContent = t('Enter a whole number from 0 to %(total)s.', { total: total });
          amountError.hidden = false;
          return;
        }
        setAmount(value, amountInput);
      }

      // --- decisions -------------------------------------------------------------
      function respond(accepted, event) {
        if (state.phase !== 'respond' || state.onset === null) {
          return;
        }
        var item = current();
        var at = Kit.eventTime(event);
        acceptButton.disabled = true;
        rejectButton.disabled = true;
        emit('decision', {
          trial: item.trial, role: item.role, total: item.total, offer: item.offer,
          accepted: accepted, rt_ms: roundTenth(Math.min(MAX_RT_MS, Math.max(0, at - state.onset))),
        }, at);
        showOutcome(item.offer, accepted);
      }

      function confirm(event) {
        if (state.phase !== 'amount' || state.onset === null || state.amount === null) {
          return;
        }
        var item = current();
        var at = Kit.eventTime(event);
        var offer = state.amount;
        setAmountControls(false);
        confirmButton.disabled = true;
        emit('decision', {
          trial: item.trial, role: item.role, total: item.total, offer: offer,
          rt_ms: roundTenth(Math.min(MAX_RT_MS, Math.max(0, at - state.onset))),
        }, at);
        if (item.role === 'proposer') {
          setPhase('partner');
          status.textContent = t('Your partner is deciding\u2026');
          later(function () {
            showOutcome(offer, offer >= item.partner_min_offer);
          }, partnerMs);
        } else {
          showOutcome(offer, true);
        }
      }

      function payoff(item, offer, accepted) {
        if (item.role === 'dictator') {
          return item.total - offer;
        }
        if (!accepted) {
          return 0;
        }
        return item.role === 'responder' ? offer : item.total - offer;
      }

      function outcomeText(item, offer, accepted) {
        var mine = payoff(item, offer, accepted);
        var theirs = accepted ? (item.role === 'responder' ? item.total - offer : offer) : 0;
        var shares = { you: money(mine), partner: money(theirs), offer: money(offer) };
        if (item.role === 'dictator') {
          return t('You gave %(offer)s. You keep %(you)s; your partner gets %(partner)s.', shares);
        }
        if (item.role === 'responder') {
          return accepted
            ? t('You accepted. You get %(you)s; your partner gets %(partner)s.', shares)
            : t('You rejected the offer. Neither of you gets anything this round.');
        }
        return accepted
          ? t('Your partner accepted your offer of %(offer)s. You get %(you)s; your partner gets %(partner)s.', shares)
          : t('Your partner rejected your offer of %(offer)s. Neither of you gets anything this round.', shares);
      }

      function showOutcome(offer, accepted) {
        var item = current();
        var mine = payoff(item, offer, accepted);
        state.earned += mine;
        state.offers.push(offer);
        setPhase('outcome-pending');
        result.innerHTML = '';
        result.appendChild(el('span', {
          class: 'mx-result__icon', 'aria-hidden': 'true',
          text: item.role === 'dictator' ? '\u2192' : (accepted ? '\u2713' : '\u2717'),
        }));
        result.appendChild(document.createTextNode(' ' + outcomeText(item, offer, accepted)));
        result.classList.toggle('mx-result--rejected', !accepted);
        result.hidden = false;
        root.setAttribute('data-accepted', accepted ? '1' : '0');
        restartAnimation(result, 'mx-result--in');
        earnedValue.textContent = money(state.earned);
        status.textContent = outcomeText(item, offer, accepted) + ' ' +
          t('Earned so far: %(earned)s.', { earned: money(state.earned) });
        bar.set(state.index + 1, count);
        Kit.onPaint(function (timestamp) {
          if (state.finished) {
            return;
          }
          setPhase('outcome');
          var data = { trial: item.trial, role: item.role, total: item.total, offer: offer };
          if (item.role !== 'dictator') {
            data.accepted = accepted;
          }
          data.payoff = mine;
          emit('outcome', data, timestamp);
          if (practice && state.index >= count - 1) {
            later(function () {
              setPhase('done');
              round.hidden = true;
              status.textContent = t('That was the last practice round.');
              continueButton.hidden = false;
              continueButton.focus({ preventScroll: true });
            }, feedbackMs);
            return;
          }
          later(next, feedbackMs);
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
        clearTimers();
        detachKeys();
        display_element.innerHTML = '';
        jsPsych.finishTrial({
          earned: state.earned,
          offers: state.offers.slice(),
          practice: practice,
        });
      }

      // --- input -----------------------------------------------------------------
      function onKey(event) {
        var key = event.key;
        var onButton = event.target && event.target.tagName === 'BUTTON' && root.contains(event.target);
        if (state.phase === 'intro' && key === 'Enter' && !onButton) {
          startRound();
          return true;
        }
        if (state.phase === 'done' && key === 'Enter' && !onButton) {
          finish();
          return true;
        }
        if (state.phase === 'respond') {
          if (key === 'a' || key === 'A') {
            respond(true, event);
            return true;
          }
          if (key === 'r' || key === 'R') {
            respond(false, event);
            return true;
          }
        }
        if (state.phase === 'amount') {
          if (key === '+' || key === '=') {
            step(1);
            return true;
          }
          if (key === '-' || key === '_') {
            step(-1);
            return true;
          }
          // A focused button does its own thing on Enter (e.g. the - and + buttons).
          if (key === 'Enter' && !onButton) {
            confirm(event);
            return true;
          }
        }
        return false;
      }

      var detachKeys = Kit.listenKeys(root, onKey, {
        swallow: ['a', 'A', 'r', 'R', '+', '=', '-', '_', 'Enter'],
      });
      introStart.addEventListener('click', function () {
        if (state.phase === 'intro') {
          startRound();
        }
      });
      acceptButton.addEventListener('click', function (event) { respond(true, event); });
      rejectButton.addEventListener('click', function (event) { respond(false, event); });
      minusButton.addEventListener('click', function () { step(-1); });
      plusButton.addEventListener('click', function () { step(1); });
      slider.addEventListener('input', function () {
        if (state.phase === 'amount') {
          setAmount(Number(slider.value), slider);
        }
      });
      // Choosing the value the handle already rests on changes nothing, so no input
      // event comes: a click or an arrow key on the slider still chooses that value.
      function sliderTouched() {
        if (state.phase === 'amount' && state.amount === null) {
          setAmount(Number(slider.value), slider);
        }
      }
      slider.addEventListener('pointerup', sliderTouched);
      slider.addEventListener('keyup', function (event) {
        if (/^(Arrow|Home$|End$|Page)/.test(event.key)) {
          sliderTouched();
        }
      });
      amountInput.addEventListener('input', typed);
      confirmButton.addEventListener('click', confirm);
      continueButton.addEventListener('click', finish);

      if (count === 0) {
        finish();
        return;
      }
      next();
    }
  }

  MoneyExchange2Plugin.info = info;
  return MoneyExchange2Plugin;
})(jsPsychModule);

/**
 * The game's timeline: instructions -> practice (one unrecorded round per role) ->
 * ready screen -> the recorded rounds (client.start() when they begin).
 * `config.config` is the session's make_config(seed) schedule.
 */
(function () {
  'use strict';

  var Kit = window.PymetricsKit;
  var t = Kit.t;
  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  registry.money_exchange_2 = function buildMoneyExchange2Timeline(config, client) {
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var acc = Kit.accommodations(accommodation);
    var rounds = settings.rounds || [];
    var n = rounds.length;
    var common = {
      type: jsPsychMoneyExchange2,
      feedback_ms: settings.feedback_ms === undefined ? 1500 : settings.feedback_ms,
      partner_ms: settings.partner_ms === undefined ? 800 : settings.partner_ms,
      accommodation: accommodation,
    };
    /** A paragraph of translated text (pass `t(...)` so the literal is collected). */
    function p(text) {
      return '<p>' + Kit.escapeHtml(text) + '</p>';
    }
    function item(text) {
      return '<li>' + Kit.escapeHtml(text) + '</li>';
    }
    function key(keys, action) {
      return '<div><dt>' + keys.map(function (name) {
        return '<kbd>' + Kit.escapeHtml(name) + '</kbd>';
      }).join(' ' + Kit.escapeHtml(t('or')) + ' ') + '</dt><dd>' + Kit.escapeHtml(action) + '</dd></div>';
    }
    var longer = acc.extendedTime
      ? p(t('Each result stays on screen a little longer for you.'))
      : '';

    var instructions = Kit.instructions([
      Kit.page(Kit.escapeHtml(t('Money Exchange 2')), [
        p(t('In this game you split sums of play money with partners, in %(rounds)s short rounds and three parts.', { rounds: n })),
        p(t('There is no right or wrong way to play. Choose what feels right to you each time.')),
        p(t('Your partners are computer players: their choices follow set rules.')),
        p(t('There is no time limit. Most people take about five minutes.')),
      ]),
      Kit.page(Kit.escapeHtml(t('The three parts')), [
        '<ul class="game-list">',
        item(t('Answering offers: a partner offers you part of their money. Accept, and you both get that split. Reject, and neither of you gets anything that round.')),
        item(t('Making offers: you offer your partner part of your money. If they accept, you both get that split. If they reject, neither of you gets anything that round.')),
        item(t('Sharing: you give your partner any part of your money. They cannot refuse.')),
        '</ul>',
        longer,
      ]),
      Kit.page(Kit.escapeHtml(t('Controls')), [
        p(t('Use the big buttons with a mouse or your finger, or the keyboard:')),
        '<dl class="game-keys">',
        key(['A'], t('Accept an offer')),
        key(['R'], t('Reject an offer')),
        key(['\u2212', '+'], t('One dollar less or more (you can also use the slider or type the amount)')),
        key([t('Enter')], t('Confirm your amount')),
        '</dl>',
        p(t('First you will play one practice round of each part. They do not count.')),
      ]),
    ]);

    var practice = Object.assign({}, common, {
      practice: true,
      rounds: settings.practice || [],
    });

    var ready = Kit.ready(t('Ready?'), [
      p(t('The real game starts now: %(rounds)s rounds in three parts. From here on, your choices count.', { rounds: n })),
      p(t('Take your time: there is no time limit.')),
    ], t('Start the game'));

    var main = Object.assign({}, common, {
      practice: false,
      rounds: rounds,
      record: function (type, data, at) {
        client.record(type, data, at);
      },
      on_start: function () {
        // t = 0 when the first part opens; visibility and focus are watched from here.
        client.start();
      },
    });

    return [instructions, practice, ready, main];
  };
})();
