/**
 * jsPsychFaces: emotion recognition from drawn faces as one jsPsych 8 trial that runs
 * every face of the session, plus the game's timeline builder
 * (window.PymetricsGames.faces).
 *
 * Each face is a parametric SVG drawn here (no photographs): a dozen facial actions
 * (FACS action units: brows raised, lowered or drawn together, eyes widened or
 * narrowed, cheeks raised, nose wrinkled, upper lip raised, mouth corners up or down,
 * lips stretched or pressed, jaw dropped) place the brows, lids, nose, cheeks and
 * mouth. An expression at an intensity is the neutral face moved towards the
 * expression's prototype (config.cues) by the level's weight (config.levels: 0.4,
 * 0.7, 1.0), so the stored config says exactly what was drawn. The face stays until
 * the candidate picks one of seven labels; there is no time limit. Events (shared
 * SCIENCE.md, faces) go out through `record(type, data, at)`:
 *
 *   trial_start {trial, emotion, intensity, face}   at = timestamp of the frame painting the face
 *   response    {trial, emotion, intensity, response, rt_ms}
 *                                                    at = the key/pointer event's timestamp
 *
 * rt_ms = response event time - onset frame time (float ms, measured here).
 *
 * Operation: the seven big labelled buttons (mouse, touch, or Tab + Enter/Space) or
 * the keys 1-7. Key auto-repeat is ignored.
 * Accommodations (PymetricsKit.accommodations): extended_time doubles the pause between
 * faces and the practice feedback time (there is no answer deadline to extend);
 * colour_safe swaps the green/red practice feedback for blue/orange (feedback always
 * carries a symbol and words; the faces use no colour cue at all); reduced_motion (also
 * from prefers-reduced-motion) turns off every animation. A face never animates: its
 * onset is one painted frame.
 *
 * practice: true runs the given faces with feedback after each and records nothing.
 * The trial's data: {practice, trials, correct}.
 */
