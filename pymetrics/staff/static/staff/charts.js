/*
 * Charts of the staff pages: Chart.js (from npm) with hover, zoom and legend
 * toggles, each chart beside an accessible table of the same numbers and a CSV
 * download of them.
 *
 * A chart is a <figure class="pm-chart" data-chart-id="..."> rendered by the
 * "staff/includes/chart.html" template around a JSON spec (pymetrics.staff.charts):
 *   {id, type, title, labels, datasets, options, zoom, table: {columns, rows}}
 * The table and the CSV come from spec.table, not from the chart, so what a
 * screen reader or a spreadsheet gets is exactly what the server computed.
 *
 * PmCharts.renderAll(root) draws every chart below root; PmCharts.update(id, spec)
 * redraws one with new data (live updates). A drawn figure carries
 * data-chart-ready="1" and data-points="<number of data points>", and its Chart
 * object as figure.pmChart, for tests and for the page scripts.
 */
(function (global) {
  'use strict';

  var Chart = global.Chart;
  var figures = {};

  function t(text) {
    return global.gettext ? global.gettext(text) : text;
  }

  function csvCell(value) {
    if (value === null || value === undefined) {
      return '';
    }
    var text = String(value);
    if (/[",\n\r]/.test(text)) {
      return '"' + text.replace(/"/g, '""') + '"';
    }
    return text;
  }

  function toCsv(table) {
    var lines = [table.columns.map(csvCell).join(',')];
    table.rows.forEach(function (row) {
      lines.push(row.map(csvCell).join(','));
    });
    return lines.join('\r\n') + '\r\n';
  }

  function formatCell(value) {
    if (value === null || value === undefined || (typeof value === 'number' && isNaN(value))) {
      return '—';
    }
    if (typeof value === 'number') {
      return Number.isInteger(value) ? String(value) : value.toFixed(2);
    }
    return String(value);
  }

  function fillTable(tableElement, table) {
    // keep the caption; replace the rows
    tableElement.deleteTHead();
    Array.prototype.slice.call(tableElement.tBodies).forEach(function (body) {
      body.remove();
    });
    var head = tableElement.createTHead().insertRow();
    table.columns.forEach(function (column) {
      var th = document.createElement('th');
      th.scope = 'col';
      th.textContent = column;
      head.appendChild(th);
    });
    var body = tableElement.createTBody();
    table.rows.forEach(function (row) {
      var tr = body.insertRow();
      row.forEach(function (value, index) {
        var cell = index === 0 ? document.createElement('th') : document.createElement('td');
        if (index === 0) {
          cell.scope = 'row';
        }
        if (typeof value === 'number') {
          cell.className = 'num';
        }
        cell.textContent = formatCell(value);
        tr.appendChild(cell);
      });
    });
  }

  function countPoints(spec) {
    return (spec.datasets || []).reduce(function (total, dataset) {
      return total + (dataset.data || []).filter(function (point) {
        return point !== null && point !== undefined;
      }).length;
    }, 0);
  }

  function merge(target, source) {
    Object.keys(source || {}).forEach(function (key) {
      var value = source[key];
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        target[key] = merge(target[key] && typeof target[key] === 'object' ? target[key] : {}, value);
      } else {
        target[key] = value;
      }
    });
    return target;
  }

  function chartOptions(spec, reducedMotion) {
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: reducedMotion ? false : { duration: 300 },
      interaction: { mode: 'nearest', intersect: false },
      plugins: {
        legend: { display: (spec.datasets || []).length > 1, position: 'bottom' },
        tooltip: { enabled: true },
        title: { display: false }
      }
    };
    if (spec.zoom && Chart.registry.plugins.get('zoom')) {
      options.plugins.zoom = {
        zoom: { wheel: { enabled: true }, pinch: { enabled: true }, drag: { enabled: false }, mode: 'x' },
        pan: { enabled: true, mode: 'x' }
      };
    }
    return merge(options, spec.options || {});
  }

  function draw(figure, spec) {
    var canvas = figure.querySelector('canvas');
    var reducedMotion = global.matchMedia && global.matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (figure.pmChart) {
      figure.pmChart.destroy();
    }
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', spec.title + (spec.summary ? '. ' + spec.summary : ''));
    figure.pmChart = new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels || [], datasets: spec.datasets || [] },
      options: chartOptions(spec, reducedMotion)
    });
    var table = figure.querySelector('table.pm-chart__table');
    if (table && spec.table) {
      fillTable(table, spec.table);
    }
    var download = figure.querySelector('a.pm-chart__csv');
    if (download && spec.table) {
      if (download.dataset.url) {
        URL.revokeObjectURL(download.dataset.url);
      }
      var url = URL.createObjectURL(new Blob([toCsv(spec.table)], { type: 'text/csv' }));
      download.href = url;
      download.dataset.url = url;
      download.download = (spec.id || 'chart') + '.csv';
    }
    var title = figure.querySelector('.pm-chart__title');
    if (title) {
      title.textContent = spec.title;
    }
    var caption = figure.querySelector('table.pm-chart__table caption');
    if (caption) {
      caption.textContent = spec.title;
    }
    var summary = figure.querySelector('.pm-chart__summary');
    if (summary) {
      summary.textContent = spec.summary || '';
      summary.hidden = !spec.summary;
    }
    var badge = figure.querySelector('.pm-chart__caption .badge.sim');
    if (badge) {
      badge.hidden = !spec.simulated;
    }
    var empty = figure.querySelector('.pm-chart__empty');
    var points = countPoints(spec);
    if (empty) {
      empty.hidden = points > 0;
    }
    figure.dataset.points = String(points);
    figure.dataset.chartReady = '1';
    figure.spec = spec;
  }

  function bindToolbar(figure) {
    var reset = figure.querySelector('button.pm-chart__reset');
    if (reset) {
      reset.addEventListener('click', function () {
        if (figure.pmChart && figure.pmChart.resetZoom) {
          figure.pmChart.resetZoom();
        }
      });
    }
  }

  function render(figure) {
    var source = figure.querySelector('script[type="application/json"]');
    if (!source) {
      return null;
    }
    var spec = JSON.parse(source.textContent);
    figures[spec.id] = figure;
    bindToolbar(figure);
    draw(figure, spec);
    return figure.pmChart;
  }

  function renderAll(root) {
    var charts = [];
    (root || document).querySelectorAll('figure.pm-chart').forEach(function (figure) {
      charts.push(render(figure));
    });
    return charts;
  }

  function update(id, spec) {
    var figure = figures[id];
    if (!figure) {
      return false;
    }
    draw(figure, spec);
    return true;
  }

  global.PmCharts = {
    render: render,
    renderAll: renderAll,
    update: update,
    toCsv: toCsv,
    figure: function (id) { return figures[id] || null; },
    t: t
  };

  if (typeof document !== 'undefined') {
    // chartjs-plugin-zoom and chartjs-chart-matrix register themselves on load
    document.addEventListener('DOMContentLoaded', function () {
      renderAll(document);
    });
  }
})(typeof window !== 'undefined' ? window : this);
