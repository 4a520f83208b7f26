"""The self-contained HTML page of `flowport audit --html` (no network: styles, script and
data are inline). The data is the audit's JSON, rendered by the page's own script."""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1f2328; }
  h1 { font-size: 20px; margin: 0 0 16px; }
  h2 { font-size: 16px; margin: 24px 0 8px; }
  .totals { display: flex; gap: 12px; flex-wrap: wrap; }
  .card { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
  .card b { display: block; font-size: 24px; }
  .runs b { color: #1a7f37; } .needs b { color: #9a6700; } .invalid b { color: #cf222e; }
  .bar { display: flex; align-items: center; gap: 8px; margin: 3px 0; }
  .bar .name { width: 240px; text-align: right; font-family: ui-monospace, monospace; overflow: hidden;
               text-overflow: ellipsis; white-space: nowrap; }
  .bar .fill { background: #9a6700; height: 16px; border-radius: 2px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border-bottom: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
  th { cursor: pointer; user-select: none; background: #f6f8fa; }
  th.sorted-asc::after { content: " ▲"; } th.sorted-desc::after { content: " ▼"; }
  td.file, td.where { font-family: ui-monospace, monospace; }
  .v-runs { color: #1a7f37; } .v-needs { color: #9a6700; } .v-invalid { color: #cf222e; }
</style>
</head>
<body>
<h1>__TITLE__</h1>
<div class="totals" id="totals"></div>
<h2>Features that block files</h2>
<div id="features"></div>
<h2>Files</h2>
<table id="files">
  <thead><tr><th data-key="file">file</th><th data-key="dialect">dialect</th><th data-key="verdict">verdict</th>
  <th data-key="features">needs</th><th data-key="first">first problem</th></tr></thead>
  <tbody></tbody>
</table>
<script id="audit-data" type="application/json">__DATA__</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById("audit-data").textContent);
  var t = data.totals;
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  [["workflows", "workflows", ""], ["runs as is", "run as is", "runs"],
   ["needs unsupported feature", "need an unsupported feature", "needs"], ["invalid", "invalid", "invalid"],
   ["not a workflow", "other YAML files", ""]].forEach(function (c) {
    var card = el("div", {"class": "card " + c[2]});
    card.appendChild(el("b", {}, String(t[c[0]])));
    card.appendChild(document.createTextNode(c[1]));
    document.getElementById("totals").appendChild(card);
  });
  var most = data.features.length ? data.features[0].files : 1;
  data.features.forEach(function (f) {
    var bar = el("div", {"class": "bar"});
    bar.appendChild(el("span", {"class": "name", "title": f.feature}, f.feature));
    bar.appendChild(el("span", {"class": "fill", "style": "width:" + Math.max(4, 400 * f.files / most) + "px"}));
    bar.appendChild(el("span", {}, f.files + (f.files === 1 ? " file" : " files")));
    document.getElementById("features").appendChild(bar);
  });
  if (!data.features.length) document.getElementById("features").textContent = "none";
  var css = {"runs as is": "v-runs", "needs unsupported feature": "v-needs", "invalid": "v-invalid"};
  var rows = data.files.filter(function (f) { return f.verdict !== "not a workflow"; }).map(function (f) {
    var p = f.problems[0];
    var first = p ? ((p.line ? p.line + ":" + p.col + " " : "") + p.message) : "";
    return {file: f.file, dialect: f.dialect, verdict: f.verdict, features: f.features.join(", "), first: first};
  });
  var body = document.querySelector("#files tbody");
  function draw() {
    body.textContent = "";
    rows.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("td", {"class": "file"}, r.file));
      tr.appendChild(el("td", {}, r.dialect));
      tr.appendChild(el("td", {"class": css[r.verdict] || ""}, r.verdict));
      tr.appendChild(el("td", {}, r.features));
      tr.appendChild(el("td", {"class": "where"}, r.first));
      body.appendChild(tr);
    });
  }
  var order = {key: "file", dir: 1};
  document.querySelectorAll("#files th").forEach(function (th) {
    th.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      order = {key: key, dir: order.key === key ? -order.dir : 1};
      rows.sort(function (a, b) { return a[key] < b[key] ? -order.dir : a[key] > b[key] ? order.dir : 0; });
      document.querySelectorAll("#files th").forEach(function (h) { h.className = ""; });
      th.className = order.dir > 0 ? "sorted-asc" : "sorted-desc";
      draw();
    });
  });
  draw();
})();
</script>
</body>
</html>
"""
