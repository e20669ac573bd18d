/**
 * jsPsychBalloons: the Balloon Analogue Risk Task (Lejuez et al. 2002) as one
 * jsPsych 8 trial that runs every balloon of the session.
 *
 * Each pump adds `cents_per_pump` to the balloon's temporary bank; collecting moves
 * the bank to the total; the pump whose count reaches the balloon's burst point
 * bursts it and the bank is lost. Events (shared SCIENCE.md, balloons) go out
 * through the `record(type, data)` callback, normally PymetricsEventClient.record:
 *
 *   balloon_start {balloon}            balloon numbered 1..N
 *   pump          {balloon, pumps}     pumps = count so far on this balloon
 *   collect       {balloon, pumps}  or  burst {balloon, pumps}   exactly one per balloon
 *
 * Operation: "Pump" and "Collect" buttons (mouse, touch) or Space = pump,
 * Enter = collect. Key auto-repeat is ignored, and so is any input during the
 * short pause between balloons. Accommodations: reduced_motion (also honoured
 * from prefers-reduced-motion), colour_safe (blue/orange palette), extended_time
 * (longer pauses to read the feedback; the task has no time limit anyway).
 *
 * practice: true plays one balloon (burst_points[0]) with feedback and records
 * nothing. The trial's data: {total_cents, bursts, pumps: [per balloon], practice}.
 */
