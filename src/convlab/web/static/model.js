// convlab explorer, "Trained model" view: a digit through every layer of the CNN convlab trained, and any
// value of a convolution explained as patch x kernel -> sum. Uses api() and showError() from app.js;
// every number comes from the server (/api/model, /api/model_unit, /api/model_digits).
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);
  const SIDE = 8;            // the model reads 8x8 digits
  const MAP_PIXELS = 40;     // every feature map is drawn about this wide, whatever its size
  const PER_COLUMN = 16;     // feature maps stacked in one column before a layer takes another
  const INK = "#1d2330", FOCUS = "#2c5db1";
  const view = {
    request: { digit: 0 },   // what the layers show: { digit } or { image }
    answer: null,            // the last /api/model answer
    unit: null,              // the explained value: { layer, channel, row, col, answer }
    target: null,            // the value asked for last (its answer may be on its way)
    drawing: null,           // the draw pad's 8x8 values
    units: new Map(),        // model_unit answers for the current digit, by "layer,channel,row,col"
    galleryStart: 0,
    galleryTotal: 0,
    sent: 0,                 // /api/model requests sent, to drop answers that arrive out of order
    asked: 0,                // the same for /api/model_unit
    started: false,
  };

  function fmt(value) {
    const text = Number(Number(value).toPrecision(3)).toString();
    return text === "-0" ? "0" : text;
  }

  // Blue below zero, white at zero, orange above, as app.js colours feature maps (never red against green);
  // images and non-negative layers in grey, ink dark.
  function colour(value, limit, diverging) {
    if (!diverging) { const g = Math.round(255 * (1 - Math.max(0, Math.min(1, value / limit)))); return `rgb(${g},${g},${g})`; }
    const t = Math.max(-1, Math.min(1, value / limit));
    return t < 0 ? `rgb(${255 + t * 210},${255 + t * 150},${255 + t * 40})`
                 : `rgb(${255 - t * 20},${255 - t * 130},${255 - t * 235})`;
  }

  function largest(values) {
    let limit = 0;
    for (const v of values.flat(3)) limit = Math.max(limit, Math.abs(v));
    return limit || 1;
  }

  // One matrix on a canvas, `cell` pixels a value; marks: { box: [top, bottom, left, right], dashed, cell: [i, j] }.
  function drawMatrix(canvas, matrix, { limit, diverging, cell, marks = {} }) {
    const height = matrix.length, width = matrix[0].length;
    canvas.width = width * cell; canvas.height = height * cell;
    canvas.style.width = `${canvas.width}px`; canvas.style.height = `${canvas.height}px`;  // one canvas pixel a screen pixel
    const context = canvas.getContext("2d");
    matrix.forEach((row, i) => row.forEach((v, j) => {
      context.fillStyle = colour(v, limit, diverging);
      context.fillRect(j * cell, i * cell, cell, cell);
    }));
    if (marks.box) {
      const [top, bottom, left, right] = marks.box;
      context.fillStyle = "rgba(255, 213, 74, 0.35)";
      context.fillRect(left * cell, top * cell, (right - left + 1) * cell, (bottom - top + 1) * cell);
      context.lineWidth = Math.max(2, cell / 6); context.strokeStyle = INK;
      context.setLineDash(marks.dashed ? [5, 3] : []);
      context.strokeRect(left * cell + 1, top * cell + 1, (right - left + 1) * cell - 2, (bottom - top + 1) * cell - 2);
      context.setLineDash([]);
    }
    if (marks.cell) {
      const [i, j] = marks.cell;
      context.lineWidth = Math.max(2, cell / 5); context.strokeStyle = FOCUS;
      context.strokeRect(j * cell + 1, i * cell + 1, cell - 2, cell - 2);
    }
  }

  // ----- picking a digit ------------------------------------------------------------------------------
  async function showGallery(start) {
    let answer;
    try { answer = await api("model_digits", { start }); } catch (error) { showError(error); return; }
    view.galleryStart = start;
    const gallery = byId("model-gallery");
    gallery.replaceChildren(...answer.digits.map((digit) => {
      const button = document.createElement("button");
      button.type = "button"; button.dataset.index = digit.index;
      button.setAttribute("aria-label", `test digit ${digit.index}, a ${digit.label}`);
      button.title = `#${digit.index}: a ${digit.label}`;
      const canvas = document.createElement("canvas");
      drawMatrix(canvas, digit.image, { limit: 1, diverging: false, cell: 4 });
      button.appendChild(canvas);
      return button;
    }));
    view.galleryTotal = answer.total;
    byId("model-digit").max = answer.total - 1;
  }

  function pickDigit(index) {
    byId("model-digit").value = index;
    view.request = { digit: index };
    run();
  }

  // The draw pad: drag to ink; a stroke is about two pixels wide, like the digits the model learned from.
  function drawPad() {
    drawMatrix(byId("model-draw"), view.drawing, { limit: 1, diverging: false, cell: 20 });
  }

  function ink(event) {
    const canvas = byId("model-draw"), box = canvas.getBoundingClientRect();
    const i = Math.floor((event.clientY - box.top) / box.height * SIDE);
    const j = Math.floor((event.clientX - box.left) / box.width * SIDE);
    for (const [di, dj, amount] of [[0, 0, 1], [1, 0, 0.35], [-1, 0, 0.35], [0, 1, 0.35], [0, -1, 0.35]]) {
      const r = i + di, c = j + dj;
      if (r >= 0 && r < SIDE && c >= 0 && c < SIDE) view.drawing[r][c] = Math.min(1, view.drawing[r][c] + amount);
    }
    drawPad();
  }

  function startDrawing() {
    const canvas = byId("model-draw");
    let down = false, timer = null;
    const send = () => {
      view.request = { image: view.drawing.map((row) => row.slice()) };
      byId("model-digit").value = "";  // the layers no longer show a test digit
      run();
    };
    canvas.addEventListener("pointerdown", (event) => { down = true; canvas.setPointerCapture(event.pointerId); ink(event); });
    canvas.addEventListener("pointermove", (event) => {
      if (!down) return;
      ink(event);
      if (!timer) timer = setTimeout(() => { timer = null; send(); }, 150);  // follow the pen, a few times a second
    });
    canvas.addEventListener("pointerup", () => { down = false; clearTimeout(timer); timer = null; send(); });
    byId("model-clear").addEventListener("click", () => {
      view.drawing = [...Array(SIDE)].map(() => Array(SIDE).fill(0));
      drawPad(); send();
    });
  }

  // ----- the layers -------------------------------------------------------------------------------------
  async function run() {
    const request = view.request, ticket = ++view.sent;
    let answer;
    try { answer = await api("model", request); showError(null); } catch (error) { showError(error); return; }
    if (ticket !== view.sent) return;  // a later request is on its way: never show an older answer over it
    view.answer = answer; view.units = new Map();  // a new Map: late answers for the old digit land in the old one
    if (!request.image) { view.drawing = answer.input.map((row) => row.slice()); drawPad(); }  // draw over a test digit
    buildLayers();
    const first = answer.layers.findIndex((layer) => layer.explainable);
    const keep = view.unit && answer.layers[view.unit.layer] ? view.unit : { layer: first, channel: 0, row: 0, col: 0 };
    if (first >= 0) await explain(keep.layer, keep.channel, keep.row, keep.col);
    byId("view-model").dataset.ready = "true";
  }

  function verdict(answer) {
    const p = answer.probabilities[answer.prediction];
    const what = answer.digit === null ? "your drawing" : `test digit #${answer.digit}, a ${answer.label}`;
    const right = answer.label === null ? "" : answer.prediction === answer.label ? " (right)" : " (wrong)";
    return `${what}: the model says ${answer.classes[answer.prediction]} (${(100 * p).toFixed(1)}%)${right}`;
  }

  function column(title, note) {
    const box = document.createElement("div"); box.className = "model-layer";
    const heading = document.createElement("h3"); heading.textContent = title;
    const small = document.createElement("small"); small.textContent = note;
    box.append(heading, small);
    return box;
  }

  function buildLayers() {
    const answer = view.answer, row = byId("model-layers");
    byId("model-verdict").textContent = verdict(answer);
    const input = column("input", `1 x ${SIDE} x ${SIDE}`);
    const canvas = document.createElement("canvas"); canvas.id = "model-input"; canvas.setAttribute("aria-label", "input digit");
    input.appendChild(canvas);
    const columns = [input];
    answer.layers.forEach((layer, index) => {
      const box = column(layer.description, layer.shape.join(" x "));
      box.dataset.layer = index;
      if (layer.maps) {
        const maps = document.createElement("div"); maps.className = "maps-stack";
        maps.style.gridTemplateRows = `repeat(${Math.min(layer.maps.length, PER_COLUMN)}, auto)`;  // channels run down
        layer.maps.forEach((_, c) => {
          const map = document.createElement("canvas");
          map.dataset.layer = index; map.dataset.channel = c;
          map.setAttribute("aria-label", `${layer.name} channel ${c}`);
          if (layer.explainable) { map.tabIndex = 0; map.classList.add("explainable"); }
          maps.appendChild(map);
        });
        box.appendChild(maps);
      } else {
        const strip = document.createElement("canvas"); strip.className = "vector"; strip.dataset.layer = index;
        strip.setAttribute("aria-label", `${layer.name}: ${layer.values.length} values`);
        box.appendChild(strip);
      }
      columns.push(box);
    });
    columns.push(bars(answer));
    row.replaceChildren(...columns);
    paintLayers();
  }

  function bars(answer) {
    const box = column("probabilities", "softmax of the last layer");
    const list = document.createElement("ol"); list.className = "bars"; list.id = "model-bars";
    answer.probabilities.forEach((p, k) => {
      const item = document.createElement("li");
      item.classList.toggle("predicted", k === answer.prediction);
      item.classList.toggle("label", k === answer.label);
      const name = document.createElement("span"); name.textContent = answer.classes[k];
      const bar = document.createElement("span"); bar.className = "bar"; bar.style.width = `${(100 * p).toFixed(1)}%`;
      const value = document.createElement("span"); value.className = "p"; value.textContent = `${(100 * p).toFixed(1)}%`;
      item.append(name, bar, value);
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  // Repaint every canvas with the current marks: the explained value, its window in the layer it reads,
  // its receptive field on the input.
  function paintLayers() {
    const answer = view.answer, unit = view.unit && view.unit.answer;
    const source = unit ? answer.layers.findIndex((layer) => layer.name === unit.source) : -2;
    const window = unit && clipped(unit.input_rows, unit.input_cols);
    const field = unit && [...unit.field.rows, ...unit.field.cols];
    drawMatrix(byId("model-input"), answer.input, {
      limit: 1, diverging: false, cell: 16,
      marks: unit ? { box: source === -1 ? window : field, dashed: source !== -1 } : {},
    });
    answer.layers.forEach((layer, index) => {
      const limit = largest(layer.maps || layer.values);
      const diverging = (layer.maps || layer.values).flat(3).some((v) => v < 0);
      if (!layer.maps) {
        const strip = document.querySelector(`#model-layers canvas.vector[data-layer="${index}"]`);
        const cell = Math.max(2, Math.min(16, Math.floor(400 / layer.values.length)));
        drawMatrix(strip, layer.values.map((v) => [v]), { limit, diverging, cell });
        return;
      }
      const cell = Math.max(2, Math.floor(MAP_PIXELS / layer.maps[0][0].length));
      layer.maps.forEach((map, c) => {
        const marks = {};
        if (unit && index === view.unit.layer && c === view.unit.channel) marks.cell = [view.unit.row, view.unit.col];
        if (unit && index === source) marks.box = window;
        const canvas = document.querySelector(`#model-layers canvas[data-layer="${index}"][data-channel="${c}"]`);
        drawMatrix(canvas, map, { limit, diverging, cell, marks });
      });
    });
  }

  // The window's rows and columns inside the layer it reads ([top, bottom, left, right]); padding is left out.
  function clipped(rows, cols) {
    const inside = (values, size) => values.filter((v) => v >= 0 && v < size);
    const [, height, width] = view.unit.answer.source_shape;
    const r = inside(rows, height), c = inside(cols, width);
    return r.length && c.length ? [Math.min(...r), Math.max(...r), Math.min(...c), Math.max(...c)] : null;
  }

  // ----- one value explained ------------------------------------------------------------------------------
  async function explain(layer, channel, row, col) {
    const key = `${layer},${channel},${row},${col}`;
    view.target = { layer, channel, row, col };  // at once: the next arrow key moves from here, answered or not
    const ticket = ++view.asked, units = view.units;
    let answer = units.get(key);
    if (!answer) {
      try { answer = await api("model_unit", { ...view.request, layer, channel, row, col }); }
      catch (error) { showError(error); return; }
      units.set(key, answer);
    }
    if (ticket !== view.asked) return;  // the pointer has moved on
    view.unit = { layer, channel, row, col, answer };
    paintLayers();
    showExplanation(answer);
  }

  function table(matrix, caption) {
    const figure = document.createElement("figure");
    const title = document.createElement("figcaption"); title.textContent = caption;
    const grid = document.createElement("table"); grid.className = "grid small";
    for (const row of matrix) {
      const tr = document.createElement("tr");
      for (const v of row) { const td = document.createElement("td"); td.textContent = fmt(v); tr.appendChild(td); }
      grid.appendChild(tr);
    }
    figure.append(title, grid);
    return figure;
  }

  function showExplanation(unit) {
    const box = byId("model-explain");
    const [i, j] = unit.position;
    const heading = document.createElement("h3");
    heading.textContent = `${unit.name} (${unit.description}), channel ${unit.channel}, out[${i}, ${j}] = ${fmt(unit.value)}`;
    const where = document.createElement("p");
    const [, height, width] = unit.source_shape;
    const padded = unit.input_rows.some((r) => r < 0 || r >= height) || unit.input_cols.some((c) => c < 0 || c >= width);
    where.textContent = `reads ${unit.source} rows ${unit.input_rows.join(", ")} and columns ${unit.input_cols.join(", ")}` +
      `${padded ? " (outside the map: padding)" : ""}; sees input pixels rows ${unit.field.rows.join("..")}, ` +
      `columns ${unit.field.cols.join("..")} (outlined on the input)`;
    const terms = unit.terms.map((term) => {
      const line = document.createElement("div"); line.className = "term";
      const sign = (text) => { const s = document.createElement("span"); s.className = "op"; s.textContent = text; return s; };
      const total = document.createElement("span"); total.className = "total"; total.textContent = fmt(term.total);
      const sum = document.createElement("span"); sum.className = "sum"; sum.append(sign("sum"), " ", total);
      line.append(table(term.window, `channel ${term.channel} window`), sign("×"), table(term.kernel, "kernel"),
                  sign("→"), table(term.products, "products"), sum);  // "sum 0.115" stays one piece when a line wraps
      line.title = term.equation;
      return line;
    });
    const sum = document.createElement("p"); sum.className = "math"; sum.id = "model-sum";
    const signed = (value) => (value < 0 ? `(${fmt(value)})` : fmt(value));  // as the lesson writes 3*(-1)
    const parts = unit.terms.map((term) => signed(term.total));
    if (unit.bias !== null) parts.push(`bias ${signed(unit.bias)}`);
    sum.textContent = `sum over channels: ${parts.join(" + ")} = ${fmt(unit.value)}`;
    const grid = document.createElement("div"); grid.className = "terms"; grid.append(...terms);
    box.replaceChildren(heading, where, sum, grid);
  }

  function unitAt(canvas, event) {
    const layer = view.answer.layers[Number(canvas.dataset.layer)], map = layer.maps[0];
    const box = canvas.getBoundingClientRect();
    const row = Math.min(map.length - 1, Math.floor((event.clientY - box.top) / box.height * map.length));
    const col = Math.min(map[0].length - 1, Math.floor((event.clientX - box.left) / box.width * map[0].length));
    return [Number(canvas.dataset.layer), Number(canvas.dataset.channel), Math.max(0, row), Math.max(0, col)];
  }

  function startExplaining() {
    const row = byId("model-layers");
    let last = "";
    const pick = (event) => {
      const canvas = event.target.closest("canvas.explainable");
      if (!canvas) return;
      const unit = unitAt(canvas, event), key = unit.join(",");
      if (key !== last || event.type === "click") { last = key; explain(...unit); }
    };
    row.addEventListener("mousemove", pick);
    row.addEventListener("click", pick);
    row.addEventListener("focusin", (event) => {  // keyboard: focus a map, then arrow keys move the value
      const canvas = event.target.closest("canvas.explainable");
      if (canvas && view.target && Number(canvas.dataset.layer) === view.target.layer &&
          Number(canvas.dataset.channel) === view.target.channel) return;
      if (canvas) explain(Number(canvas.dataset.layer), Number(canvas.dataset.channel), 0, 0);
    });
    row.addEventListener("keydown", (event) => {
      const canvas = event.target.closest("canvas.explainable"), move = {
        ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[event.key];
      if (!canvas || !move || !view.target) return;
      event.preventDefault();
      const { layer, channel, row, col } = view.target, map = view.answer.layers[layer].maps[0];
      const r = Math.max(0, Math.min(map.length - 1, row + move[0]));
      const c = Math.max(0, Math.min(map[0].length - 1, col + move[1]));
      explain(layer, channel, r, c);
    });
  }

  // ----- start: the first time the tab opens --------------------------------------------------------------
  async function start() {
    if (view.started) return;
    view.started = true;
    view.drawing = [...Array(SIDE)].map(() => Array(SIDE).fill(0));
    startDrawing();
    startExplaining();
    byId("model-gallery").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-index]");
      if (button) pickDigit(Number(button.dataset.index));
    });
    byId("model-more").addEventListener("click", () => {  // the next page, and back to the first after the last
      const next = view.galleryStart + byId("model-gallery").children.length;
      showGallery(next < view.galleryTotal ? next : 0);
    });
    byId("model-digit").addEventListener("change", () => pickDigit(Number(byId("model-digit").value)));
    await showGallery(0);
    await run();
  }

  byId("tab-model").addEventListener("click", () => { start().catch(showError); });
})();
