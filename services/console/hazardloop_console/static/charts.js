/* The dashboard's charts: drawn by ECharts from the JSON the page embeds (#figures).
   Each chart sits above a table of the same numbers; a bar with a link opens the
   queue listing its cases. No inline handlers: this file is the only script. */
(function () {
  "use strict";
  var source = document.getElementById("figures");
  if (!source || !window.echarts) { return; }
  var figures = JSON.parse(source.textContent);
  figures.charts.forEach(function (spec) {
    var element = document.getElementById(spec.id);
    if (!element || !spec.x.length) { return; }
    element.hidden = false;
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    var categories = { type: "category", data: spec.x, axisLabel: { hideOverlap: true } };
    var values = { type: "value", axisLabel: { formatter: spec.unit ? "{value}" + spec.unit : "{value}" } };
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: spec.horizontal ? values : categories,
      yAxis: spec.horizontal ? Object.assign({ inverse: true }, categories) : values,
      series: spec.series.map(function (s) {
        return { name: s.name, type: "bar", stack: s.stack, data: s.data, cursor: "pointer" };
      })
    });
    chart.on("click", function (event) {
      if (event.data && event.data.link) { window.location.assign(event.data.link); }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
}());
