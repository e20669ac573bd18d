/*
 * The insights page: sizes the correlation heatmap's cells to the chart (a k x k
 * grid), words its tooltips, keeps at most the allowed number of heatmap metrics
 * ticked, reloads the page when the assessment or the histogram's metric changes
 * (the form works without this script too), and brings a note's chart into view.
 *
 * Runs after staff/charts.js has drawn the charts (both listen for
 * DOMContentLoaded; this file is loaded after it).
 */
(function (global) {
  'use strict';

  // gettext and interpolate come from Django's JavaScript catalogue (chart_scripts.html)
  var gettext = global.gettext || function (text) { return text; };
  var interpolate = global.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };

  // Cell sizes and tooltips are functions, which the server's JSON spec cannot
  // carry: they are added to the spec here and the chart drawn again with it.
  function sizeHeatmap(figure) {
    var spec = figure.spec;
    var keys = (spec.options.scales && spec.options.scales.x && spec.options.scales.x.labels) || [];
    var k = Math.max(keys.length, 1);
    var dataset = spec.datasets[0];
    dataset.width = function (context) {
      var area = context.chart.chartArea;
      return area ? Math.max(area.width / k - 1, 1) : 10;
    };
    dataset.height = function (context) {
      var area = context.chart.chartArea;
      return area ? Math.max(area.height / k - 1, 1) : 10;
    };
    spec.options.plugins = spec.options.plugins || {};
    spec.options.plugins.tooltip = {
      callbacks: {
        title: function () { return ''; },
        label: function (item) {
          var cell = item.raw;
          if (cell.v === null || cell.v === undefined) {
            return interpolate(gettext('%(y)s \u00d7 %(x)s: too few candidates with both (%(n)s)'), cell, true);
          }
          return interpolate(gettext('%(y)s \u00d7 %(x)s: rho = %(rho)s (n = %(n)s)'), {
            x: cell.x, y: cell.y, n: cell.n, rho: cell.v.toFixed(2)
          }, true);
        }
      }
    };
    global.PmCharts.update(spec.id, spec);
  }

  function limitChoices(form) {
    var details = form.querySelector('[data-testid=heatmap-choice]');
    if (!details) {
      return;
    }
    var boxes = Array.prototype.slice.call(details.querySelectorAll('input[type=checkbox]'));
    var limit = Number(form.dataset.heatmapLimit || 20);
    function refresh() {
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      boxes.forEach(function (box) {
        box.disabled = !box.checked && ticked >= limit;
      });
    }
    boxes.forEach(function (box) { box.addEventListener('change', refresh); });
    refresh();
  }

  function autoSubmit(form) {
    ['assessment', 'metric'].forEach(function (name) {
      var select = form.querySelector('select[name=' + name + ']');
      if (select) {
        select.addEventListener('change', function () {
          form.requestSubmit ? form.requestSubmit() : form.submit();
        });
      }
    });
  }

  function showTarget() {
    if (!global.location.hash) {
      return;
    }
    var target = document.getElementById(global.location.hash.slice(1));
    if (target && target.classList.contains('pm-chart')) {
      target.setAttribute('tabindex', '-1');
      target.focus({ preventScroll: false });
    }
  }

  function start() {
    var figure = global.PmCharts && global.PmCharts.figure('correlations');
    if (figure && figure.spec) {
      sizeHeatmap(figure);
    }
    var form = document.querySelector('[data-testid=insights-filter]');
    if (form) {
      limitChoices(form);
      autoSubmit(form);
    }
    showTarget();
  }

  // A deferred script runs before DOMContentLoaded, when staff/charts.js draws the
  // charts: wait for it (listeners run in order, charts.js's first).
  if (document.readyState === 'complete') {
    start();
  } else {
    document.addEventListener('DOMContentLoaded', start);
  }
})(window);