var jsPsychBalloons = (function (jspsych) {
  'use strict';

  var version = '1.0.0';

  var info = {
    name: 'balloons',
    version: version,
    parameters: {
      /** Burst point of each balloon, 1..max_pumps; its length is the number of balloons. */
      burst_points: { type: jspsych.ParameterType.INT, array: true, default: undefined },
      /** Cents added to the temporary bank by each pump. */
      cents_per_pump: { type: jspsych.ParameterType.INT, default: 5 },
      /** Largest possible burst point; sets how big a balloon can grow. */
      max_pumps: { type: jspsych.ParameterType.INT, default: 128 },
      /** record(type, data): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** One unrecorded practice balloon with feedback. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
      /** Pause after each balloon (ms) in which input is ignored; doubled under extended_time. */
      transition_ms: { type: jspsych.ParameterType.INT, default: 600 },
      /** Pause after a burst (ms): a little longer, so the message can be read. */
      burst_transition_ms: { type: jspsych.ParameterType.INT, default: 1100 },
    },
    data: {
      /** Money moved to the total over the whole session, in cents. */
      total_cents: { type: jspsych.ParameterType.INT },
      /** Number of balloons that burst. */
      bursts: { type: jspsych.ParameterType.INT },
      /** Pumps on each balloon, in order. */
      pumps: { type: jspsych.ParameterType.INT, array: true },
      /** Whether this was the practice balloon. */
      practice: { type: jspsych.ParameterType.BOOL },
    },
  };

  var SVG_NS = 'http://www.w3.org/2000/svg';
  var MIN_SCALE = 0.24;

  /** Every user-facing string goes through the kit's translation (named placeholders). */
  function t(text, params) {
    return window.PymetricsKit.t(text, params);
  }

  function pumpsText(pumps) {
    return pumps === 1 ? t('1 pump') : t('%(count)s pumps', { count: pumps });
  }

  function formatDollars(cents) {
    var sign = cents < 0 ? '-' : '';
    return sign + '$' + (Math.abs(cents) / 100).toFixed(2);
  }

  function prefersReducedMotion() {
    try {
      return typeof window !== 'undefined' && typeof window.matchMedia === 'function' &&
        window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    } catch (err) {
      return false;
    }
  }

  /** Balloon size for a pump count: grows fast at first so every pump shows. */
  function balloonScale(pumps, maxPumps) {
    var share = Math.min(1, Math.max(0, pumps / Math.max(1, maxPumps)));
    return MIN_SCALE + (1 - MIN_SCALE) * Math.pow(share, 0.6);
  }

  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === 'text') {
        node.textContent = attributes[name];
      } else {
        node.setAttribute(name, attributes[name]);
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  function svgElement(tag, attributes) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attributes).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    return node;
  }

  function balloonSvg() {
    var svg = svgElement('svg', {
      viewBox: '0 0 200 232', class: 'bart-balloon__svg', 'aria-hidden': 'true', focusable: 'false',
    });
    svg.appendChild(svgElement('path', {
      class: 'bart-balloon__skin',
      d: 'M100 8 C 152 8 188 50 188 104 C 188 160 146 206 106 214 L 100 214 L 94 214 ' +
        'C 54 206 12 160 12 104 C 12 50 48 8 100 8 Z',
    }));
    svg.appendChild(svgElement('path', {
      class: 'bart-balloon__shine',
      d: 'M58 52 C 70 36 88 30 102 30 C 86 38 72 52 66 72 C 62 84 52 70 58 52 Z',
    }));
    svg.appendChild(svgElement('path', {
      class: 'bart-balloon__knot', d: 'M90 226 L 100 212 L 110 226 Q 100 231 90 226 Z',
    }));
    return svg;
  }

  function stringSvg() {
    var svg = svgElement('svg', {
      viewBox: '0 0 40 80', class: 'bart-string', 'aria-hidden': 'true', focusable: 'false',
    });
    svg.appendChild(svgElement('path', {
      d: 'M20 0 C 8 20 32 40 20 60 C 14 70 22 76 20 80', class: 'bart-string__line',
    }));
    return svg;
  }

  function burstSvg() {
    var svg = svgElement('svg', {
      viewBox: '0 0 200 200', class: 'bart-burst', 'aria-hidden': 'true', focusable: 'false',
    });
    var points = [];
    for (var i = 0; i < 16; i++) {
      var angle = (Math.PI * 2 * i) / 16;
      var radius = i % 2 === 0 ? 92 : 46;
      points.push((100 + radius * Math.cos(angle)).toFixed(1) + ',' +
        (100 + radius * Math.sin(angle)).toFixed(1));
    }
    svg.appendChild(svgElement('polygon', { class: 'bart-burst__star', points: points.join(' ') }));
    var label = svgElement('text', { x: '100', y: '112', class: 'bart-burst__text', 'text-anchor': 'middle' });
    label.textContent = t('POP!');
    svg.appendChild(label);
    return svg;
  }

  class BalloonsPlugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var accommodation = trial.accommodation || {};
      var practice = !!trial.practice;
      var burstPoints = (trial.burst_points || []).slice(0, practice ? 1 : undefined);
      var balloonCount = burstPoints.length;
      var maxPumps = Math.max(1, trial.max_pumps);
      var centsPerPump = trial.cents_per_pump;
      var reducedMotion = !!accommodation.reduced_motion || prefersReducedMotion();
      var timeFactor = accommodation.extended_time ? 2 : 1;
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;

      burstPoints.forEach(function (point) {
        if (!Number.isInteger(point) || point < 1) {
          throw new Error('balloons: burst_points must be integers >= 1, got ' + point);
        }
      });

      // --- state -------------------------------------------------------------
      var state = {
        balloon: 0,          // 1-based number of the current balloon
        pumps: 0,            // pumps on the current balloon
        totalCents: 0,
        bursts: 0,
        pumpsPerBalloon: [],
        outcome: null,       // null while playing, then 'collect' or 'burst'
        accepting: false,    // false during transitions and after the end
        finished: false,
      };

      // --- DOM ---------------------------------------------------------------
      var root = element('div', {
        class: 'bart' + (accommodation.colour_safe ? ' bart--colour-safe' : '') +
          (reducedMotion ? ' bart--reduced-motion' : '') + (practice ? ' bart--practice' : ''),
        'data-testid': 'balloons-game',
      });

      var counter = element('p', { class: 'bart-hud__counter', 'data-testid': 'balloon-counter' });
      var progressFill = element('span', { class: 'bart-progress__fill' });
      var progress = element('span', { class: 'bart-progress', 'aria-hidden': 'true' }, [progressFill]);
      var bankValue = element('span', { class: 'bart-figure__value', 'data-testid': 'balloon-bank' });
      var pumpsValue = element('span', { class: 'bart-figure__note' });
      var totalValue = element('span', { class: 'bart-figure__value', 'data-testid': 'balloon-total' });

      var hud = element('div', { class: 'bart-hud' }, [
        element('div', { class: 'bart-hud__progress' }, [counter, progress]),
        element('div', { class: 'bart-hud__figures' }, [
          element('p', { class: 'bart-figure bart-figure--bank' }, [
            element('span', { class: 'bart-figure__label', text: t('This balloon') }),
            bankValue,
            pumpsValue,
          ]),
          element('p', { class: 'bart-figure bart-figure--total' }, [
            element('span', {
              class: 'bart-figure__label', text: practice ? t('Practice total') : t('Total earned'),
            }),
            totalValue,
            element('span', {
              class: 'bart-figure__note', text: practice ? t('not counted') : t('safe, kept'),
            }),
          ]),
        ]),
      ]);

      var balloonBody = element('div', { class: 'bart-balloon' }, [balloonSvg()]);
      var burstMark = element('div', { class: 'bart-burst-wrap', hidden: 'hidden' }, [burstSvg()]);
      var stage = element('div', { class: 'bart-stage', role: 'img' }, [
        element('div', { class: 'bart-stage__balloon' }, [balloonBody, burstMark]),
        stringSvg(),
      ]);

      var status = element('p', {
        class: 'bart-status', 'data-testid': 'balloon-status', role: 'status', 'aria-live': 'polite',
      });

      var pumpButton = element('button', {
        type: 'button', class: 'bart-btn bart-btn--pump', 'data-testid': 'balloon-pump',
        'aria-keyshortcuts': 'Space',
      }, [
        element('span', { class: 'bart-btn__label', text: t('Pump') }),
        element('kbd', { class: 'bart-btn__key', text: t('Space') }),
      ]);
      var collectButton = element('button', {
        type: 'button', class: 'bart-btn bart-btn--collect', 'data-testid': 'balloon-collect',
        'aria-keyshortcuts': 'Enter',
      }, [
        element('span', { class: 'bart-btn__label', text: t('Collect $$$') }),
        element('kbd', { class: 'bart-btn__key', text: t('Enter') }),
      ]);
      var continueButton = element('button', {
        type: 'button', class: 'bart-btn bart-btn--continue', 'data-testid': 'balloon-continue',
        hidden: 'hidden',
      }, [element('span', { class: 'bart-btn__label', text: t('Continue') })]);

      var actions = element('div', { class: 'bart-actions' }, [pumpButton, collectButton, continueButton]);
      var keysHint = element('p', { class: 'bart-keys' });
      // One translatable sentence; the keys are placed where the translation puts them.
      keysHint.innerHTML = t('Keyboard: %(space)s pumps, %(enter)s collects.', {
        space: '<kbd>' + window.PymetricsKit.escapeHtml(t('Space')) + '</kbd>',
        enter: '<kbd>' + window.PymetricsKit.escapeHtml(t('Enter')) + '</kbd>',
      });

      root.appendChild(hud);
      root.appendChild(stage);
      root.appendChild(status);
      root.appendChild(actions);
      root.appendChild(keysHint);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      var refocus = null; // button to focus again when the next balloon starts

      // --- helpers -------------------------------------------------------------
      var emit = window.PymetricsKit.recorder(record, 'balloons');

      function setStatus(text) {
        status.textContent = text;
      }

      function render() {
        // Once a balloon has ended its bank is empty: moved to the total, or lost.
        var bankCents = state.outcome ? 0 : state.pumps * centsPerPump;
        var pumped = pumpsText(state.pumps);
        counter.textContent = practice
          ? t('Practice balloon')
          : t('Balloon %(n)s of %(total)s', { n: state.balloon, total: balloonCount });
        progressFill.style.width = (balloonCount ? (100 * (state.balloon - 1)) / balloonCount : 0) + '%';
        bankValue.textContent = formatDollars(bankCents);
        pumpsValue.textContent = state.outcome === 'burst'
          ? t('%(pumps)s · burst', { pumps: pumped })
          : (state.outcome === 'collect' ? t('%(pumps)s · collected', { pumps: pumped }) : pumped);
        totalValue.textContent = formatDollars(state.totalCents);
        balloonBody.style.setProperty('--bart-scale', balloonScale(state.pumps, maxPumps).toFixed(4));
        stage.setAttribute('aria-label', state.pumps === 0
          ? t('An empty balloon')
          : (state.pumps === 1
            ? t('A balloon pumped once')
            : t('A balloon pumped %(count)s times', { count: state.pumps })));
        var canAct = state.accepting;
        pumpButton.disabled = !canAct || state.pumps >= maxPumps;
        collectButton.disabled = !canAct;
      }

      function restartAnimation(node, className) {
        if (reducedMotion) {
          return;
        }
        node.classList.remove(className);
        // Reading layout restarts the CSS animation on the next class change.
        void node.offsetWidth;
        node.classList.add(className);
      }

      function startBalloon() {
        state.balloon += 1;
        state.pumps = 0;
        state.outcome = null;
        // Input waits for the frame that shows the new balloon, so no pump can be
        // recorded before the balloon's onset.
        state.accepting = false;
        root.classList.remove('bart--burst', 'bart--collected');
        balloonBody.classList.remove('bart-balloon--float', 'bart-balloon--pumped');
        burstMark.classList.remove('bart-burst-wrap--pop');
        burstMark.hidden = true;
        balloonBody.hidden = false;
        restartAnimation(balloonBody, 'bart-balloon--enter');
        render();
        setStatus(state.balloon === 1
          ? t('Pump to inflate the balloon, or collect the money in it.')
          : (practice ? '' : t('New balloon.')));
        var shown = state.balloon;
        // The balloon's onset is the frame that paints it (docs/timing.md).
        window.PymetricsKit.onPaint(function (frameTime) {
          if (state.finished || state.balloon !== shown) {
            return;
          }
          emit('balloon_start', { balloon: shown }, frameTime);
          state.accepting = true;
          render();
          if (refocus && (document.activeElement === null || document.activeElement === document.body)) {
            // The button was disabled during the pause, which drops focus: give it back
            // so keyboard and switch users stay where they were.
            refocus.focus({ preventScroll: true });
          }
          refocus = null;
        });
      }

      function inputTime(event) {
        return event ? window.PymetricsKit.eventTime(event) : undefined;
      }

      function pump(event) {
        if (!state.accepting || state.pumps >= maxPumps) {
          return;
        }
        state.pumps += 1;
        emit('pump', { balloon: state.balloon, pumps: state.pumps }, inputTime(event));
        if (state.pumps === 1 && state.balloon > 1) {
          setStatus('');
        }
        if (state.pumps >= burstPoints[state.balloon - 1]) {
          burst();
          return;
        }
        render();
        restartAnimation(balloonBody, 'bart-balloon--pumped');
        if (state.pumps >= maxPumps) {
          setStatus(t('This balloon cannot get any bigger. Collect your money.'));
        }
      }

      function collect(event) {
        if (!state.accepting) {
          return;
        }
        var bankCents = state.pumps * centsPerPump;
        state.accepting = false;
        state.totalCents += bankCents;
        state.outcome = 'collect';
        state.pumpsPerBalloon.push(state.pumps);
        emit('collect', { balloon: state.balloon, pumps: state.pumps }, inputTime(event));
        root.classList.add('bart--collected');
        restartAnimation(balloonBody, 'bart-balloon--float');
        restartAnimation(totalValue, 'bart-figure__value--grew');
        if (practice) {
          setStatus(t('You collected %(amount)s. In the real game it would be added to your ' +
            'total. Each balloon can burst at a different point.', { amount: formatDollars(bankCents) }));
        } else {
          setStatus(t('You collected %(amount)s.', { amount: formatDollars(bankCents) }));
        }
        endBalloon(trial.transition_ms);
      }

      function burst() {
        var lostCents = state.pumps * centsPerPump;
        state.accepting = false;
        state.bursts += 1;
        state.outcome = 'burst';
        state.pumpsPerBalloon.push(state.pumps);
        emit('burst', { balloon: state.balloon, pumps: state.pumps });
        root.classList.add('bart--burst');
        balloonBody.hidden = true;
        burstMark.hidden = false;
        restartAnimation(burstMark, 'bart-burst-wrap--pop');
        if (practice) {
          setStatus(t('The balloon burst after %(pumps)s, so the %(amount)s in it was lost. In ' +
            'the real game your total stays safe, and each balloon can burst at a different point.',
          { pumps: pumpsText(state.pumps), amount: formatDollars(lostCents) }));
        } else {
          setStatus(t('The balloon burst. The %(amount)s in it was lost; your total is safe.',
            { amount: formatDollars(lostCents) }));
        }
        endBalloon(trial.burst_transition_ms);
      }

      function endBalloon(pauseMs) {
        var focused = document.activeElement;
        refocus = focused === pumpButton || focused === collectButton ? focused : null;
        render();
        var wait = Math.max(0, pauseMs) * timeFactor;
        if (practice) {
          // Let the candidate read the feedback, then go on when they are ready.
          jsPsych.pluginAPI.setTimeout(function () {
            pumpButton.hidden = true;
            collectButton.hidden = true;
            keysHint.hidden = true;
            continueButton.hidden = false;
            continueButton.focus();
          }, wait);
          return;
        }
        jsPsych.pluginAPI.setTimeout(function () {
          if (state.balloon >= balloonCount) {
            finish();
          } else {
            startBalloon();
          }
        }, wait);
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
          total_cents: state.totalCents,
          bursts: state.bursts,
          pumps: state.pumpsPerBalloon.slice(),
          practice: practice,
        });
      }

      // --- input ---------------------------------------------------------------
      function isSpace(event) {
        return event.key === ' ' || event.code === 'Space' || event.key === 'Spacebar';
      }

      function isEnter(event) {
        return event.key === 'Enter' || event.code === 'Enter' || event.code === 'NumpadEnter';
      }

      function detachKeys() {
        document.removeEventListener('keydown', onKeyDown, true);
        document.removeEventListener('keyup', onKeyUp, true);
      }

      function onKeyDown(event) {
        if (!root.isConnected) {
          // The experiment was ended from outside (e.g. aborted): let keys be keys again.
          detachKeys();
          return;
        }
        if (event.ctrlKey || event.altKey || event.metaKey) {
          return;
        }
        var space = isSpace(event);
        var enter = isEnter(event);
        if (!space && !enter) {
          return;
        }
        // Space and Enter always mean pump and collect, whatever has focus: stop the
        // browser from also "clicking" a focused button or scrolling the page.
        event.preventDefault();
        if (event.repeat) {
          return;
        }
        if (!continueButton.hidden) {
          finish();
        } else if (space) {
          pump(event);
        } else {
          collect(event);
        }
      }

      function onKeyUp(event) {
        if (!root.isConnected) {
          detachKeys();
          return;
        }
        if (isSpace(event) || isEnter(event)) {
          // Chromium activates a focused button on Space keyup.
          event.preventDefault();
        }
      }

      pumpButton.addEventListener('click', pump);
      collectButton.addEventListener('click', collect);
      continueButton.addEventListener('click', finish);
      document.addEventListener('keydown', onKeyDown, true);
      document.addEventListener('keyup', onKeyUp, true);

      if (balloonCount === 0) {
        finish();
        return;
      }
      startBalloon();
    }

    /**
     * jsPsych simulation. simulation_options.target_pumps (default 32) is how many
     * pumps the simulated player aims for on every balloon.
     */
    simulate(trial, simulation_mode, simulation_options, load_callback) {
      var options = simulation_options || {};
      var target = Math.max(0, options.target_pumps === undefined ? 32 : options.target_pumps);
      if (simulation_mode === 'visual') {
        this.simulateVisual(trial, target, load_callback);
        return;
      }
      load_callback();
      var points = (trial.burst_points || []).slice(0, trial.practice ? 1 : undefined);
      var record = typeof trial.record === 'function' && !trial.practice ? trial.record : function () {};
      var cents = trial.cents_per_pump === undefined ? 5 : trial.cents_per_pump;
      var total = 0;
      var bursts = 0;
      var pumps = [];
      points.forEach(function (point, index) {
        var balloon = index + 1;
        var count = Math.min(target, point);
        record('balloon_start', { balloon: balloon });
        for (var p = 1; p <= count; p++) {
          record('pump', { balloon: balloon, pumps: p });
        }
        if (count >= point) {
          bursts += 1;
          record('burst', { balloon: balloon, pumps: count });
        } else {
          total += count * cents;
          record('collect', { balloon: balloon, pumps: count });
        }
        pumps.push(count);
      });
      this.jsPsych.finishTrial({
        total_cents: total, bursts: bursts, pumps: pumps, practice: !!trial.practice,
      });
    }

    simulateVisual(trial, target, load_callback) {
      var display = this.jsPsych.getDisplayElement();
      var api = this.jsPsych.pluginAPI;
      this.trial(display, trial);
      load_callback();
      function step() {
        var pumpButton = display.querySelector('[data-testid="balloon-pump"]');
        var collectButton = display.querySelector('[data-testid="balloon-collect"]');
        var continueButton = display.querySelector('[data-testid="balloon-continue"]');
        if (!pumpButton) {
          return;
        }
        if (continueButton && !continueButton.hidden) {
          continueButton.click();
          return;
        }
        if (!pumpButton.disabled || !collectButton.disabled) {
          var bank = display.querySelector('.bart-figure--bank .bart-figure__note').textContent;
          var pumped = parseInt(bank, 10) || 0;
          (pumped < target && !pumpButton.disabled ? pumpButton : collectButton).click();
        }
        api.setTimeout(step, 60);
      }
      api.setTimeout(step, 60);
    }
  }

  BalloonsPlugin.info = info;
  return BalloonsPlugin;
})(jsPsychModule);

