/* 统计监测 charts: ECharts (vendored, static/vendor/echarts-5.6.0) drawn as SVG, so that they print sharply; a
   viewBox is kept on each chart's SVG so that the print CSS scales it to the A4 width. */
(function () {
  "use strict";
  var charts = [];
  var COLORS = ["#c0392b", "#8e44ad", "#d35400", "#16a085"];

  function fmt(value) {
    if (value === null || value === undefined) return "—";
    return Number(value).toLocaleString("zh-CN", {maximumFractionDigits: 2});
  }

  function keepViewBox(chart) {
    var svg = chart.getDom().querySelector("svg");
    if (!svg) return;
    svg.setAttribute("viewBox", "0 0 " + chart.getWidth() + " " + chart.getHeight());
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  }

  function make(el, option) {
    var chart = echarts.init(el, null, {renderer: "svg"});
    chart.on("finished", function () { keepViewBox(chart); });
    chart.setOption(option);
    keepViewBox(chart);
    charts.push(chart);
    return chart;
  }

  function resizeAll() {
    charts.forEach(function (chart) { chart.resize(); keepViewBox(chart); });
  }

  /* An indicator's values over time, each target as a dashed line from its baseline with a marked end, and the
     trend carried on to the target year. data: {name, unit, points: [[time, value, when, source]], targets: [...]} */
  function trend(el, data) {
    var unit = data.unit || "";
    var times = data.points.map(function (p) { return p[0]; });
    var series = [{
      name: "实际值",
      type: "line",
      data: data.points.map(function (p) { return {value: [p[0], p[1]], when: p[2], source: p[3]}; }),
      symbolSize: 7,
      lineStyle: {width: 2, color: "#2d6aa3"},
      itemStyle: {color: "#2d6aa3"},
      label: {show: data.points.length <= 8, position: "top", fontSize: 10, formatter: function (p) { return fmt(p.value[1]); }},
      z: 3
    }];
    data.targets.forEach(function (t, i) {
      var color = COLORS[i % COLORS.length];
      times.push(t.year, t.baseline_year);
      series.push({
        name: t.label,
        type: "line",
        data: [[t.baseline_year, t.baseline_value], [t.year, t.value]],
        lineStyle: {type: "dashed", width: 1.5, color: color},
        itemStyle: {color: color},
        symbol: "circle",
        symbolSize: 4,
        markPoint: {
          symbol: "pin",
          symbolSize: 38,
          data: [{coord: [t.year, t.value], value: fmt(t.value)}],
          label: {fontSize: 9, color: "#fff"},
          itemStyle: {color: color}
        },
        tooltip: {formatter: function (p) { return t.label + "：" + fmt(t.value) + unit + "（基期 " + t.baseline_year + " 年 " + fmt(t.baseline_value) + unit + "）"; }}
      });
      if (t.forecast !== null && t.latest_time !== null && t.latest_time < t.year) {
        series.push({
          name: "按现有趋势推算",
          type: "line",
          data: [[t.latest_time, t.latest_value], [t.year, t.forecast]],
          lineStyle: {type: "dotted", width: 1.5, color: "#7f8c8d"},
          itemStyle: {color: "#7f8c8d"},
          symbol: "emptyCircle",
          symbolSize: 5,
          tooltip: {formatter: function () { return "按现有趋势 " + t.year + " 年约 " + fmt(t.forecast) + unit; }}
        });
      }
    });
    var min = Math.floor(Math.min.apply(null, times.length ? times : [2020]));
    var max = Math.ceil(Math.max.apply(null, times.length ? times : [2026]));
    return make(el, {
      animation: false,
      color: ["#2d6aa3"],
      tooltip: {
        trigger: "item",
        confine: true,
        formatter: function (p) {
          if (p.seriesIndex === 0) return p.data.when + "：" + fmt(p.data.value[1]) + unit + "<br>来源：" + p.data.source;
          return p.seriesName + "：" + fmt(p.value[1]) + unit;
        }
      },
      legend: {type: "scroll", bottom: 0, textStyle: {fontSize: 11}, itemWidth: 18, itemHeight: 8},
      grid: {left: 8, right: 28, top: 44, bottom: 30, containLabel: true},
      xAxis: {type: "value", min: min, max: max, interval: max - min > 12 ? 2 : 1, axisLabel: {formatter: function (v) { return String(v); }, fontSize: 10}},
      yAxis: {type: "value", name: unit, nameTextStyle: {fontSize: 10, align: "left"}, axisLabel: {fontSize: 10}, scale: true},
      series: series
    });
  }

  /* Counts as horizontal bars. rows: [[label, count]]. */
  function bars(el, rows, unit, name) {
    var shown = rows.slice().reverse();
    return make(el, {
      animation: false,
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, confine: true},
      grid: {left: 8, right: 48, top: 24, bottom: 8, containLabel: true},
      xAxis: {type: "value", name: unit, minInterval: 1, axisLabel: {fontSize: 10}},
      yAxis: {type: "category", data: shown.map(function (r) { return r[0]; }), axisLabel: {fontSize: 11}},
      series: [{name: name, type: "bar", data: shown.map(function (r) { return r[1]; }), itemStyle: {color: "#2d6aa3"},
                barMaxWidth: 18, label: {show: true, position: "right", fontSize: 10}}]
    });
  }

  // Printing does not redraw: each SVG keeps its viewBox and the print CSS scales it to the page's width (a
  // redraw at print time would measure containers whose height the print CSS leaves to the picture).
  window.addEventListener("resize", function () {
    if (!window.matchMedia || !window.matchMedia("print").matches) resizeAll();
  });
  window.kcCharts = {trend: trend, bars: bars, all: charts, resize: resizeAll};
})();
