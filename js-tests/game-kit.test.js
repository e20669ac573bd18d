'use strict';
// Tests of pymetrics/play/static/play/game-kit.js: the parts every game plugin relies
// on for timing and reproducibility, run under node without a DOM.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const Kit = require(path.join(__dirname, '..', 'pymetrics', 'play', 'static', 'play', 'game-kit.js'));

test('onPaint passes the frame timestamp from requestAnimationFrame', () => {
  const frames = [];
  globalThis.requestAnimationFrame = (callback) => frames.push(callback);
  try {
    const seen = [];
    Kit.onPaint((ts) => seen.push(ts));
    assert.deepEqual(seen, []); // nothing before the frame
    frames[0](1234.5);
    assert.deepEqual(seen, [1234.5]);
  } finally {
    delete globalThis.requestAnimationFrame;
  }
});

test('onPaint without requestAnimationFrame calls back at once with the current time', () => {
  const before = performance.now();
  let seen = null;
  Kit.onPaint((ts) => {
    seen = ts;
  });
  assert.ok(seen >= before && seen <= performance.now());
});

test('eventTime keeps a high-resolution timeStamp and replaces an epoch one', () => {
  const now = performance.now();
  assert.equal(Kit.eventTime({ timeStamp: now - 5 }), now - 5);
  // Old engines gave epoch milliseconds: far beyond performance.now(), so not used.
  const replaced = Kit.eventTime({ timeStamp: Date.now() });
  assert.ok(replaced >= now && replaced <= performance.now());
  const missing = Kit.eventTime({});
  assert.ok(missing >= now);
});

test('accommodations double the time factor only under extended time', () => {
  assert.deepEqual(Kit.accommodations({}), {
    reducedMotion: false,
    colourSafe: false,
    extendedTime: false,
    timeFactor: 1,
  });
  assert.deepEqual(Kit.accommodations({ extended_time: true, colour_safe: true, reduced_motion: true }), {
    reducedMotion: true,
    colourSafe: true,
    extendedTime: true,
    timeFactor: 2,
  });
  assert.equal(Kit.rootClass('igt', { colourSafe: true, reducedMotion: false }), 'igt igt--colour-safe');
});

test('seededRandom and seededInt are reproducible for a seed and differ between seeds', () => {
  const a = Kit.seededRandom(42);
  const b = Kit.seededRandom(42);
  const c = Kit.seededRandom(43);
  const first = [a(), a(), a()];
  assert.deepEqual([b(), b(), b()], first);
  assert.notDeepEqual([c(), c(), c()], first);
  assert.ok(first.every((x) => x >= 0 && x < 1));
  assert.equal(Kit.seededInt(7, 6, 16), Kit.seededInt(7, 6, 16));
  for (let seed = 0; seed < 200; seed++) {
    const value = Kit.seededInt(seed, 6, 16);
    assert.ok(Number.isInteger(value) && value >= 6 && value <= 16);
  }
});

test('escapeHtml escapes the five HTML-special characters', () => {
  assert.equal(Kit.escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('recorder passes events on, and a failure to save never stops the game', () => {
  const seen = [];
  const emit = Kit.recorder((type, data, at) => seen.push([type, data, at]), 'cards');
  emit('choice', { deck: 'A' }, 12.5);
  assert.deepEqual(seen, [['choice', { deck: 'A' }, 12.5]]);

  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args[0]);
  try {
    Kit.recorder(() => { throw new Error('storage full'); }, 'cards')('choice', {});
  } finally {
    console.error = original;
  }
  assert.deepEqual(logged, ['cards: could not record choice']);
  // practice has no record function: nothing happens
  assert.doesNotThrow(() => Kit.recorder(null, 'cards')('choice', {}));
});

test('t() fills named placeholders, in English without a catalogue', () => {
  assert.equal(Kit.t('Trial %(n)s of %(total)s', { n: 3, total: 30 }), 'Trial 3 of 30');
  assert.equal(Kit.t('Next'), 'Next');
  // a placeholder without a value stays visible rather than printing "undefined"
  assert.equal(Kit.t('%(missing)s left', {}), '%(missing)s left');
});

test('t() uses the page catalogue when there is one', () => {
  globalThis.gettext = (text) => ({ 'Trial %(n)s of %(total)s': 'Essai %(n)s sur %(total)s' })[text] || text;
  globalThis.interpolate = (text, params) => text.replace(/%\((\w+)\)s/g, (m, name) => String(params[name]));
  try {
    assert.equal(Kit.t('Trial %(n)s of %(total)s', { n: 2, total: 12 }), 'Essai 2 sur 12');
  } finally {
    delete globalThis.gettext;
    delete globalThis.interpolate;
  }
});
