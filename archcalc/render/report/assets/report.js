/* archcalc report: the graph's state (expanded blocks, colour, selection), the details panel and
   the table's sorting and filtering. The details are built with textContent (names are untrusted);
   the graph is ArchGraph's SVG text, which escapes every name itself. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("archcalc-data").textContent);

  function descendants(model, index) {
    var out = [];
    model.groups.forEach(function (g, i) {
      for (var p = g.parent; p >= 0; p = model.groups[p].parent) if (p === index) { out.push(i); break; }
    });
    return out;
  }

  function row(table, cells) {
    var tr = document.createElement("tr");
    ["figure", "value", "formula"].forEach(function (cls, i) {
      var td = document.createElement("td");
      td.className = cls;
      td.textContent = cells[i] || "";
      tr.appendChild(td);
    });
    table.appendChild(tr);
  }

  function setupNet(model, root) {
    var state = {expanded: {}, colorBy: "params", selected: null};
    model.initial.forEach(function (g) { state.expanded[g] = true; });
    var holder = root.querySelector(".graph"), panel = root.querySelector(".details");

    function draw() {
      holder.innerHTML = ArchGraph.svg(model, state.expanded, state.colorBy, {selected: state.selected});
    }

    function show(key) {
      state.selected = key;
      panel.textContent = "";
      var title = document.createElement("h4"), table = document.createElement("table"), lines;
      if (key.charAt(0) === "g") {
        var index = +key.slice(1), group = model.groups[index];
        title.textContent = group.name;
        lines = group.details;
        var button = document.createElement("button");
        button.type = "button";
        button.className = "expand";
        button.textContent = "expand this block";
        button.addEventListener("click", function () { state.expanded[index] = true; state.selected = null; draw(); });
        panel.appendChild(title);
        panel.appendChild(button);
      } else if (key.charAt(0) === "n") {
        var node = model.nodes[+key.slice(1)];
        title.textContent = node.name;
        lines = node.details;
        panel.appendChild(title);
      } else {
        title.textContent = key.slice(2);
        lines = [["input", model.inputs[key.slice(2)], "the net's input (batch left out)"]];
        panel.appendChild(title);
      }
      lines.forEach(function (cells) { row(table, cells); });
      panel.appendChild(table);
      draw();
    }

    holder.addEventListener("click", function (event) {
      var toggle = event.target.closest("[data-toggle]");
      if (toggle) {
        var index = +toggle.getAttribute("data-toggle");
        if (state.expanded[index]) {
          delete state.expanded[index];
          descendants(model, index).forEach(function (d) { delete state.expanded[d]; });
        } else {
          state.expanded[index] = true;
        }
        draw();
        return;
      }
      var node = event.target.closest(".node");
      if (node) show(node.getAttribute("data-key"));
    });
    root.querySelector(".color-by").addEventListener("change", function (event) {
      state.colorBy = event.target.value;
      draw();
    });
    root.querySelector(".expand-all").addEventListener("click", function () {
      model.groups.forEach(function (g, i) { state.expanded[i] = true; });
      draw();
    });
    root.querySelector(".collapse-all").addEventListener("click", function () {
      state.expanded = {};
      draw();
    });
    draw();
    setupTable(root.querySelector("table.layers"), root.querySelector(".filter"), root.querySelector(".shown"));
  }

  function setupTable(table, filter, shown) {
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    function count() {
      var visible = rows.filter(function (r) { return !r.hidden; }).length;
      shown.textContent = visible + " of " + rows.length + " layers";
    }
    table.tHead.addEventListener("click", function (event) {
      var th = event.target.closest("th");
      if (!th) return;
      var column = th.cellIndex, numeric = th.getAttribute("data-numeric") === "1";
      var descending = !th.classList.contains("sorted-desc");
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.classList.remove("sorted-asc", "sorted-desc"); });
      th.classList.add(descending ? "sorted-desc" : "sorted-asc");
      var keyed = rows.map(function (r, i) {
        var cell = r.cells[column];
        return {row: r, i: i, key: numeric ? Number(cell.getAttribute("data-v")) : cell.textContent};
      });
      keyed.sort(function (a, b) {
        var d = numeric ? a.key - b.key : (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
        return (descending ? -d : d) || a.i - b.i;
      });
      var fragment = document.createDocumentFragment();
      keyed.forEach(function (k) { fragment.appendChild(k.row); });
      body.appendChild(fragment);
    });
    filter.addEventListener("input", function () {
      var needle = filter.value.toLowerCase();
      rows.forEach(function (r) { r.hidden = needle !== "" && r.getAttribute("data-name").indexOf(needle) < 0; });
      count();
    });
    count();
  }

  data.nets.forEach(function (model, i) { setupNet(model, document.getElementById("net-" + i)); });
  window.archcalcReadyMs = performance.now();
  document.body.setAttribute("data-ready", "1");
})();
