/**
 * PymetricsKit: the small toolkit every game plugin shares, so that the games look,
 * time and behave alike (loaded on the game page before the game's plugin.js).
 *
 * Timing (docs/timing.md): the page calls client.start() when the first recorded
 * trial begins; every event's t is milliseconds since then on the performance.now()
 * clock. A stimulus is recorded on the frame that paints it: change the DOM, then
 * `PymetricsKit.onPaint(function (ts) { record('stimulus', data, ts); })`, where ts
 * is the requestAnimationFrame timestamp of that frame. A response is recorded with
 * the key or pointer event's own timeStamp (`PymetricsKit.eventTime(e)`), and its
 * rt_ms is that time minus the onset frame's timestamp, measured in the browser.
 *
 * Plain script (no bundler): defines the global `PymetricsKit`, and module.exports
 * under node so js-tests/ can load it.
 */
(function (root) {
  'use strict';

  function now() {
    return typeof performance !== 'undefined' ? performance.now() : Date.now();
  }

  /** A DOM element: attributes (`text` sets textContent) and children (nodes or strings). */
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (name === 'text') {
        node.textContent = value;
      } else {
        node.setAttribute(name, value === true ? '' : value);
      }
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  var SVG_NS = 'http://www.w3.org/2000/svg';

  /** An SVG element with the given attributes. */
  function svg(tag, attributes) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    return node;
  }

  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, function (ch) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch];
    });
  }

  /**
   * Calls back with the timestamp of the frame that paints the DOM as it is now.
   * requestAnimationFrame callbacks run just before their frame is painted, and
   * their argument is that frame's start on the performance.now() clock. Without
   * rAF (hidden tab, tests) the current time is used.
   */
  function onPaint(callback) {
    if (typeof requestAnimationFrame !== 'function') {
      callback(now());
      return;
    }
    requestAnimationFrame(function (timestamp) {
      callback(typeof timestamp === 'number' ? timestamp : now());
    });
  }

  /**
   * The performance.now()-clock time of a DOM event. Chromium, Firefox and Safari
   * give high-resolution timeStamps on that clock; very old engines used epoch
   * milliseconds, which are recognised (far larger than now()) and replaced by now().
   */
  function eventTime(event) {
    var stamp = event && typeof event.timeStamp === 'number' ? event.timeStamp : NaN;
    var current = now();
    if (!isFinite(stamp) || stamp <= 0 || stamp > current + 1000) {
      return current;
    }
    return stamp;
  }

  function prefersReducedMotion() {
    try {
      return typeof window !== 'undefined' && typeof window.matchMedia === 'function' &&
        window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    } catch (err) {
      return false;
    }
  }

  /**
   * The candidate's accommodations as the plugins use them:
   * reducedMotion (also from prefers-reduced-motion), colourSafe, extendedTime and
   * timeFactor (2 under extended time: every deadline and pause doubles).
   */
  function accommodations(accommodation) {
    var a = accommodation || {};
    return {
      reducedMotion: !!a.reduced_motion || prefersReducedMotion(),
      colourSafe: !!a.colour_safe,
      extendedTime: !!a.extended_time,
      timeFactor: a.extended_time ? 2 : 1,
    };
  }

  /** Root CSS classes for a game: `<prefix>` plus its accommodation modifiers. */
  function rootClass(prefix, settings, extra) {
    return prefix + (settings.colourSafe ? ' ' + prefix + '--colour-safe' : '') +
      (settings.reducedMotion ? ' ' + prefix + '--reduced-motion' : '') +
      (extra ? ' ' + extra : '');
  }

  /** A deterministic PRNG (mulberry32) for practice schedules built in the browser. */
  function seededRandom(seed) {
    var state = ((Number(seed) || 0) ^ 0x9e3779b9) >>> 0;
    return function () {
      state = (state + 0x6d2b79f5) >>> 0;
      var x = state;
      x = Math.imul(x ^ (x >>> 15), x | 1);
      x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** A deterministic integer in low..high from the session seed. */
  function seededInt(seed, low, high) {
    var x = (Number(seed) || 0) ^ 0x9e3779b9;
    x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
    x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
    x = (x ^ (x >>> 16)) >>> 0;
    return low + (x % (high - low + 1));
  }

  /**
   * A plugin's emit(type, data, at): passes events to `record` (none in practice)
   * and never lets a failure to save stop the game: a gap the server can flag is
   * better than a lost game, and the event client reports its own errors.
   */
  function recorder(record, game) {
    return function emit(type, data, at) {
      if (typeof record !== 'function') {
        return;
      }
      try {
        record(type, data, at);
      } catch (err) {
        if (typeof console !== 'undefined') {
          console.error(game + ': could not record ' + type, err);
        }
      }
    };
  }

  /**
   * Translate a user-facing string: `t('Trial %(n)s of %(total)s', {n: 3, total: 30})`.
   * The catalogue is Django's JavaScript catalogue (`gettext`, `interpolate`, loaded by
   * the game page); without it (unit tests) the English text is used. Named
   * placeholders only, so that translators may reorder them.
   */
  function t(text, params) {
    var translated = typeof root.gettext === 'function' ? root.gettext(text) : text;
    if (!params) {
      return translated;
    }
    if (typeof root.interpolate === 'function') {
      return root.interpolate(translated, params, true);
    }
    return translated.replace(/%\(([a-zA-Z_]+)\)s/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : match;
    });
  }

  /** HTML for one instructions page. */
  function page(title, paragraphs) {
    return '<div class="game-instructions"><h2>' + title + '</h2>' + paragraphs.join('') + '</div>';
  }

  /** The standard instructions trial (jsPsychInstructions): Back/Next, keys allowed. */
  function instructions(pages) {
    return {
      type: root.jsPsychInstructions,
      show_clickable_nav: true,
      allow_backward: true,
      allow_keys: true,
      show_page_number: true,
      page_label: t('Page'),
      button_label_previous: t('Back'),
      button_label_next: t('Next'),
      pages: pages,
    };
  }

  /** The "Ready?" screen between practice and the recorded game. */
  function ready(title, paragraphs, buttonLabel) {
    return {
      type: root.jsPsychHtmlButtonResponse,
      stimulus: page(title || t('Ready?'), paragraphs),
      choices: [buttonLabel || t('Start the game')],
      button_html: function (choice) {
        return '<button type="button" class="btn btn-primary btn-large" data-testid="game-ready">' +
          escapeHtml(choice) + '</button>';
      },
    };
  }

  /**
   * Listens for keys on the document (capture phase) while a plugin's root is in the
   * page. `handler(event)` returns true when it used the key, which then does not
   * also scroll or click. Auto-repeat and modified keys are ignored. Returns detach().
   */
  function listenKeys(rootNode, handler, options) {
    var opts = options || {};
    function detach() {
      document.removeEventListener('keydown', onKeyDown, true);
    }
    function onKeyDown(event) {
      if (!rootNode.isConnected) {
        detach();
        return;
      }
      if (event.ctrlKey || event.altKey || event.metaKey) {
        return;
      }
      if (event.repeat && !opts.allowRepeat) {
        var keys = opts.swallow || [];
        if (keys.indexOf(event.key) !== -1 || keys.indexOf(event.code) !== -1) {
          event.preventDefault();
        }
        return;
      }
      if (handler(event) === true) {
        event.preventDefault();
      }
    }
    document.addEventListener('keydown', onKeyDown, true);
    return detach;
  }

  /** A progress bar element with set(done, total) and an accessible label. */
  function progress(label) {
    var fill = el('span', { class: 'game-progress__fill' });
    var bar = el('span', {
      class: 'game-progress', role: 'progressbar', 'aria-label': label || t('Progress'),
      'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0',
    }, [fill]);
    return {
      node: bar,
      set: function (done, total) {
        var share = total > 0 ? Math.max(0, Math.min(1, done / total)) : 0;
        fill.style.width = (100 * share).toFixed(1) + '%';
        bar.setAttribute('aria-valuenow', String(Math.round(100 * share)));
      },
    };
  }

  var Kit = {
    t: t,
    el: el,
    svg: svg,
    escapeHtml: escapeHtml,
    onPaint: onPaint,
    eventTime: eventTime,
    now: now,
    accommodations: accommodations,
    rootClass: rootClass,
    prefersReducedMotion: prefersReducedMotion,
    seededRandom: seededRandom,
    seededInt: seededInt,
    recorder: recorder,
    page: page,
    instructions: instructions,
    ready: ready,
    listenKeys: listenKeys,
    progress: progress,
  };

  root.PymetricsKit = Kit;
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = Kit;
  }
})(typeof window !== 'undefined' ? window : globalThis);