/**
 * The balloons timeline: instructions -> practice balloon (not recorded) -> ready ->
 * the game. `config.config` is spec.make_config(seed) (standard or short);
 * `config.accommodations` the candidate's. Registered here, before run-game.js
 * loads, so the page uses this translated builder.
 */
(function () {
  'use strict';

  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  /** The standard schedule's length: the time estimate in the instructions is for it. */
  var STANDARD_BALLOONS = 30;

  registry.balloons = function buildBalloonsTimeline(config, client) {
    var K = window.PymetricsKit;
    var t = K.t;
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var burstPoints = settings.burst_points || [];
    var balloons = burstPoints.length || settings.balloons || STANDARD_BALLOONS;
    var cents = settings.cents_per_pump || 5;
    var perPump = cents === 1 ? t('1 cent') : t('%(count)s cents', { count: cents });
    var maxPumps = settings.max_pumps || 128;
    var practicePoint = settings.practice_burst_point || K.seededInt(settings.seed, 6, 16);
    var space = '<kbd>' + K.escapeHtml(t('Space')) + '</kbd>';
    var enter = '<kbd>' + K.escapeHtml(t('Enter')) + '</kbd>';

    var instructions = K.instructions([
      K.page(t('Balloons'), [
        '<p>' + t('In this game you pump up balloons to earn money. There are %(count)s ' +
          'balloons, one at a time.', { count: balloons }) + '</p>',
        '<p>' + t('There is no right or wrong way to play. We are interested in how you choose ' +
          'to play, so just do what feels right to you.') + '</p>',
        '<p>' + (balloons >= STANDARD_BALLOONS
          ? t('There is no time limit. Most people take about five minutes.')
          : t('There is no time limit.')) + '</p>',
      ]),
      K.page(t('How earning works'), [
        '<ul class="game-list">',
        '<li>' + t('Each <strong>pump</strong> makes the balloon bigger and puts ' +
          '<strong>%(amount)s</strong> into that balloon\u2019s bank.', { amount: perPump }) + '</li>',
        '<li>' + t('Press <strong>Collect $$$</strong> at any time to move the money in the ' +
          'balloon to your <strong>total</strong>. Then the next balloon appears.') + '</li>',
        '<li>' + t('Each balloon bursts at some point: it could be on the first pump, or not ' +
          'until it almost fills the screen. If it bursts, the money in that balloon is lost.') +
          '</li>',
        '<li>' + t('Money in your total is always safe.') + '</li>',
        '</ul>',
      ]),
      K.page(t('Controls'), [
        '<p>' + t('Use the big buttons with a mouse or your finger, or the keyboard:') + '</p>',
        '<dl class="game-keys">',
        '<div><dt>' + space + '</dt><dd>' + t('Pump the balloon') + '</dd></div>',
        '<div><dt>' + enter + '</dt><dd>' + t('Collect the money') + '</dd></div>',
        '</dl>',
        '<p>' + t('First you will try one <strong>practice balloon</strong>. It does not count.') +
          '</p>',
      ]),
    ]);

    var practice = {
      type: jsPsychBalloons,
      practice: true,
      burst_points: [Math.min(practicePoint, maxPumps)],
      cents_per_pump: cents,
      max_pumps: maxPumps,
      accommodation: accommodation,
    };

    var ready = K.ready(t('Ready?'), [
      '<p>' + t('The real game starts now: %(count)s balloons. From here on, the money you ' +
        'collect counts.', { count: balloons }) + '</p>',
      '<p>' + t('Remember: %(space)s pumps, %(enter)s collects. Take your time.',
        { space: space, enter: enter }) + '</p>',
    ], t('Start the game'));

    var main = {
      type: jsPsychBalloons,
      practice: false,
      burst_points: burstPoints,
      cents_per_pump: cents,
      max_pumps: maxPumps,
      accommodation: accommodation,
      record: function (type, data, at) {
        client.record(type, data, at);
      },
      on_start: function () {
        // t = 0 at the first real balloon; visibility and focus are watched from here.
        client.start();
      },
    };

    return [instructions, practice, ready, main];
  };
})();
