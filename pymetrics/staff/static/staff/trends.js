/*
 * The trends page: the trait chart's legend shows one entry per trait, and a click
 * hides or shows the trait's line together with its 95% band; choosing another
 * assessment or metric reloads the page with that choice (the form still works
 * without this script).
 *
 * Runs after staff/charts.js has drawn the charts (both listen for
 * DOMContentLoaded; this file is loaded after it).
 */
(function (global) {
  'use strict';

  // Legend and tooltip behaviour are functions, which the server's JSON spec cannot
  // carry: they are added to the spec here and the chart drawn again with them (set
  // after the first draw, the smaller legend would leave the lines where the larger
  // one had put them).
  function groupLegend(figure) {
    var spec = figure.spec;
    spec.options.plugins = spec.options.plugins || {};
    spec.options.plugins.legend = {
      labels: {
        filter: function (item, data) {
          return !data.datasets[item.datasetIndex].pmBand;
        }
      },
      onClick: function (event, item, legend) {
        var chart = legend.chart;
        var target = chart.data.datasets[item.datasetIndex].pmTrait;
        var hide = chart.isDatasetVisible(item.datasetIndex);
        chart.data.datasets.forEach(function (dataset, index) {
          if (dataset.pmTrait === target) {
            chart.setDatasetVisibility(index, !hide);
          }
        });
        chart.update();
      }
    };
    spec.options.plugins.tooltip = {
      filter: function (item) {
        return !item.dataset.pmBand;
      }
    };
    global.PmCharts.update(spec.id, spec);
  }

  function autoSubmit(form) {
    form.querySelectorAll('select').forEach(function (select) {
      select.addEventListener('change', function () {
        form.requestSubmit ? form.requestSubmit() : form.submit();
      });
    });
  }

  function start() {
    var figure = global.PmCharts && global.PmCharts.figure('trait-means');
    if (figure && figure.spec) {
      groupLegend(figure);
    }
    var form = document.querySelector('[data-testid=trends-filter]');
    if (form) {
      autoSubmit(form);
    }
  }

  // A deferred script runs before DOMContentLoaded, when staff/charts.js draws the
  // charts: wait for it (listeners run in order, charts.js's first).
  if (document.readyState === 'complete') {
    start();
  } else {
    document.addEventListener('DOMContentLoaded', start);
  }
})(window);
