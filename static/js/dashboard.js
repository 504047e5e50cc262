/* 统计看板: draws the charts beside the dashboard's tables with Apache ECharts (static/vendor/echarts, no CDN).
 * The figures come from the page itself (<script type="application/json" id="dashboard-data">, Django's
 * json_script): no inline script, no request of its own (CSP). Each chart has its table beside it for screen
 * readers and Excel; a bar, a map region or a point with a link goes one level down, as the table's link does. */
(function () {
  "use strict";

  var BLUE = "#0b4f8a", RED = "#b3261e", AMBER = "#b26a00", GREEN = "#1e7b34";

  function short(label) {
    return String(label).replace(/（含所辖县区）$/, "");
  }

  function percent(rate) {
    return rate === null || rate === undefined ? null : Math.round(rate * 1000) / 10;
  }

  function follow(params) {
    var url = params && params.data && params.data.url;
    if (url) { window.location.href = url; }
  }

  function draw(el, option) {
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    chart.on("click", follow);
    el.setAttribute("data-rendered", "1");
    return chart;
  }

  function barsByRegion(rows, series, labels) {
    var shown = rows.filter(function (row) { return series.some(function (s) { return row[s.key]; }); });
    if (!shown.length) { shown = rows; }
    shown = shown.slice().reverse(); // the first row on top
    return {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      legend: { top: 0, data: series.map(function (s) { return labels[s.key]; }) },
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: shown.map(function (row) { return short(row.label); }),
               axisLabel: { width: 110, overflow: "truncate" } },
      series: series.map(function (s) {
        return { name: labels[s.key], type: "bar", itemStyle: { color: s.color }, barMaxWidth: 18,
                 data: shown.map(function (row) { return { value: row[s.key], url: row.url }; }) };
      })
    };
  }

  function ratesByRegion(rows, labels) {
    var shown = rows.filter(function (row) { return row.obliged; }).slice().reverse();
    return {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true, valueFormatter: function (v) {
        return v === null || v === undefined ? "—" : v + "%"; } },
      grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: shown.map(function (row) { return short(row.label); }),
               axisLabel: { width: 110, overflow: "truncate" } },
      series: [{ name: labels.rate, type: "bar", barMaxWidth: 18, itemStyle: { color: GREEN },
                 label: { show: true, position: "right", formatter: "{c}%" },
                 data: shown.map(function (row) { return { value: percent(row.rate), url: row.url }; }) }]
    };
  }

  function reviewTrend(rows, labels) {
    return {
      animation: false,
      tooltip: { trigger: "axis", confine: true },
      legend: { top: 0, data: [labels.decided, labels.on_time] },
      grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: rows.map(function (row) { return row.month.slice(5) + "月"; }) },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" } }],
      series: [
        { name: labels.decided, type: "bar", itemStyle: { color: BLUE }, barMaxWidth: 22,
          data: rows.map(function (row) { return row.decided; }) },
        { name: labels.on_time, type: "line", yAxisIndex: 1, itemStyle: { color: AMBER }, connectNulls: true,
          data: rows.map(function (row) { return percent(row.on_time_rate); }) }
      ]
    };
  }

  function cpeTrend(rows, labels) {
    return {
      animation: false,
      tooltip: { trigger: "axis", confine: true },
      grid: { left: 8, right: 8, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: rows.map(function (row) { return row.month; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: labels.completed, type: "line", areaStyle: { opacity: 0.15 }, itemStyle: { color: GREEN },
                 data: rows.map(function (row) { return row.completed; }) }]
    };
  }

  function shanxiMap(rows, labels) {
    return {
      animation: false,
      tooltip: { trigger: "item", confine: true, formatter: function (p) {
        return p.name + "<br>" + labels.rate + "：" + (p.value === undefined || isNaN(p.value) ? "—" : p.value + "%"); } },
      visualMap: { min: 0, max: 100, left: 0, bottom: 0, text: ["100%", "0%"], calculable: false,
                   inRange: { color: ["#fdecea", "#f6d27a", GREEN] }, itemHeight: 90 },
      series: [{ name: labels.rate, type: "map", map: "山西", roam: false, selectedMode: false,
                 label: { show: true, fontSize: 10 },
                 data: rows.map(function (row) { return { name: row.name, value: row.value, url: row.url }; }) }]
    };
  }

  function start() {
    var source = document.getElementById("dashboard-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var labels = data.labels, charts = [];
    var builders = {
      "regions": function () {
        return barsByRegion(data.regions, [{ key: "open", color: BLUE }, { key: "overdue", color: RED }], labels);
      },
      "review-trend": function () { return reviewTrend(data.review_trend, labels); },
      "cpe": function () { return ratesByRegion(data.cpe, labels); },
      "cpe-trend": function () { return cpeTrend(data.cpe_trend, labels); },
      "map": function () { return data.map && window.echarts.getMap("山西") ? shanxiMap(data.map, labels) : null; }
    };
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var build = builders[el.getAttribute("data-chart")];
      var option = build && build();
      if (option) { charts.push(draw(el, option)); } else { el.hidden = true; }
    });
    if (window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
      // a phone: each trend's month table folds under its chart ("数据表" opens it); open on wider screens
      document.querySelectorAll("details.chart-table").forEach(function (details) { details.open = false; });
    }
    var pending = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () { charts.forEach(function (chart) { chart.resize(); }); }, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
