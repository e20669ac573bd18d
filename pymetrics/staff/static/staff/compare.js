/*
 * The compare page: colour swatches beside each profile (the charts' colours), and a
 * running count of the candidates and groups picked, which warns past the limit
 * before the form is sent (the server refuses more than ten all the same).
 */
(function (global) {
  'use strict';

  var LIMIT = 10;

  function t(text) {
    return global.gettext ? global.gettext(text) : text;
  }

  function paintSwatches() {
    document.querySelectorAll('.compare-swatch[data-colour]').forEach(function (swatch) {
      swatch.style.backgroundColor = swatch.dataset.colour;
    });
  }

  function countPicks(form) {
    var candidates = form.querySelectorAll('select[name=c] option:checked').length;
    var groups = form.querySelectorAll('input[name=g]:checked').length;
    return candidates + groups;
  }

  function showCount(form) {
    var output = form.querySelector('[data-testid=compare-count]');
    if (!output) {
      return;
    }
    var count = countPicks(form);
    var text = global.interpolate
      ? global.interpolate(t('%(count)s of %(limit)s chosen'), { count: count, limit: LIMIT }, true)
      : count + ' / ' + LIMIT;
    if (count > LIMIT) {
      text += ' — ' + t('too many: remove some before comparing');
    }
    output.textContent = text;
    output.classList.toggle('compare-count--over', count > LIMIT);
  }

  document.addEventListener('DOMContentLoaded', function () {
    paintSwatches();
    var form = document.querySelector('[data-testid=compare-form]');
    if (form) {
      form.addEventListener('change', function () {
        showCount(form);
      });
      showCount(form);
    }
  });
})(window);
