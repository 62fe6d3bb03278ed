/* archcalc's graph view: the net's data (archcalc/render/report/model.py) laid out by dagre and
   drawn as SVG text. It touches no DOM, so the same code draws the report's graph in the browser
   and `archcalc graph`'s picture in an embedded V8. Every text that reaches the SVG goes through
   esc(): names come from spec files, which anyone can write. */
var ArchGraph = (function () {
  "use strict";
  // dagre's compound layout (blocks as clusters it keeps together) costs seconds past a few dozen
  // open blocks; beyond this many the layout is flat and each open block is drawn as the box
  // around its layers.
  var COMPOUND_LIMIT = 24;
  var CHAR = 7.0, PAD = 10, NODE_H = 38, JOIN_H = 28, LABEL_CHAR = 6.2;
  var LOW = [247, 251, 255], HIGH = [8, 48, 107];  // the colour scale's ends (light to dark blue)

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function human(value) {
    var scales = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
    for (var i = 0; i < scales.length; i++) {
      if (Math.abs(value) >= scales[i][0]) return (value / scales[i][0]).toFixed(1) + " " + scales[i][1];
    }
    return String(value);
  }

  // The item a layer shows as: its outermost collapsed block, or itself.
  function itemOf(node, expanded) {
    for (var i = 0; i < node.groups.length; i++) {
      if (!expanded[node.groups[i]]) return "g" + node.groups[i];
    }
    return "n" + node.id;
  }

  // The items, clusters (expanded blocks) and edges shown with these blocks expanded.
  function build(model, expanded) {
    var items = {}, order = [], edges = {}, edgeOrder = [], clusters = {};
    function add(key, make) {
      if (!items[key]) { items[key] = make(); order.push(key); }
      return items[key];
    }
    model.nodes.forEach(function (node) {
      var key = itemOf(node, expanded);
      add(key, function () {
        if (key.charAt(0) === "g") {
          var index = +key.slice(1), group = model.groups[index];
          return {key: key, kind: "group", index: index, title: group.short,
                  sub: group.kind + " \u00b7 " + group.layers + " layers", parent: group.parent, figs: group.figs};
        }
        return {key: key, kind: node.join ? "join" : "layer", index: node.id, title: node.short, sub: node.type,
                parent: node.groups.length ? node.groups[node.groups.length - 1] : -1, figs: node.figs};
      });
      node.inputs.forEach(function (source) {
        var from, shape;
        if (typeof source === "number") {
          from = itemOf(model.nodes[source], expanded);
          shape = model.nodes[source].shape;
        } else {
          from = "i:" + source;
          shape = model.inputs[source];
          add(from, function () {
            return {key: from, kind: "input", index: source, title: source, sub: shape, parent: -1, figs: {}};
          });
        }
        if (from === key) return;
        var edgeKey = from + ">" + key;
        if (!edges[edgeKey]) { edges[edgeKey] = {from: from, to: key, shapes: []}; edgeOrder.push(edgeKey); }
        if (edges[edgeKey].shapes.indexOf(shape) < 0) edges[edgeKey].shapes.push(shape);
      });
    });
    order.forEach(function (key) {  // every expanded block that holds a shown item is a cluster
      for (var g = items[key].parent; g >= 0 && !clusters[g]; g = model.groups[g].parent) clusters[g] = true;
    });
    return {items: order.map(function (k) { return items[k]; }), edges: edgeOrder.map(function (k) { return edges[k]; }),
            clusters: Object.keys(clusters).map(Number)};
  }

  function size(item) {
    if (item.kind === "join") return [Math.max(44, item.sub.length * CHAR + 2 * PAD), JOIN_H];
    var text = Math.max(item.title.length, item.sub.length) * CHAR + 2 * PAD;
    return [Math.max(60, text + (item.kind === "group" ? 22 : 0)), NODE_H];
  }

  function layout(model, built) {
    var compound = built.clusters.length <= COMPOUND_LIMIT;
    var g = new dagre.graphlib.Graph({compound: compound});
    g.setGraph({rankdir: "TB", nodesep: 22, ranksep: 34, edgesep: 12, marginx: 16, marginy: 16});
    g.setDefaultEdgeLabel(function () { return {}; });
    if (compound) {
      built.clusters.forEach(function (index) { g.setNode("c" + index, {}); });
      built.clusters.forEach(function (index) {
        var parent = model.groups[index].parent;
        if (parent >= 0) g.setParent("c" + index, "c" + parent);
      });
    }
    built.items.forEach(function (item) {
      var wh = size(item);
      g.setNode(item.key, {width: wh[0], height: wh[1]});
      if (compound && item.parent >= 0 && item.kind !== "input") g.setParent(item.key, "c" + item.parent);
    });
    built.edges.forEach(function (edge) {
      var label = edge.shapes.join(" | ");
      g.setEdge(edge.from, edge.to, {label: label, width: label.length * LABEL_CHAR + 6, height: 14, labelpos: "c"});
    });
    dagre.layout(g);
    if (!compound) boxClusters(model, built, g);
    return g;
  }

  // A flat layout's open blocks: the box around each block's items, wider for outer blocks.
  function boxClusters(model, built, g) {
    var boxes = {}, deepest = 0;
    built.clusters.forEach(function (index) { deepest = Math.max(deepest, depth(model, index)); });
    built.items.forEach(function (item) {
      var n = g.node(item.key);
      for (var c = item.kind === "input" ? -1 : item.parent; c >= 0; c = model.groups[c].parent) {
        var pad = 6 + 6 * (deepest - depth(model, c)), b = boxes[c];
        var x0 = n.x - n.width / 2 - pad, x1 = n.x + n.width / 2 + pad, y0 = n.y - n.height / 2 - pad, y1 = n.y + n.height / 2 + pad + 16;
        boxes[c] = b ? [Math.min(b[0], x0), Math.min(b[1], y0), Math.max(b[2], x1), Math.max(b[3], y1)] : [x0, y0, x1, y1];
      }
    });
    var info = g.graph(), shiftX = 0, shiftY = 0;
    Object.keys(boxes).forEach(function (c) { shiftX = Math.max(shiftX, -boxes[c][0] + 4); shiftY = Math.max(shiftY, -boxes[c][1] + 4); });
    built.clusters.forEach(function (index) {
      var b = boxes[index];
      g.setNode("c" + index, {x: (b[0] + b[2]) / 2, y: (b[1] + b[3]) / 2, width: b[2] - b[0], height: b[3] - b[1]});
      info.width = Math.max(info.width, b[2] + 4);
      info.height = Math.max(info.height, b[3] + 4);
    });
    if (shiftX || shiftY) {  // a box reaching past the top or left edge: move everything into view
      g.nodes().forEach(function (key) { var n = g.node(key); n.x += shiftX; n.y += shiftY; });
      g.edges().forEach(function (e) {
        var label = g.edge(e);
        label.points.forEach(function (p) { p.x += shiftX; p.y += shiftY; });
        label.x += shiftX;
        label.y += shiftY;
      });
      info.width += shiftX;
      info.height += shiftY;
    }
  }

  // A value's colour on a log scale between the smallest and largest shown.
  function scale(values) {
    var shown = values.filter(function (v) { return v !== null && v !== undefined && v > 0; });
    var lo = Math.log(Math.min.apply(null, shown.concat([Infinity])));
    var hi = Math.log(Math.max.apply(null, shown.concat([1])));
    return function (v) {
      if (v === null || v === undefined || v <= 0 || !isFinite(lo)) return null;
      var t = hi > lo ? (Math.log(v) - lo) / (hi - lo) : 1;
      return LOW.map(function (c, i) { return Math.round(c + (HIGH[i] - c) * t); }).concat([t]);
    };
  }

  var STYLE = ".archgraph{font-family:DejaVu Sans Mono,monospace;font-size:12px}" +
    ".archgraph .node rect,.archgraph .node ellipse{stroke:#334;stroke-width:1}" +
    ".archgraph .kind-group rect{stroke-width:2;stroke-dasharray:5 2}" +
    ".archgraph .kind-input rect{fill:#fff3d6}" +
    ".archgraph .kind-join ellipse{stroke:#a33;stroke-width:2}" +
    ".archgraph .cluster rect{fill:#f4f6f8;stroke:#99a;stroke-dasharray:3 3}" +
    ".archgraph .cluster text{font-size:11px;fill:#556}" +
    ".archgraph .edge path{fill:none;stroke:#556;stroke-width:1.2}" +
    ".archgraph .edge.join-in path{stroke:#a33}" +
    ".archgraph .edge text{font-size:10px;fill:#225}" +
    ".archgraph .toggle{cursor:pointer;font-weight:bold}" +
    ".archgraph .node{cursor:pointer}.archgraph .node.selected rect,.archgraph .node.selected ellipse{stroke:#e60;stroke-width:3}";

  function path(points) {
    return points.map(function (p, i) { return (i ? "L" : "M") + p.x.toFixed(1) + " " + p.y.toFixed(1); }).join(" ");
  }

  // The whole picture as SVG text. options.standalone adds the XML namespace's style and a legend
  // (the report styles the page itself); options.selected marks one item.
  function svg(model, expanded, colorBy, options) {
    options = options || {};
    var built = build(model, expanded), g = layout(model, built), info = g.graph();
    var colour = scale(built.items.map(function (it) { return it.figs[colorBy]; }));
    var legend = options.standalone ? legendText(model, built, colorBy) : "";
    var width = Math.max(Math.ceil(info.width), legend.length * 7.6 + 32), height = Math.ceil(info.height) + (options.standalone ? 28 : 0);
    var out = ['<svg xmlns="http://www.w3.org/2000/svg" class="archgraph" width="' + width + '" height="' + height +
               '" viewBox="0 0 ' + width + " " + height + '">'];
    if (options.standalone) out.push('<rect width="100%" height="100%" fill="#fff"/><style>' + STYLE + "</style>");
    out.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">' +
             '<path d="M0 0 L10 5 L0 10 z" fill="#556"/></marker></defs>');
    built.clusters.slice().sort(function (a, b) { return depth(model, a) - depth(model, b); }).forEach(function (index) {
      var c = g.node("c" + index), group = model.groups[index];
      var x = c.x - c.width / 2, y = c.y - c.height / 2;
      out.push('<g class="cluster" data-group="' + index + '"><rect x="' + x.toFixed(1) + '" y="' + y.toFixed(1) +
               '" width="' + c.width.toFixed(1) + '" height="' + c.height.toFixed(1) + '" rx="6"/>' +
               // the label at the bottom left: an edge's shape label sits where edges enter, at the top
               '<text class="toggle" data-toggle="' + index + '" x="' + (x + 6).toFixed(1) + '" y="' + (y + c.height - 6).toFixed(1) +
               '">[\u2212]</text><text x="' + (x + 30).toFixed(1) + '" y="' + (y + c.height - 6).toFixed(1) + '">' +
               esc(fit(group.short, (c.width - 36) / 6.6)) + "<title>" + esc(group.name + " (" + group.kind + ")") + "</title></text></g>");
    });
    var kinds = {};
    built.items.forEach(function (it) { kinds[it.key] = it.kind; });
    built.edges.forEach(function (edge) {
      var e = g.edge(edge.from, edge.to);
      out.push('<g class="edge' + (kinds[edge.to] === "join" ? " join-in" : "") + '" data-from="' + esc(edge.from) +
               '" data-to="' + esc(edge.to) + '"><path d="' + path(e.points) + '" marker-end="url(#arrow)"/>' +
               '<text class="shape" text-anchor="middle" x="' + e.x.toFixed(1) + '" y="' + (e.y + 4).toFixed(1) + '">' +
               esc(edge.shapes.join(" | ")) + "</text></g>");
    });
    built.items.forEach(function (it) {
      var n = g.node(it.key), x = n.x - n.width / 2, y = n.y - n.height / 2;
      var c = it.kind === "input" ? null : colour(it.figs[colorBy]);
      var fill = c ? "rgb(" + c[0] + "," + c[1] + "," + c[2] + ")" : (it.kind === "input" ? "#fff3d6" : "#ffffff");
      var ink = c && c[3] > 0.55 ? "#fff" : "#111";
      var selected = options.selected === it.key ? " selected" : "";
      var head = '<g class="node kind-' + it.kind + selected + '" data-key="' + esc(it.key) + '" transform="translate(' +
                 x.toFixed(1) + "," + y.toFixed(1) + ')"><title>' + esc(it.title + " \u2014 " + it.sub) + "</title>";
      if (it.kind === "join") {
        out.push(head + '<ellipse cx="' + n.width / 2 + '" cy="' + n.height / 2 + '" rx="' + n.width / 2 + '" ry="' +
                 n.height / 2 + '" fill="' + fill + '"/><text text-anchor="middle" x="' + n.width / 2 + '" y="' +
                 (n.height / 2 + 4) + '" fill="' + ink + '">' + esc(it.sub) + "</text></g>");
        return;
      }
      var toggle = it.kind === "group" ? '<text class="toggle" data-toggle="' + it.index + '" x="' + (n.width - 20) +
                   '" y="15" fill="' + ink + '">[+]</text>' : "";
      out.push(head + '<rect width="' + n.width + '" height="' + n.height + '" rx="4" fill="' + fill + '"/>' +
               '<text x="' + PAD + '" y="15" fill="' + ink + '" font-weight="bold">' + esc(it.title) + "</text>" +
               '<text x="' + PAD + '" y="30" fill="' + ink + '">' + esc(it.sub) + "</text>" + toggle + "</g>");
    });
    if (options.standalone) {
      out.push('<text x="16" y="' + (height - 10) + '">' + esc(legend) + "</text>");
    }
    out.push("</svg>");
    return out.join("");
  }

  // text cut to about this many characters (at least 3), with an ellipsis
  function fit(text, room) {
    var n = Math.max(3, Math.floor(room));
    return text.length <= n ? text : text.slice(0, n - 1) + "\u2026";
  }

  function legendText(model, built, colorBy) {
    var values = built.items.map(function (it) { return it.figs[colorBy]; }).filter(function (v) { return v > 0; });
    return model.name + " \u2014 colour: " + model.figures[colorBy] + " (log scale)" +
           (values.length ? ", " + human(Math.min.apply(null, values)) + " to " + human(Math.max.apply(null, values)) : "");
  }

  function depth(model, index) {
    var d = 0;
    for (var g = model.groups[index].parent; g >= 0; g = model.groups[g].parent) d++;
    return d;
  }

  // `archcalc graph`: the model and the expanded blocks' indices in, SVG text out.
  function standalone(model, expandedList, colorBy) {
    var expanded = {};
    expandedList.forEach(function (g) { expanded[g] = true; });
    return svg(model, expanded, colorBy, {standalone: true});
  }

  return {esc: esc, human: human, build: build, svg: svg, standalone: standalone, itemOf: itemOf};
})();
