/* crimescope dashboard: sortable tables, forms, trend chart (Plotly, served locally), SVG map.
   No network beyond this server, except the map's optional street-map tiles, fetched only when the user turns them on. */
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
    var all = Array.prototype.slice.call(tbody.rows);
    var pinned = all.filter(function (r) { return r.hasAttribute("data-pinned"); });
    var rows = all.filter(function (r) { return !r.hasAttribute("data-pinned"); });
    rows.sort(function (a, b) {
      var x = cellValue(a, key, text), y = cellValue(b, key, text);
      var c = text ? String(x).localeCompare(String(y), undefined, {numeric: true}) : (x - y);
      return desc ? -c : c;
    });
    pinned.concat(rows).forEach(function (r) { tbody.appendChild(r); });  // the citywide row stays first
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
    var word = d.interval === "month" ? "month" : "week";
    // a period cut by the span (fewer days counted) is not a drop: it is left out of the line and drawn apart
    var full = d.rows.map(function (r) { return r.partial ? null : r.count; });
    var cut = d.rows.filter(function (r) { return r.partial && r.count !== null && r.count !== undefined; });
    var traces = [
      {x: x, y: full, name: d.label, type: "scatter", mode: "lines+markers", connectgaps: false,
       line: {color: "#b2182b"}},
      {x: cut.map(function (r) { return r.period; }), y: cut.map(function (r) { return r.count; }),
       name: "partial " + word + " (fewer days counted)", type: "scatter", mode: "markers",
       marker: {color: "#b2182b", size: 11, symbol: "diamond-open", line: {width: 2}},
       text: cut.map(function (r) { return "partial " + word + ": only the days inside the span are counted"; }),
       hoverinfo: "x+y+text", showlegend: cut.length > 0},
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
  /* ---- forms built from what exists ---- */
  function initForms() {
    // area kind -> the picker of that kind's units (the others hidden and disabled, so not sent)
    document.querySelectorAll("select[data-area-kind]").forEach(function (sel) {
      var form = sel.form;
      function sync() {
        form.querySelectorAll("label.area-units").forEach(function (l) {
          var on = l.getAttribute("data-kind") === sel.value;
          l.hidden = !on;
          l.querySelector("select").disabled = !on;
        });
      }
      sel.addEventListener("change", sync);
      sync();
    });
    // category checkboxes -> one comma list (categories=a,b)
    document.querySelectorAll("details.picker[data-join]").forEach(function (d) {
      var hidden = d.querySelector('input[type="hidden"]'), summary = d.querySelector("summary");
      var def = summary.textContent;
      d.querySelectorAll('input[type="checkbox"]').forEach(function (cb) {
        cb.addEventListener("change", function () {
          var v = Array.prototype.slice.call(d.querySelectorAll('input[type="checkbox"]:checked')).map(function (c) { return c.value; });
          hidden.value = v.join(",");
          summary.textContent = v.length ? v.length + " chosen" : def;
          // a select that follows this list (the CompStat category) offers only the categories chosen
          var sel = hidden.form && hidden.form.querySelector('select[data-follows="' + hidden.name + '"]');
          if (sel) {
            if (!sel.hasAttribute("data-initial")) sel.setAttribute("data-initial", sel.innerHTML);
            var cur = sel.value;
            if (!v.length) sel.innerHTML = sel.getAttribute("data-initial");
            else sel.innerHTML = v.map(function (name) {
              var box = d.querySelector('input[value="' + name + '"]');
              var o = document.createElement("option");
              o.value = name; o.textContent = box.parentNode.textContent.trim();
              return o.outerHTML;
            }).join("");
            if (Array.prototype.some.call(sel.options, function (o) { return o.value === cur; })) sel.value = cur;
          }
        });
      });
    });
    // map: rates only where a population is published; layer switches redraw the page with that layer
    var mf = document.getElementById("map-form");
    if (mf) {
      var kind = mf.querySelector('select[name="kind"]'), measure = mf.querySelector('select[name="measure"]');
      if (kind && measure) {
        var syncRate = function () {
          var ok = kind.selectedOptions[0] && kind.selectedOptions[0].getAttribute("data-rate") === "1";
          var rate = measure.querySelector('option[value="rate"]');
          rate.disabled = !ok;
          if (!ok && measure.value === "rate") measure.value = "count";
        };
        kind.addEventListener("change", syncRate);
        syncRate();
      }
      document.querySelectorAll("input[data-layer]").forEach(function (cb) {
        var name = cb.getAttribute("data-layer");
        if (name === "basemap") return;  // drawn in place, see drawMap
        cb.addEventListener("change", function () {
          mf.querySelector('input[data-layer-field="' + name + '"]').value = cb.checked ? "true" : "false";
          mf.submit();
        });
      });
      document.querySelectorAll("select[data-layer-select]").forEach(function (sel) {
        sel.addEventListener("change", function () {
          mf.querySelector('input[data-layer-field="' + sel.getAttribute("data-layer-select") + '"]').value = sel.value;
          mf.submit();
        });
      });
    }
  }

  /* ---- the map: Web Mercator SVG, choropleth + optional layers + labels + optional tiles ---- */
  var SCALE = ["#edf8fb", "#b3cde3", "#8c96c6", "#8856a7", "#810f7c"];  // ColorBrewer BuPu: stays apart from red / black
  var NODATA = "#d9d9d9";
  var TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
  // bins that never overlap: values rounded to the step (1 for counts, 0.1 for rates), each bin [lo, hi]
  function bins(values, step) {
    var v = values.filter(function (x) { return x !== null && x !== undefined && !isNaN(x); })
      .map(function (x) { return Math.round(x / step) * step; }).sort(function (a, b) { return a - b; });
    if (!v.length) return [];
    var out = [], lo = v[0];
    for (var i = 1; i <= SCALE.length && lo <= v[v.length - 1] + 1e-9; i++) {
      var hi = i === SCALE.length ? v[v.length - 1] : v[Math.min(v.length - 1, Math.ceil(i * v.length / SCALE.length) - 1)];
      if (hi < lo) hi = lo;
      out.push([lo, hi]);
      lo = Math.round((hi + step) / step) * step;
    }
    return out;
  }
  function binOf(v, br, step) {
    if (v === null || v === undefined || isNaN(v)) return -1;
    var r = Math.round(v / step) * step;
    for (var i = 0; i < br.length; i++) if (r <= br[i][1] + 1e-9) return i;
    return br.length - 1;
  }
  function fmt(x, step) {
    return step < 1 ? x.toLocaleString("en-US", {minimumFractionDigits: 1, maximumFractionDigits: 1})
                    : Math.round(x).toLocaleString("en-US");
  }
  function mercY(lat) { var r = lat * Math.PI / 180; return Math.log(Math.tan(Math.PI / 4 + r / 2)); }
  function drawMap(divId, legendId, dataId) {
    var d = JSON.parse(document.getElementById(dataId).textContent);
    var rate = d.measure === "rate", field = rate ? "rate_per_100k" : "count", step = rate ? 0.1 : 1;
    var byUnit = {};
    d.rows.forEach(function (r) { if (r.unit !== null) byUnit[r.unit] = r; });
    var div = document.getElementById(divId), info = document.getElementById("map-info");
    fetch("/api/geometry/" + d.kind + ".geojson" + (d.geometry_qs || "")).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (gj) {
      var minx = 1e9, maxx = -1e9, miny = 1e9, maxy = -1e9;
      function walk(c, f) { if (typeof c[0] === "number") f(c); else c.forEach(function (k) { walk(k, f); }); }
      gj.features.forEach(function (ft) { walk(ft.geometry.coordinates, function (p) {
        minx = Math.min(minx, p[0]); maxx = Math.max(maxx, p[0]); miny = Math.min(miny, p[1]); maxy = Math.max(maxy, p[1]); }); });
      var W = 1000, mx0 = minx * Math.PI / 180, mx1 = maxx * Math.PI / 180, my0 = mercY(miny), my1 = mercY(maxy);
      var s = W / (mx1 - mx0), H = Math.ceil((my1 - my0) * s);
      function X(lon) { return (lon * Math.PI / 180 - mx0) * s; }
      function Y(lat) { return (my1 - mercY(lat)) * s; }
      function ring(r) { return "M" + r.map(function (p) { return X(p[0]).toFixed(1) + "," + Y(p[1]).toFixed(1); }).join("L") + "Z"; }
      function pathOf(g) {
        var polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
        return polys.map(function (p) { return p.map(ring).join(""); }).join("");
      }
      var values = Object.keys(byUnit).map(function (u) { return byUnit[u][field]; });
      var br = bins(values, step);
      var NS = "http://www.w3.org/2000/svg";
      function el(name, attrs, parent) {
        var e = document.createElementNS(NS, name);
        Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
        if (parent) parent.appendChild(e);
        return e;
      }
      var svg = el("svg", {viewBox: "0 0 " + W + " " + H, role: "img", preserveAspectRatio: "xMidYMid meet"});
      var defs = el("defs", {}, svg);
      var pat = el("pattern", {id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)"}, defs);
      el("rect", {width: 6, height: 6, fill: "rgba(255,255,255,0.35)"}, pat);
      el("line", {x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#111", "stroke-width": 2.2}, pat);
      var gBase = el("g", {"class": "basemap"}, svg), gUnits = el("g", {"class": "units"}, svg);
      var gHot = el("g", {"class": "hotspots"}, svg), gFc = el("g", {"class": "forecast"}, svg), gLbl = el("g", {"class": "labels"}, svg);
      var word = d.kind.replace("_", " "), labels = [];
      function describe(ft, v) {
        var name = ft.properties.name;
        var head = d.kind === "community_area" ? (name || word + " " + ft.properties.unit) + " (" + ft.properties.unit + ")"
          : word + " " + ft.properties.unit + (name ? " (" + name + ")" : "");
        return head + ": " + (v === null || v === undefined ? "no data" : fmt(v, step)) + (rate ? " per 100,000" : "");
      }
      gj.features.forEach(function (ft) {
        var u = ft.properties.unit, row = byUnit[u], v = row ? row[field] : null;
        var b = binOf(v, br, step);
        var p = el("path", {d: pathOf(ft.geometry), fill: b < 0 ? NODATA : SCALE[b], "class": "unit", "data-unit": u,
                            "data-value": v === null || v === undefined ? "" : v, "data-bin": b}, gUnits);
        el("title", {}, p).textContent = describe(ft, v);
        var show = function () { if (info) info.textContent = describe(ft, v); };
        p.addEventListener("mouseenter", show); p.addEventListener("click", show);
        var at = ft.properties.label_at;
        if (at) labels.push({x: X(at[0]), y: Y(at[1]), text: d.kind === "district" ? u : (d.kind === "community_area" ? (ft.properties.name || u) : u)});
      });
      function rects(layer, draw) {
        if (!layer || !layer.rows) return;
        layer.rows.forEach(function (r) {
          var x = X(r.lon_min), y = Y(r.lat_max);
          var e = el("rect", {x: x.toFixed(1), y: y.toFixed(1), width: Math.max(1, X(r.lon_max) - x).toFixed(1),
                              height: Math.max(1, Y(r.lat_min) - y).toFixed(1)});
          draw(e, r);
        });
      }
      rects(d.layers.hotspots, function (e, r) {
        e.setAttribute("class", r.gi_bin > 0 ? "hot b" + r.gi_bin : "cold b" + (-r.gi_bin));
        e.setAttribute("data-bin", r.gi_bin);
        el("title", {}, e).textContent = r.gi_label + ", " + r.count + " in the cell (Gi* z " + r.gi_z + ")";
        gHot.appendChild(e);
      });
      rects(d.layers.forecast, function (e, r) {
        e.setAttribute("class", "fc");
        el("title", {}, e).textContent = "forecast rank " + r.rank + ", expected " + r.expected + " in 7 days";
        gFc.appendChild(e);
      });
      div.innerHTML = "";
      div.appendChild(svg);
      // labels at each unit's inner point; a label that would overlap one already placed is left out
      function placeLabels() {
        while (gLbl.firstChild) gLbl.removeChild(gLbl.firstChild);
        if (d.kind === "beat") return;  // 275 beats: their numbers are in the tooltips and the table
        var k = W / Math.max(1, div.clientWidth), px = d.kind === "district" ? 15 : 11;
        var placed = [];
        labels.forEach(function (l) {
          var t = el("text", {x: l.x.toFixed(1), y: l.y.toFixed(1), "class": "lbl " + d.kind, "font-size": (px * k).toFixed(1),
                              "stroke-width": (3 * k).toFixed(1)}, gLbl);
          t.textContent = l.text;
          var bb = t.getBBox();
          var hit = bb.x < 0 || bb.y < 0 || bb.x + bb.width > W || bb.y + bb.height > H || placed.some(function (q) { return bb.x < q.x + q.width && q.x < bb.x + bb.width && bb.y < q.y + q.height && q.y < bb.y + bb.height; });
          if (hit) gLbl.removeChild(t); else placed.push(bb);
        });
        div.setAttribute("data-labels", placed.length);
      }
      placeLabels();
      var timer = null;
      window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(placeLabels, 200); });
      div.setAttribute("data-drawn", gj.features.length);
      // the choropleth legend: one swatch per bin, bins that never overlap
      var lg = document.getElementById(legendId), html = "";
      br.forEach(function (b, i) {
        var n = gUnits.querySelectorAll('path[data-bin="' + i + '"]').length;
        html += '<div data-bin="' + i + '"><span class="sw" style="background:' + SCALE[i] + '"></span>' +
          (b[0] === b[1] ? fmt(b[0], step) : fmt(b[0], step) + "–" + fmt(b[1], step)) + ' <span class="hint">&nbsp;(' + n + " " + word + (n === 1 ? "" : "s") + ")</span></div>";
      });
      if (gUnits.querySelector('path[data-bin="-1"]')) html += '<div><span class="sw" style="background:' + NODATA + '"></span>no data</div>';
      lg.innerHTML = html;
      // the optional street map (OpenStreetMap tiles): fetched only when turned on, nothing at all when off
      var toggle = document.getElementById("basemap-toggle"), status = document.getElementById("basemap-status");
      var attribution = document.getElementById("map-attribution");
      function tiles(on) {
        while (gBase.firstChild) gBase.removeChild(gBase.firstChild);
        div.classList.toggle("basemap-on", false);
        if (attribution) attribution.hidden = true;
        var field = document.querySelector('input[data-layer-field="basemap"]');
        if (field) field.value = on ? "true" : "false";
        var u = new URL(window.location.href);
        if (on) u.searchParams.set("basemap", "true"); else u.searchParams.delete("basemap");
        window.history.replaceState(null, "", u.toString());
        if (!on) { if (status) status.textContent = "Off: nothing is fetched from outside this server."; return; }
        var z = Math.max(9, Math.min(15, Math.round(Math.log2(div.clientWidth * (window.devicePixelRatio || 1) * 2 * Math.PI / (256 * (mx1 - mx0))))));
        var n = Math.pow(2, z);
        function tx(lon) { return (lon + 180) / 360 * n; }
        function ty(lat) { return (1 - mercY(lat) / Math.PI) / 2 * n; }
        var x0 = Math.floor(tx(minx)), x1 = Math.floor(tx(maxx)), y0 = Math.floor(ty(maxy)), y1 = Math.floor(ty(miny));
        var size = W / ((tx(maxx) - tx(minx)));  // one tile in viewBox units
        var probe = new Image(), first = TILES.replace("{z}", z).replace("{x}", x0).replace("{y}", y0);
        if (status) status.textContent = "loading street map tiles from OpenStreetMap…";
        probe.onload = function () {
          if (!toggle.checked) return;
          for (var x = x0; x <= x1; x++) for (var y = y0; y <= y1; y++) {
            el("image", {href: TILES.replace("{z}", z).replace("{x}", x).replace("{y}", y), x: ((x - tx(minx)) * size).toFixed(2),
                         y: ((y - ty(maxy)) * size).toFixed(2), width: size.toFixed(2), height: size.toFixed(2)}, gBase);
          }
          div.classList.toggle("basemap-on", true);
          if (attribution) attribution.hidden = false;
          if (status) status.textContent = "Street map on: " + ((x1 - x0 + 1) * (y1 - y0 + 1)) + " tiles from OpenStreetMap (zoom " + z + ").";
        };
        probe.onerror = function () {
          if (status) status.textContent = "Street map not reachable from here (offline?): the map works without it.";
        };
        probe.src = first;
      }
      if (toggle) {
        toggle.addEventListener("change", function () { tiles(toggle.checked); });
        if (toggle.checked) tiles(true);
      }
    }).catch(function (e) {
      div.textContent = "not available: map geometry could not be loaded (" + e + ")";
    });
  }
  // CompStat on a phone: one period at a time (the buttons show only below 700 px; all columns above)
  function initPeriodSwitch() {
    document.querySelectorAll(".period-switch[data-for]").forEach(function (box) {
      var table = document.getElementById(box.getAttribute("data-for"));
      if (!table) return;
      box.querySelectorAll("button[data-show]").forEach(function (b) {
        b.addEventListener("click", function () {
          table.setAttribute("data-show", b.getAttribute("data-show"));
          box.querySelectorAll("button[data-show]").forEach(function (o) { o.setAttribute("aria-pressed", o === b ? "true" : "false"); });
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { initSortable(); initForms(); initPeriodSwitch(); });
  return {trendChart: trendChart, drawMap: drawMap, sortTable: sortTable, bins: bins, binOf: binOf};
})();
