// Tenor console: draws each chart from the data the server rendered into its data-chart
// attribute (the same numbers as the table beside it and its CSV file). No inline script
// anywhere: the page's CSP allows scripts from the console only.
(function () {
  "use strict";

  var palettes = {
    // Past-due buckets M1..M6+ and the classes below Normal, from mild (amber) to worst.
    buckets: ["#f2b705", "#f29f05", "#e67e22", "#d35400", "#c0392b", "#922b21", "#641e16"],
    classes: ["#f2b705", "#e67e22", "#c0392b", "#641e16"],
    products: ["#0b5cad"]
  };

  function draw(element) {
    var spec = JSON.parse(element.getAttribute("data-chart"));
    var locale = spec.locale === "zh-CN" ? "zh-CN" : "en";
    // Numbers only to size the bars; the exact amounts are in the table and the CSV.
    var values = spec.values.map(Number);
    var palette = palettes[spec.kind] || palettes.products;
    var number = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
    var compact = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
    var label = function (value) {
      return spec.percent ? number.format(value) + "%" : compact.format(value);
    };
    var chart = echarts.init(element, null, { renderer: "svg", locale: locale === "zh-CN" ? "ZH" : "EN" });
    chart.setOption({
      animation: false,
      aria: { enabled: true },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        valueFormatter: function (value) {
          return spec.percent ? number.format(value) + "%" : number.format(value) + " " + spec.currency;
        }
      },
      xAxis: { type: "category", data: spec.categories, axisLabel: { interval: 0 } },
      yAxis: { type: "value", axisLabel: { formatter: label } },
      series: [{
        name: spec.series,
        type: "bar",
        data: values.map(function (value, index) {
          return { value: value, itemStyle: { color: palette[Math.min(index, palette.length - 1)] } };
        }),
        label: { show: true, position: "top", formatter: function (p) { return label(p.value); } }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    element.setAttribute("data-drawn", "true");
  }

  function drawAll(root) {
    if (typeof echarts === "undefined") { return; }
    root.querySelectorAll(".chart[data-chart]:not([data-drawn])").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
})();
