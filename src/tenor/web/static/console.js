// Tenor console: draws each chart from the data the server rendered into its data-chart
// attribute (the same numbers as the table beside it and its CSV file). No inline script
// anywhere: the page's CSP allows scripts from the console only.
(function () {
  "use strict";

  var palettes = {
    // Past-due buckets M1..M6+ and the classes below Normal, from mild (amber) to worst.
    buckets: ["#f2b705", "#f29f05", "#e67e22", "#d35400", "#c0392b", "#922b21", "#641e16"],
    classes: ["#f2b705", "#e67e22", "#c0392b", "#641e16"],
    products: ["#0b5cad"],
    // Promises kept, broken, pending; agencies in the accent colour.
    promises: ["#1f6f3f", "#c0392b", "#8a96a8"],
    agencies: ["#0b5cad"],
    // One colour a cohort, told apart by hue (and by the legend and the table).
    lines: ["#0b5cad", "#c0392b", "#1f6f3f", "#8e44ad", "#d35400", "#16a085",
            "#2c3e50", "#b7950b", "#7b241c", "#1a5276", "#6c3483", "#117864"]
  };

  function formats(spec) {
    var locale = spec.locale === "zh-CN" ? "zh-CN" : "en";
    var number = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
    var compact = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
    return {
      locale: locale,
      label: function (value) {
        if (spec.percent) { return number.format(value) + "%"; }
        return spec.count ? number.format(value) : compact.format(value);
      },
      exact: function (value) {
        if (spec.percent) { return number.format(value) + "%"; }
        return spec.count ? number.format(value) : number.format(value) + " " + spec.currency;
      }
    };
  }

  function bars(spec, f) {
    // Numbers only to size the bars; the exact amounts are in the table and the CSV.
    var values = spec.values.map(Number);
    var palette = palettes[spec.kind] || palettes.products;
    return {
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", valueFormatter: f.exact },
      xAxis: { type: "category", data: spec.categories, axisLabel: { interval: 0 } },
      // Counts go up in whole steps.
      yAxis: { type: "value", minInterval: spec.count ? 1 : 0, axisLabel: { formatter: f.label } },
      series: [{
        name: spec.series,
        type: "bar",
        data: values.map(function (value, index) {
          return { value: value, itemStyle: { color: palette[Math.min(index, palette.length - 1)] } };
        }),
        label: { show: true, position: "top", formatter: function (p) { return f.label(p.value); } }
      }]
    };
  }

  // Where a bucket's loans went: cured (green), stayed (grey), rolled on (amber, red),
  // paid off (blue), written off (dark red).
  var tones = {
    cured: "#1f6f3f", stayed: "#8a96a8", worse: "#e67e22", "much-worse": "#c0392b",
    "paid-off": "#0b5cad", "written-off": "#641e16", other: "#6c3483"
  };

  function rolls(spec, f) {
    return {
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var loans = spec.loans[p.seriesIndex][p.dataIndex];
          return spec.rows[p.dataIndex] + " → " + p.seriesName + ": " + f.exact(p.value) + " (" + loans + ")";
        }
      },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: f.label } },
      yAxis: { type: "category", data: spec.rows, inverse: true },
      series: spec.targets.map(function (target, t) {
        return {
          name: target,
          type: "bar",
          stack: "rolls",
          barWidth: "60%",
          data: spec.values[t].map(function (value, row) {
            if (value === null) { return null; }
            return { value: Number(value), itemStyle: { color: tones[spec.tones[t][row]] || tones.other } };
          }),
          label: {
            show: true,
            color: "#ffffff",
            formatter: function (p) { return p.value >= 12 ? target + " " + f.label(p.value) : ""; }
          }
        };
      })
    };
  }

  function lines(spec, f) {
    return {
      grid: { left: 8, right: 16, top: 40, bottom: 28, containLabel: true },
      legend: { type: "scroll", top: 0 },
      tooltip: { trigger: "axis", valueFormatter: f.exact },
      xAxis: {
        type: "category", data: spec.categories, boundaryGap: false,
        name: spec.axis, nameLocation: "middle", nameGap: 28
      },
      yAxis: { type: "value", axisLabel: { formatter: f.label } },
      color: palettes.lines,
      series: spec.lines.map(function (line) {
        return {
          name: line.name,
          type: "line",
          connectNulls: false,
          symbolSize: 6,
          data: line.values.map(function (value) { return value === null ? null : Number(value); })
        };
      })
    };
  }

  // Rates side by side for each category (a stage's roll, cure and recovery rates).
  var rateTones = { roll: "#e67e22", cure: "#1f6f3f", recovery: "#0b5cad" };

  function groups(spec, f) {
    return {
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis", valueFormatter: f.exact },
      xAxis: { type: "category", data: spec.categories, axisLabel: { interval: 0 } },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: f.label } },
      series: spec.groups.map(function (group) {
        return {
          name: group.name,
          type: "bar",
          itemStyle: { color: rateTones[group.tone] || palettes.products[0] },
          data: group.values.map(function (value) { return value === null ? null : Number(value); })
        };
      })
    };
  }

  // A forest plot: each row's 95% interval as a floating bar (an invisible bar up to the
  // interval's low end, the interval stacked on it) and a mark at the estimate.
  var armTones = { champion: "#0b5cad", challenger: "#d35400" };

  function intervals(spec, f) {
    var low = spec.low.map(Number);
    var high = spec.high.map(Number);
    return {
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (items) {
          var i = items[0].dataIndex;
          return spec.categories[i] + "<br>" + spec.labels.estimate + ": " + f.exact(Number(spec.estimate[i])) +
            "<br>" + spec.labels.interval + ": " + f.exact(low[i]) + " – " + f.exact(high[i]);
        }
      },
      xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: f.label } },
      yAxis: { type: "category", data: spec.categories, inverse: true },
      series: [
        { name: "base", type: "bar", stack: "interval", silent: true, barWidth: "40%",
          itemStyle: { color: "transparent" }, data: low },
        { name: spec.labels.interval, type: "bar", stack: "interval", barWidth: "40%",
          data: high.map(function (value, i) {
            return { value: value - low[i], itemStyle: { color: armTones[spec.arms[i]] || armTones.champion, opacity: 0.35 } };
          }) },
        { name: spec.labels.estimate, type: "scatter", symbol: "diamond", symbolSize: 12,
          data: spec.estimate.map(function (value, i) {
            return { value: [Number(value), i], itemStyle: { color: armTones[spec.arms[i]] || armTones.champion } };
          }),
          label: { show: true, position: "right", formatter: function (p) { return f.label(p.value[0]); } } }
      ]
    };
  }

  var kinds = { bar: bars, rolls: rolls, lines: lines, groups: groups, intervals: intervals };

  function draw(element) {
    var spec = JSON.parse(element.getAttribute("data-chart"));
    var f = formats(spec);
    var option = (kinds[spec.type] || bars)(spec, f);
    option.animation = false;
    option.aria = { enabled: true };
    var chart = echarts.init(element, null, { renderer: "svg", locale: f.locale === "zh-CN" ? "ZH" : "EN" });
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
    element.setAttribute("data-drawn", "true");
  }

  function drawAll(root) {
    if (typeof echarts === "undefined") { return; }
    root.querySelectorAll(".chart[data-chart]:not([data-drawn])").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  // A swap may replace its own target (the collections section's outerHTML): look everywhere.
  document.addEventListener("htmx:afterSettle", function () { drawAll(document); });
})();