var jsPsychFaces = (function (jspsych) {
  'use strict';

  var version = '1.0.0';

  var info = {
    name: 'faces',
    version: version,
    parameters: {
      /** The schedule: [{trial, emotion, intensity 0..3, face 1..4}]. */
      trials: { type: jspsych.ParameterType.COMPLEX, array: true, default: undefined },
      /** The labels, in button order (keys 1-7). */
      emotions: { type: jspsych.ParameterType.STRING, array: true, default: undefined },
      /** emotion -> {action: value of the full expression}. */
      cues: { type: jspsych.ParameterType.OBJECT, default: undefined },
      /** intensity level ("1".."3") -> weight of the full expression. */
      levels: { type: jspsych.ParameterType.OBJECT, default: undefined },
      /** Blank pause between an answer and the next face (ms); doubled under extended_time. */
      iti_ms: { type: jspsych.ParameterType.INT, default: 500 },
      /** How long practice feedback stays up (ms); doubled under extended_time. */
      feedback_ms: { type: jspsych.ParameterType.INT, default: 1500 },
      /** record(type, data, at): receives every event (not called in practice). */
      record: { type: jspsych.ParameterType.FUNCTION, default: null },
      /** {reduced_motion, colour_safe, extended_time} booleans. */
      accommodation: { type: jspsych.ParameterType.OBJECT, default: {} },
      /** Practice: feedback after every face, nothing recorded. */
      practice: { type: jspsych.ParameterType.BOOL, default: false },
    },
    data: {
      /** Whether this was the practice. */
      practice: { type: jspsych.ParameterType.BOOL },
      /** Number of faces shown. */
      trials: { type: jspsych.ParameterType.INT },
      /** Number of faces labelled as drawn. */
      correct: { type: jspsych.ParameterType.INT },
    },
  };

  /** Longest rt_ms the server accepts (spec.MAX_RT_MS): one hour on one face. */
  var MAX_RT_MS = 3600000;

  function kit() {
    return window.PymetricsKit;
  }

  /** The label shown on a button and in feedback, translated. */
  function labelOf(emotion) {
    var t = kit().t;
    return {
      happy: t('Happy'),
      sad: t('Sad'),
      angry: t('Angry'),
      fearful: t('Fearful'),
      surprised: t('Surprised'),
      disgusted: t('Disgusted'),
      neutral: t('Neutral'),
    }[emotion] || emotion;
  }

  // --- the drawn face ------------------------------------------------------------

  /** The drawn people: head shape, hair style and tones (expressions do not depend on them). */
  var PEOPLE = [
    { rx: 68, ry: 88, skin: '#f1d3bd', lips: '#c98b7f', hair: '#3b2a20', style: 'cap' },
    { rx: 72, ry: 84, skin: '#d9a982', lips: '#a8645a', hair: '#1f1b18', style: 'side' },
    { rx: 64, ry: 90, skin: '#c08a66', lips: '#93564c', hair: '#2a1d16', style: 'long' },
    { rx: 70, ry: 86, skin: '#e8c0a0', lips: '#b87468', hair: '#6b6b6b', style: 'short' },
  ];
  var INK = '#1f1a17';
  var CX = 100;
  var CY = 128;
  var clipCounter = 0;

  /** Every action's value for an expression at an intensity: weight x the full cue. */
  function actionsFor(cues, levels, emotion, intensity) {
    var weight = Number((levels || {})[String(intensity)]) || 0;
    var full = (cues || {})[emotion] || {};
    var names = [
      'inner_brow_raise', 'outer_brow_raise', 'brow_lower', 'upper_lid_raise', 'cheek_raise',
      'lid_tighten', 'nose_wrinkle', 'upper_lip_raise', 'lip_corner_pull', 'lip_corner_depress',
      'lip_stretch', 'lip_press', 'jaw_drop',
    ];
    var actions = {};
    names.forEach(function (name) {
      actions[name] = weight * (Number(full[name]) || 0);
    });
    return actions;
  }

  function fmt(value) {
    return (Math.round(value * 10) / 10).toString();
  }

  /** A quadratic curve from (x1, y) to (x2, y) whose middle passes through y = mid. */
  function through(x1, x2, y, mid) {
    return 'Q ' + fmt((x1 + x2) / 2) + ' ' + fmt(2 * mid - y) + ' ' + fmt(x2) + ' ' + fmt(y);
  }

  function hairPath(person, top) {
    var rx = person.rx;
    var left = CX - rx - 4;
    var right = CX + rx + 4;
    var lift = top - 26;
    if (person.style === 'long') {
      return 'M ' + left + ' 215 C ' + (left - 14) + ' 120 ' + (left - 6) + ' ' + lift + ' ' + CX + ' ' +
        lift + ' C ' + (right + 6) + ' ' + lift + ' ' + (right + 14) + ' 120 ' + right + ' 215 L ' +
        (right - 10) + ' 215 C ' + (right - 8) + ' 150 ' + (right - 6) + ' 92 ' + (CX + rx - 10) +
        ' 84 Q ' + CX + ' ' + (top + 8) + ' ' + (CX - rx + 10) + ' 84 C ' + (left + 6) + ' 92 ' +
        (left + 8) + ' 150 ' + (left + 10) + ' 215 Z';
    }
    var hairline = person.style === 'short' ? top + 20 : top + 26;
    var dip = person.style === 'side' ? CX - 22 : CX;
    return 'M ' + left + ' 118 C ' + (left - 2) + ' ' + lift + ' ' + (right + 2) + ' ' + lift + ' ' +
      right + ' 118 L ' + (right - 7) + ' 104 Q ' + dip + ' ' + hairline + ' ' + (left + 7) + ' 104 Z';
  }

  /**
   * The face as an <svg>: `actions` (see actionsFor) place every feature; `faceNumber`
   * (1..4) picks the person. Every feature is a dark line or shape on the skin tone, so
   * the expression reads without colour.
   */
  function faceSvg(actions, faceNumber, label) {
    var K = kit();
    var a = actions;
    var person = PEOPLE[((faceNumber || 1) - 1 + PEOPLE.length) % PEOPLE.length];
    clipCounter += 1;
    var id = 'fcs-eye-' + clipCounter;
    var svg = K.svg('svg', {
      viewBox: '0 0 200 240', class: 'fcs-face__svg', role: 'img', 'aria-label': label,
      focusable: 'false',
    });
    function add(tag, attributes) {
      var node = K.svg(tag, attributes);
      svg.appendChild(node);
      return node;
    }
    function line(d, width, opacity) {
      if (opacity !== undefined && opacity < 0.08) {
        return null;
      }
      return add('path', {
        d: d, fill: 'none', stroke: INK, 'stroke-width': String(width), 'stroke-linecap': 'round',
        'stroke-linejoin': 'round', opacity: opacity === undefined ? '1' : fmt(Math.min(1, opacity)),
      });
    }

    // Head: the jaw drops the chin a little.
    var ry = person.ry + 5 * a.jaw_drop;
    var cy = CY + 2.5 * a.jaw_drop;
    var top = cy - ry;
    if (person.style === 'long') {
      add('path', { d: hairPath(person, top), fill: person.hair });
    }
    add('rect', { x: String(CX - 22), y: String(cy + ry - 30), width: '44', height: '40', fill: person.skin,
      stroke: INK, 'stroke-width': '2.5' });
    [-1, 1].forEach(function (side) {
      add('ellipse', { cx: fmt(CX + side * (person.rx - 2)), cy: '128', rx: '10', ry: '16',
        fill: person.skin, stroke: INK, 'stroke-width': '2.5' });
    });
    add('ellipse', { cx: String(CX), cy: fmt(cy), rx: String(person.rx), ry: fmt(ry), fill: person.skin,
      stroke: INK, 'stroke-width': '3' });
    if (person.style !== 'long') {
      add('path', { d: hairPath(person, top), fill: person.hair });
    } else {
      add('path', { d: 'M ' + (CX - person.rx + 8) + ' 86 Q ' + CX + ' ' + (top + 4) + ' ' +
        (CX + person.rx - 8) + ' 86 Q ' + CX + ' ' + (top + 22) + ' ' + (CX - person.rx + 8) + ' 86 Z',
        fill: person.hair });
    }

    // Forehead lines (brows raised), frown lines (brows drawn together).
    var raise = (a.inner_brow_raise + a.outer_brow_raise) / 2;
    line('M 78 70 Q 100 ' + fmt(66 - 2 * raise) + ' 122 70', 2, raise - 0.3);
    line('M 82 78 Q 100 ' + fmt(74 - 2 * raise) + ' 118 78', 2, raise - 0.3);
    line('M 94 97 L 95 106', 2, a.brow_lower - 0.2);
    line('M 106 97 L 105 106', 2, a.brow_lower - 0.2);

    // Brows: the inner end rises (AU1) or drops and moves in (AU4); the outer end rises (AU2).
    [-1, 1].forEach(function (side) {
      var innerX = CX + side * (15 - 5 * a.brow_lower);
      var outerX = CX + side * 50;
      var innerY = 92 - 14 * a.inner_brow_raise + 10 * a.brow_lower;
      var outerY = 89 - 11 * a.outer_brow_raise + 3 * a.brow_lower;
      // Raising only the inner ends straightens the brow into a slant (sadness, fear).
      var arch = 4 + 6 * a.outer_brow_raise - 3 * a.brow_lower -
        5 * Math.max(0, a.inner_brow_raise - a.outer_brow_raise);
      line('M ' + fmt(innerX) + ' ' + fmt(innerY) + ' Q ' + fmt((innerX + outerX) / 2) + ' ' +
        fmt((innerY + outerY) / 2 - arch) + ' ' + fmt(outerX) + ' ' + fmt(outerY), 6.5);
    });

    // Eyes: the upper lid rises (AU5) or droops; cheeks (AU6) and tightened lids (AU7)
    // push the lower lid up. The iris is clipped by the lids, so wide eyes show white above it.
    var upper = Math.max(1.5, 7.5 * (1 + 0.8 * a.upper_lid_raise - 0.35 * a.lid_tighten - 0.2 * a.cheek_raise));
    var lower = Math.max(1.2, 6.5 * (1 + 0.3 * a.upper_lid_raise - 0.5 * a.lid_tighten - 0.6 * a.cheek_raise));
    [-1, 1].forEach(function (side, index) {
      var ex = CX + side * 30;
      var ey = 114;
      var outline = 'M ' + (ex - 14) + ' ' + ey + ' ' + through(ex - 14, ex + 14, ey, ey - upper) +
        ' ' + through(ex + 14, ex - 14, ey, ey + lower) + ' Z';
      var clip = K.svg('clipPath', { id: id + '-' + index });
      clip.appendChild(K.svg('path', { d: outline }));
      svg.appendChild(clip);
      add('path', { d: outline, fill: '#ffffff' });
      var iris = K.svg('g', { 'clip-path': 'url(#' + id + '-' + index + ')' });
      iris.appendChild(K.svg('circle', { cx: String(ex), cy: String(ey), r: '6', fill: INK }));
      iris.appendChild(K.svg('circle', { cx: String(ex + 2), cy: String(ey - 2), r: '1.6', fill: '#ffffff' }));
      svg.appendChild(iris);
      add('path', { d: outline, fill: 'none', stroke: INK, 'stroke-width': '2.5', 'stroke-linejoin': 'round' });
      // The raised cheek's bulge under the eye (AU6).
      line('M ' + (ex - 12) + ' ' + fmt(ey + 12) + ' Q ' + ex + ' ' + fmt(ey + 8) + ' ' + (ex + 12) + ' ' +
        fmt(ey + 12), 2, a.cheek_raise - 0.2);
    });

    // Nose: the wings rise and widen when it wrinkles (AU9), with lines across the bridge.
    var wingY = 152 - 4 * a.nose_wrinkle - 2 * a.upper_lip_raise;
    var wing = 12 + 3 * a.nose_wrinkle;
    line('M 97 ' + 122 + ' Q 95 ' + fmt(wingY - 14) + ' ' + fmt(CX - wing + 2) + ' ' + fmt(wingY - 2), 2.5);
    line('M ' + fmt(CX - wing) + ' ' + fmt(wingY) + ' Q ' + CX + ' ' + fmt(wingY + 8) + ' ' +
      fmt(CX + wing) + ' ' + fmt(wingY), 2.5);
    [0, 1, 2].forEach(function (row) {
      var y = 116 + 5 * row;
      line('M 93 ' + y + ' Q 100 ' + (y - 2) + ' 107 ' + y, 2, a.nose_wrinkle - 0.15);
    });

    // Mouth: corners up (AU12) or down (AU15), stretched (AU20) or pressed (AU24); the
    // upper lip rises (AU10); the jaw drops (AU26/27).
    var halfWidth = 24 * (1 + 0.25 * a.lip_corner_pull + 0.45 * a.lip_stretch - 0.2 * a.lip_press -
      0.18 * a.jaw_drop + 0.05 * a.upper_lip_raise);
    var cornerY = 183 - 12 * a.lip_corner_pull + 9 * a.lip_corner_depress + 2 * a.lip_stretch + 2 * a.jaw_drop;
    var gap = 30 * a.jaw_drop + 7 * a.upper_lip_raise + 4 * a.lip_stretch;
    var meet = 184 + 3 * a.lip_corner_pull - 4 * a.upper_lip_raise + 2 * a.jaw_drop;
    var innerTop = meet - 0.3 * gap - 6 * a.upper_lip_raise;
    var innerBottom = meet + 0.7 * gap;
    var upperLip = 5 * (1 - 0.6 * a.lip_press) * (1 - 0.3 * a.lip_corner_pull);
    var lowerLip = 6.5 * (1 - 0.6 * a.lip_press) * (1 - 0.2 * a.lip_stretch);
    var left = CX - halfWidth;
    var right = CX + halfWidth;
    // Nasolabial folds deepen with a raised upper lip, cheeks or a smile.
    var fold = Math.max(a.upper_lip_raise, 0.8 * a.nose_wrinkle, 0.8 * a.cheek_raise, 0.7 * a.lip_corner_pull);
    [-1, 1].forEach(function (side) {
      var fx = CX + side * (wing + 4);
      line('M ' + fmt(fx) + ' ' + fmt(wingY - 2) + ' Q ' + fmt(CX + side * (halfWidth + 10)) + ' ' +
        fmt((wingY + cornerY) / 2) + ' ' + fmt(CX + side * (halfWidth + 3)) + ' ' + fmt(cornerY + 2), 2, fold - 0.15);
    });
    add('path', {
      d: 'M ' + fmt(left) + ' ' + fmt(cornerY) + ' ' + through(left, right, cornerY, innerTop - upperLip) + ' ' +
        through(right, left, cornerY, innerBottom + lowerLip) + ' Z',
      fill: person.lips, stroke: INK, 'stroke-width': '2', 'stroke-linejoin': 'round',
    });
    if (innerBottom - innerTop > 1.5) {
      var opening = 'M ' + fmt(left) + ' ' + fmt(cornerY) + ' ' + through(left, right, cornerY, innerTop) +
        ' ' + through(right, left, cornerY, innerBottom) + ' Z';
      add('path', { d: opening, fill: '#3a1d1d', stroke: INK, 'stroke-width': '2', 'stroke-linejoin': 'round' });
      var teeth = Math.min(6, 0.4 * (innerBottom - innerTop));
      if (a.lip_corner_pull + a.upper_lip_raise + a.lip_stretch > 0.2 && teeth > 1.5) {
        add('path', {
          d: 'M ' + fmt(left + 3) + ' ' + fmt(cornerY) + ' ' + through(left + 3, right - 3, cornerY, innerTop + 1) +
            ' ' + through(right - 3, left + 3, cornerY, innerTop + teeth) + ' Z',
          fill: '#ffffff',
        });
      }
    } else {
      line('M ' + fmt(left) + ' ' + fmt(cornerY) + ' ' + through(left, right, cornerY, meet), 2.5);
    }
    return svg;
  }

  // --- the plugin ------------------------------------------------------------------

  class FacesPlugin {
    constructor(jsPsych) {
      this.jsPsych = jsPsych;
    }

    trial(display_element, trial) {
      var jsPsych = this.jsPsych;
      var K = kit();
      var t = K.t;
      var settings = K.accommodations(trial.accommodation);
      var practice = !!trial.practice;
      var schedule = (trial.trials || []).slice();
      var emotions = (trial.emotions || []).slice();
      var total = schedule.length;
      var itiMs = Math.max(0, trial.iti_ms) * settings.timeFactor;
      var feedbackMs = Math.max(0, trial.feedback_ms) * settings.timeFactor;
      var record = typeof trial.record === 'function' && !practice ? trial.record : null;

      schedule.forEach(function (item) {
        if (!item || emotions.indexOf(item.emotion) === -1) {
          throw new Error('faces: every trial needs an emotion from the label set');
        }
      });

      // --- state -------------------------------------------------------------
      var state = {
        index: -1,         // 0-based position in the schedule
        onset: null,       // frame timestamp of the current face
        accepting: false,  // true only while a face waits for its label
        correct: 0,
        finished: false,
      };

      // --- DOM ---------------------------------------------------------------
      var el = K.el;
      var root = el('div', {
        class: K.rootClass('fcs', settings, practice ? 'fcs--practice' : ''),
        'data-testid': 'faces-game',
        'data-state': 'wait',
      });
      var counter = el('p', { class: 'fcs-counter', 'data-testid': 'faces-counter' });
      var bar = K.progress(practice ? t('Practice progress') : t('Game progress'));
      var question = el('p', { class: 'fcs-question', id: 'fcs-question', text: t('Which feeling does this face show?') });
      var stage = el('div', { class: 'fcs-stage', 'data-testid': 'faces-face', 'data-state': 'blank' });
      var feedback = el('p', { class: 'fcs-feedback', 'data-testid': 'faces-feedback', hidden: true });
      var status = el('p', {
        class: 'fcs-status', 'data-testid': 'faces-status', role: 'status', 'aria-live': 'polite',
      });

      var buttons = emotions.map(function (emotion, index) {
        var key = String(index + 1);
        var label = labelOf(emotion);
        return el('button', {
          type: 'button', class: 'fcs-btn', 'data-testid': 'faces-answer-' + emotion,
          'data-emotion': emotion, 'aria-keyshortcuts': key,
          'aria-label': t('%(label)s (key %(key)s)', { label: label, key: key }),
        }, [
          el('kbd', { class: 'fcs-btn__key', 'aria-hidden': 'true', text: key }),
          el('span', { class: 'fcs-btn__label', text: label }),
        ]);
      });
      var answers = el('div', {
        class: 'fcs-answers', role: 'group', 'aria-labelledby': 'fcs-question',
      }, buttons);
      var keysHint = el('p', { class: 'fcs-keys' }, [
        t('Click or tap a word, or press the number keys 1 to 7.'),
      ]);

      root.appendChild(el('div', { class: 'fcs-hud' }, [counter, bar.node]));
      root.appendChild(el('div', { class: 'fcs-main' }, [stage, el('div', { class: 'fcs-side' }, [question, answers])]));
      root.appendChild(feedback);
      root.appendChild(status);
      root.appendChild(keysHint);
      display_element.innerHTML = '';
      display_element.appendChild(root);

      // --- helpers -------------------------------------------------------------
      var emit = K.recorder(record, 'faces');

      function later(callback, ms) {
        return jsPsych.pluginAPI.setTimeout(function () {
          if (!state.finished && root.isConnected) {
            callback();
          }
        }, ms);
      }

      function setButtonsActive(active) {
        // aria-disabled rather than disabled: a disabled button loses keyboard focus.
        buttons.forEach(function (button) {
          button.setAttribute('aria-disabled', active ? 'false' : 'true');
        });
      }

      function current() {
        return schedule[state.index];
      }

      function showBlank() {
        stage.innerHTML = '';
        stage.setAttribute('data-state', 'blank');
        stage.removeAttribute('data-emotion');
        stage.removeAttribute('data-intensity');
        root.setAttribute('data-state', 'wait');
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
          ? t('Practice face %(n)s of %(total)s', { n: state.index + 1, total: total })
          : t('Face %(n)s of %(total)s', { n: state.index + 1, total: total });
        bar.set(state.index, total);
        feedback.hidden = true;
        status.textContent = '';
        var actions = actionsFor(trial.cues, trial.levels, item.emotion, item.intensity);
        stage.innerHTML = '';
        stage.appendChild(faceSvg(actions, item.face, t('A face. Which feeling does it show?')));
        stage.setAttribute('data-emotion', item.emotion);
        stage.setAttribute('data-intensity', String(item.intensity));
        root.setAttribute('data-trial', String(state.index + 1));
        K.onPaint(function (timestamp) {
          if (state.finished || !root.isConnected || current() !== item) {
            return;
          }
          state.onset = timestamp;
          state.accepting = true;
          stage.setAttribute('data-state', 'face');
          root.setAttribute('data-state', 'face');
          setButtonsActive(true);
          emit('trial_start', {
            trial: item.trial, emotion: item.emotion, intensity: item.intensity, face: item.face,
          }, timestamp);
        });
      }

      function respond(index, event) {
        if (!state.accepting || index < 0 || index >= emotions.length) {
          return;
        }
        var at = K.eventTime(event);
        var item = current();
        var choice = emotions[index];
        var rt = Math.min(MAX_RT_MS, Math.max(0, at - state.onset));
        state.accepting = false;
        setButtonsActive(false);
        var correct = choice === item.emotion;
        state.correct += correct ? 1 : 0;
        emit('response', {
          trial: item.trial, emotion: item.emotion, intensity: item.intensity, response: choice,
          rt_ms: Math.round(rt * 10) / 10,
        }, at);
        bar.set(state.index + 1, total);
        if (practice) {
          showFeedback(item, choice, correct);
          root.setAttribute('data-state', 'feedback');
          later(startTrial, feedbackMs);
          return;
        }
        showBlank();
        later(startTrial, itiMs);
      }

      function showFeedback(item, choice, correct) {
        // The labels are quoted as the buttons show them, so no language has to change
        // their case or form to fit them into a sentence.
        var text = correct
          ? t('\u2714 Yes: this face shows \u201c%(label)s\u201d.', { label: labelOf(item.emotion) })
          : t('\u2716 This face shows \u201c%(shown)s\u201d; you chose \u201c%(chosen)s\u201d.', {
            shown: labelOf(item.emotion), chosen: labelOf(choice),
          });
        feedback.className = 'fcs-feedback fcs-feedback--' + (correct ? 'correct' : 'wrong');
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
        bar.set(total, total);
        root.setAttribute('data-state', 'done');
        detachKeys();
        display_element.innerHTML = '';
        jsPsych.finishTrial({ practice: practice, trials: total, correct: state.correct });
      }

      // --- input ---------------------------------------------------------------
      function indexOfKey(event) {
        var match = /^(?:Digit|Numpad)([1-9])$/.exec(event.code || '');
        if (match) {
          return Number(match[1]) - 1;
        }
        var key = String(event.key || '');
        return /^[1-9]$/.test(key) ? Number(key) - 1 : -1;
      }

      var detachKeys = K.listenKeys(root, function (event) {
        var index = indexOfKey(event);
        if (index < 0 || index >= emotions.length) {
          return false;
        }
        respond(index, event);
        return true;
      }, { swallow: ['1', '2', '3', '4', '5', '6', '7'] });

      buttons.forEach(function (button, index) {
        // pointerdown is the moment of the press (a click comes only on release);
        // a click with detail 0 is a keyboard activation (Tab to the button + Enter).
        button.addEventListener('pointerdown', function (event) {
          if (event.isPrimary !== false && (event.button === 0 || event.button === undefined)) {
            respond(index, event);
          }
        });
        button.addEventListener('click', function (event) {
          if (event.detail === 0) {
            respond(index, event);
          }
        });
      });

      setButtonsActive(false);
      showBlank();
      if (total === 0) {
        finish();
        return;
      }
      startTrial();
    }
  }

  FacesPlugin.info = info;
  FacesPlugin.faceSvg = faceSvg;
  FacesPlugin.actionsFor = actionsFor;
  FacesPlugin.labelOf = labelOf;
  return FacesPlugin;
})(jsPsychModule);

