/* crimescope dashboard: sortable tables, trend chart (Plotly, served locally), SVG map. No network beyond this server. */
"use strict";
var crimescope = (function () {
  function cellValue(tr, key, text) {
    var td = tr.querySelector('td[data-col="' + key + '"]');
    if (!td) return text ? "" : -Infinity;
    var v = td.getAttribute("data-value");
    if (text) return v === null ? td.textContent : v;
    var n = parseFloat(v);
    return isNaN(n) ? -Infinity : n;
  }
  function sortTable(table, spec, push) {
    if (!spec) return;
    var desc = spec.charAt(0) === "-", key = desc ? spec.slice(1) : spec;
    var th = table.querySelector('th[data-key="' + key + '"]');
    if (!th) return;
    var text = th.getAttribute("data-type") === "text";
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, key, text), y = cellValue(b, key, text);
      var c = text ? String(x).localeCompare(String(y), undefined, {numeric: true}) : (x - y);
      return desc ? -c : c;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
    table.querySelectorAll("th[data-key]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    table.setAttribute("data-sort", spec);
    if (push && table.id === "compstat") {
      var u = new URL(window.location.href);
      u.searchParams.set("sort", spec);
      window.history.replaceState(null, "", u.toString());
    }
  }
  function initSortable() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("th[data-key]").forEach(function (th) {
        th.classList.add("sortkey");
        th.addEventListener("click", function () {
          var key = th.getAttribute("data-key"), cur = table.getAttribute("data-sort") || "";
          var spec = cur === "-" + key ? key : "-" + key;  // first click: largest first
          sortTable(table, spec, true);
        });
      });
      var initial = table.getAttribute("data-sort");
      if (initial) sortTable(table, initial, false);
    });
  }
  function trendChart(divId, dataId) {
    var d = JSON.parse(document.getElementById(dataId).textContent);
    if (typeof Plotly === "undefined") {
      document.getElementById(divId).textContent = "not available: the chart script did not load";
      return;
    }
    var x = d.rows.map(function (r) { return r.period; });
    var traces = [
      {x: x, y: d.rows.map(function (r) { return r.count; }), name: d.label, type: "scatter", mode: "lines+markers",
       line: {color: "#b2182b"}},
      {x: x, y: d.rows.map(function (r) { return r.prior_count; }), name: "year before", type: "scatter",
       mode: "lines", line: {color: "#777", dash: "dot"},
       text: d.rows.map(function (r) { return "year before: " + r.prior_period; }), hoverinfo: "y+text"}];
    // expected (STL trend + seasonal) with its 95% band and the unusual periods, when the store has them
    if (d.rows.some(function (r) { return r.expected !== null && r.expected !== undefined; })) traces.push(
      {x: x, y: d.rows.map(function (r) { return r.expected_high; }), name: "expected, 95% band", type: "scatter",
       mode: "lines", line: {width: 0}, hoverinfo: "skip", showlegend: false},
      {x: x, y: d.rows.map(function (r) { return r.expected_low; }), name: "expected, 95% band", type: "scatter",
       mode: "lines", line: {width: 0}, fill: "tonexty", fillcolor: "rgba(33,102,172,0.15)", hoverinfo: "skip"},
      {x: x, y: d.rows.map(function (r) { return r.expected; }), name: "expected (seasonal)", type: "scatter",
       mode: "lines", line: {color: "#2166ac"}},
      {x: x.filter(function (_, i) { return d.rows[i].unusual; }),
       y: d.rows.filter(function (r) { return r.unusual; }).map(function (r) { return r.count; }),
       name: "unusual", type: "scatter", mode: "markers", marker: {color: "#000", size: 10, symbol: "circle-open"}});
    Plotly.newPlot(divId, traces, {margin: {l: 50, r: 20, t: 10, b: 50}, legend: {orientation: "h"}, yaxis: {rangemode: "tozero", title: "count"},
        xaxis: {title: d.interval}}, {displaylogo: false, responsive: true});
  }
  var SCALE = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"];
  function quantileBreaks(values) {
    var v = values.filter(function (x) { return x !== null && !isNaN(x); }).sort(function (a, b) { return a - b; });
    if (!v.length) return [];
    var out = [];
    for (var i = 1; i < SCALE.length; i++) out.push(v[Math.min(v.length - 1, Math.floor(i * v.length / SCALE.length))]);
    return out;
  }
  function colour(v, br) {
    if (v === null || v === undefined || isNaN(v)) return "#ddd";
    var i = 0;
    while (i < br.length && v > br[i]) i++;
    return SCALE[i];
  }
  function drawMap(divId, legendId, dataId) {
    var d = JSON.parse(document.getElementById(dataId).textContent);
    var field = d.measure === "rate" ? "rate_per_100k" : "count";
    var byUnit = {};
    d.rows.forEach(function (r) { if (r.unit !== null) byUnit[r.unit] = r; });
    fetch("/api/geometry/" + d.kind + ".geojson" + (d.geometry_qs || "")).then(function (r) { return r.json(); }).then(function (gj) {
      var minx = 1e9, maxx = -1e9, miny = 1e9, maxy = -1e9;
      function walk(c, f) { if (typeof c[0] === "number") f(c); else c.forEach(function (k) { walk(k, f); }); }
      gj.features.forEach(function (ft) { walk(ft.geometry.coordinates, function (p) {
        minx = Math.min(minx, p[0]); maxx = Math.max(maxx, p[0]); miny = Math.min(miny, p[1]); maxy = Math.max(maxy, p[1]); }); });
      var k = Math.cos((miny + maxy) / 2 * Math.PI / 180), W = 560;
      var s = W / ((maxx - minx) * k), H = Math.ceil((maxy - miny) * s);
      function X(lon) { return ((lon - minx) * k * s).toFixed(1); }
      function Y(lat) { return ((maxy - lat) * s).toFixed(1); }
      function ring(r) { return "M" + r.map(function (p) { return X(p[0]) + "," + Y(p[1]); }).join("L") + "Z"; }
      function pathOf(g) {
        var polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
        return polys.map(function (p) { return p.map(ring).join(""); }).join("");
      }
      var br = quantileBreaks(Object.keys(byUnit).map(function (u) { return byUnit[u][field]; }));
      var NS = "http://www.w3.org/2000/svg";
      var svg = document.createElementNS(NS, "svg");
      svg.setAttribute("viewBox", "0 0 " + W + " " + H);
      svg.setAttribute("width", W); svg.setAttribute("height", H);
      gj.features.forEach(function (ft) {
        var u = ft.properties.unit, row = byUnit[u], v = row ? row[field] : null;
        var p = document.createElementNS(NS, "path");
        p.setAttribute("d", pathOf(ft.geometry));
        p.setAttribute("fill", colour(v, br));
        p.setAttribute("class", "unit");
        p.setAttribute("data-unit", u);
        p.setAttribute("data-value", v === null ? "" : v);
        var t = document.createElementNS(NS, "title");
        t.textContent = d.kind.replace("_", " ") + " " + u + (ft.properties.name ? " (" + ft.properties.name + ")" : "") +
          ": " + (v === null ? "n/a" : v) + (d.measure === "rate" ? " per 100,000" : "");
        p.appendChild(t);
        svg.appendChild(p);
      });
      function rects(layer, cls, fill) {
        if (!layer || !layer.rows) return;
        layer.rows.forEach(function (r) {
          var e = document.createElementNS(NS, "rect");
          e.setAttribute("x", X(r.lon_min)); e.setAttribute("y", Y(r.lat_max));
          e.setAttribute("width", Math.max(1, X(r.lon_max) - X(r.lon_min)));
          e.setAttribute("height", Math.max(1, Y(r.lat_min) - Y(r.lat_max)));
          e.setAttribute("class", cls);
          if (cls === "hot") { e.setAttribute("fill", fill(r)); e.setAttribute("stroke", fill(r)); e.setAttribute("data-bin", r.gi_bin); }
          else e.setAttribute("fill", "none");
          var t = document.createElementNS(NS, "title");
          t.textContent = cls === "hot" ? (r.gi_label + ", count " + r.count) : ("forecast rank " + r.rank + ", expected " + r.expected);
          e.appendChild(t);
          svg.appendChild(e);
        });
      }
      rects(d.layers.hotspots, "hot", function (r) {
        return r.gi_bin > 0 ? ["", "#fab984", "#ed7551", "#d62f27"][r.gi_bin] : ["", "#c0ccbe", "#849eba", "#4575b5"][-r.gi_bin];
      });
      rects(d.layers.forecast, "fc", null);
      var div = document.getElementById(divId);
      div.innerHTML = "";
      div.appendChild(svg);
      div.setAttribute("data-drawn", gj.features.length);
      var lg = document.getElementById(legendId), html = "<b>" + (d.measure === "rate" ? "per 100,000" : "count") + "</b>";
      var lo = "min";
      for (var i = 0; i < SCALE.length; i++) {
        var hi = i < br.length ? br[i] : "max";
        html += '<div><span class="sw" style="background:' + SCALE[i] + '"></span>' + (i === 0 ? "≤ " + hi : (i < br.length ? lo + " – " + hi : "> " + lo)) + "</div>";
        lo = hi;
      }
      if (d.layers.hotspots && d.layers.hotspots.rows) html += '<div><span class="sw" style="background:#d62f27;opacity:.45"></span>hot spot (Gi*, 90/95/99%)</div><div><span class="sw" style="background:#4575b5;opacity:.45"></span>cold spot</div>';
      if (d.layers.forecast && d.layers.forecast.rows) html += '<div><span class="sw fcsw"></span>forecast: top 1% area</div>';
      lg.innerHTML = html;
    }).catch(function (e) {
      document.getElementById(divId).textContent = "not available: map geometry could not be loaded (" + e + ")";
    });
  }
  document.addEventListener("DOMContentLoaded", initSortable);
  return {trendChart: trendChart, drawMap: drawMap, sortTable: sortTable};
})();