/**
 * The faces timeline: instructions -> practice (not recorded) -> ready -> the game.
 * `config.config` is spec.make_config(seed); `config.accommodations` the candidate's.
 */
(function () {
  'use strict';

  var registry = (window.PymetricsGames = window.PymetricsGames || {});

  registry.faces = function buildFacesTimeline(config, client) {
    var K = window.PymetricsKit;
    var t = K.t;
    var settings = config.config || {};
    var accommodation = config.accommodations || {};
    var trials = settings.trials || [];
    var total = trials.length;
    var emotions = settings.emotions || [];
    var practiceTrials = settings.practice || [];
    var page = K.page;

    function exampleFace(emotion, intensity, face, caption) {
      var actions = jsPsychFaces.actionsFor(settings.cues, settings.levels, emotion, intensity);
      var svg = jsPsychFaces.faceSvg(actions, face, caption);
      return '<figure class="fcs-example">' + svg.outerHTML + '<figcaption>' +
        K.escapeHtml(caption) + '</figcaption></figure>';
    }

    var keyRows = emotions.map(function (emotion, index) {
      return '<div><dt><kbd>' + (index + 1) + '</kbd></dt><dd>' +
        K.escapeHtml(jsPsychFaces.labelOf(emotion)) + '</dd></div>';
    }).join('');
    var longer = accommodation.extended_time
      ? '<p>' + t('The pauses between faces are longer for you.') + '</p>'
      : '';

    var instructions = K.instructions([
      page(t('Faces'), [
        '<p>' + t('In this game you see %(total)s drawn faces, one at a time. Each face shows ' +
          'a feeling: some clearly, some only slightly.', { total: total }) + '</p>',
        exampleFace('neutral', 0, 1, t('A face showing no particular feeling: neutral.')),
        '<p>' + t('For each face, pick the word that best describes it.') + '</p>',
      ]),
      page(t('The seven words'), [
        '<p>' + t('Every face shows one of these seven:') + '</p>',
        '<dl class="game-keys fcs-keylist">', keyRows, '</dl>',
        '<p>' + t('There is no time limit. Go with your first impression; it is fine to be ' +
          'unsure sometimes.') + '</p>',
        longer,
      ]),
      page(t('Controls'), [
        '<p>' + t('Click or tap the word, or press its number key (1 to 7). Each face stays ' +
          'on screen until you answer.') + '</p>',
        '<p>' + t('First there are %(n)s practice faces that tell you how you did. They do ' +
          'not count.', { n: practiceTrials.length }) + '</p>',
      ]),
    ]);

    var common = {
      type: jsPsychFaces,
      emotions: emotions,
      cues: settings.cues,
      levels: settings.levels,
      iti_ms: settings.iti_ms === undefined ? 500 : settings.iti_ms,
      feedback_ms: settings.feedback_ms === undefined ? 1500 : settings.feedback_ms,
      accommodation: accommodation,
    };

    var practice = Object.assign({}, common, { practice: true, trials: practiceTrials });

    var ready = K.ready(t('Ready?'), [
      '<p>' + t('That was the practice. The real game starts now: %(total)s faces, with no ' +
        'feedback along the way.', { total: total }) + '</p>',
      '<p>' + t('Remember: pick the word that best describes each face, with a click, a tap ' +
        'or the keys 1 to 7.') + '</p>',
    ], t('Start the game'));

    var main = Object.assign({}, common, {
      practice: false,
      trials: trials,
      record: function (type, data, at) {
        client.record(type, data, at);
      },
      on_start: function () {
        // t = 0 at the first real face; visibility and focus are watched from here.
        client.start();
      },
    });

    return [instructions, practice, ready, main];
  };
})();
