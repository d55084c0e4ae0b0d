// convlab explorer: every number on this page comes from convlab's engine through the JSON API.
"use strict";

const $ = (id) => document.getElementById(id);
let presets = null;
let conv = null;        // the last /api/conv answer of the playground
let channels = null;    // the last /api/conv answer of the channels view
let playing = null;     // the timer of Play
let position = -1;      // the output position Play/Step is at

async function api(name, body) {
  const response = await fetch(`/api/${name}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) {
    throw new Error(answer.fix ? `${answer.error} (fix: ${answer.fix})` : answer.error);
  }
  return answer;
}

function showError(error) {
  const box = $("error");
  if (error) { box.textContent = error.message || String(error); box.hidden = false; }
  else { box.hidden = true; box.textContent = ""; }
}

function number(value) {
  if (value === null || value === undefined) return "";
  const text = Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString();
  return text === "-0" ? "0" : text;
}

function matrixText(matrix) {
  return matrix.map((row) => row.map(number).join(" ")).join("; ");
}

// ----- tabs -------------------------------------------------------------------------------------------
function selectTab(tab) {
  for (const button of document.querySelectorAll('[role="tab"]')) {
    const selected = button === tab;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(button.getAttribute("aria-controls")).hidden = !selected;
  }
}

// ----- grids ------------------------------------------------------------------------------------------
function drawGrid(table, matrix, options = {}) {
  table.replaceChildren();
  matrix.forEach((row, i) => {
    const tr = document.createElement("tr");
    row.forEach((value, j) => {
      const td = document.createElement("td");
      td.textContent = number(value);
      td.dataset.i = i; td.dataset.j = j;
      if (options.padding) {
        const [[top, bottom], [left, right]] = options.padding;
        if (i < top || i >= matrix.length - bottom || j < left || j >= row.length - right) td.classList.add("pad");
      }
      if (options.focusable) { td.tabIndex = 0; td.setAttribute("aria-label", `out[${i}, ${j}] = ${number(value)}`); }
      tr.appendChild(td);
    });
    table.appendChild(tr);
  });
}

function highlight(table, rows, cols) {
  const wanted = new Set();
  for (const r of rows) for (const c of cols) wanted.add(`${r},${c}`);
  for (const td of table.querySelectorAll("td")) {
    td.classList.toggle("window", wanted.has(`${td.dataset.i},${td.dataset.j}`));
  }
}

function markCurrent(table, i, j) {
  for (const td of table.querySelectorAll("td")) {
    td.classList.toggle("current", Number(td.dataset.i) === i && Number(td.dataset.j) === j);
  }
}

// ----- playground -------------------------------------------------------------------------------------
function playgroundRequest() {
  const kind = $("padding-kind").value;
  return {
    input: $("input").value, kernel: $("kernel").value,
    stride: Number($("stride").value), dilation: Number($("dilation").value),
    padding: kind === "number" ? Number($("padding").value) : kind, padding_mode: $("padding-mode").value,
  };
}

async function updatePlayground() {
  document.querySelector(".padding-number").hidden = $("padding-kind").value !== "number";
  try {
    conv = await api("conv", playgroundRequest());
    showError(null);
  } catch (error) { showError(error); return; }
  drawGrid($("padded"), conv.padded[0], { padding: conv.padding });
  drawGrid($("output"), conv.output[0], { focusable: true });
  $("formula").replaceChildren(...conv.formula.map((line) => { const p = document.createElement("p"); p.textContent = line; return p; }));
  explainCell(0, 0);
}

function explainCell(i, j) {
  if (!conv) return;
  const cell = conv.cells[0][i] && conv.cells[0][i][j];
  if (!cell) return;
  const [top] = conv.padding[0], [left] = conv.padding[1];
  highlight($("padded"), cell.rows, cell.cols);
  markCurrent($("output"), i, j);
  const rows = cell.rows.map((r) => r - top), cols = cell.cols.map((c) => c - left);
  $("where").textContent = `out[${i}, ${j}] reads input rows ${rows.join(", ")} and columns ${cols.join(", ")}`;
  const sums = cell.terms.map((term) => term.equation);
  $("arithmetic").textContent = `${sums.join("  |  ")}   →   out[${i}, ${j}] = ${number(cell.value)}`;
  position = i * conv.output[0][0].length + j;
}

function step() {
  if (!conv) return;
  const width = conv.output[0][0].length, count = conv.output[0].length * width;
  position = (position + 1) % count;
  explainCell(Math.floor(position / width), position % width);
}

function togglePlay() {
  if (playing) { clearInterval(playing); playing = null; $("play").textContent = "▶ Play"; return; }
  $("play").textContent = "❚❚ Pause";
  playing = setInterval(step, 700);
}

// ----- channels ---------------------------------------------------------------------------------------
async function updateChannels() {
  try {
    channels = await api("conv", { input: $("mc-input").value, kernel: $("mc-kernel").value,
                                   bias: Number($("mc-bias").value) });
    showError(null);
  } catch (error) { showError(error); return; }
  const box = $("mc-channels");
  box.replaceChildren();
  channels.padded.forEach((plane, c) => {
    const figure = document.createElement("figure");
    const caption = document.createElement("figcaption");
    caption.textContent = `channel ${c} and its kernel`;
    const grid = document.createElement("table"); grid.className = "grid"; grid.id = `mc-grid-${c}`;
    const kernel = document.createElement("table"); kernel.className = "grid";
    drawGrid(grid, plane, { padding: channels.padding });
    drawGrid(kernel, channels.kernel[0][c]);
    figure.append(caption, grid, kernel);
    box.appendChild(figure);
  });
  drawGrid($("mc-output"), channels.output[0], { focusable: true });
  explainChannels(0, 0);
}

function explainChannels(i, j) {
  if (!channels) return;
  const cell = channels.cells[0][i] && channels.cells[0][i][j];
  if (!cell) return;
  channels.padded.forEach((_, c) => highlight($(`mc-grid-${c}`), cell.rows, cell.cols));
  markCurrent($("mc-output"), i, j);
  const lines = cell.terms.map((term) => `channel ${term.channel}: ${term.equation}`);
  const parts = cell.terms.map((term) => number(term.total));
  if (cell.bias !== null) parts.push(`bias ${number(cell.bias)}`);
  lines.push(`sum over channels: ${parts.join(" + ")} = ${number(cell.value)}`);
  $("mc-sum").replaceChildren(...lines.map((line) => { const p = document.createElement("p"); p.textContent = line; return p; }));
}

// ----- image ------------------------------------------------------------------------------------------
let uploaded = null;

function paint(canvas, matrix, diverging) {
  const height = matrix.length, width = matrix[0].length;
  canvas.width = width; canvas.height = height;
  const context = canvas.getContext("2d"), pixels = context.createImageData(width, height);
  let limit = 0;
  for (const row of matrix) for (const v of row) limit = Math.max(limit, Math.abs(v));
  limit = limit || 1;
  matrix.forEach((row, i) => row.forEach((v, j) => {
    let r, g, b;
    if (diverging) {  // blue for negative, white at zero, orange for positive: not red against green
      const t = Math.max(-1, Math.min(1, v / limit));
      if (t < 0) { r = 255 + t * 210; g = 255 + t * 150; b = 255 + t * 40; }
      else { r = 255 - t * 20; g = 255 - t * 130; b = 255 - t * 235; }
    } else { r = g = b = Math.round(255 * Math.max(0, Math.min(1, v))); }
    const k = 4 * (i * width + j);
    pixels.data[k] = r; pixels.data[k + 1] = g; pixels.data[k + 2] = b; pixels.data[k + 3] = 255;
  }));
  context.putImageData(pixels, 0, 0);
}

function figureWith(canvas, title, note) {
  const figure = document.createElement("figure");
  const caption = document.createElement("figcaption"); caption.textContent = title;
  const small = document.createElement("small"); small.textContent = note || "";
  figure.append(caption, canvas, small);
  return figure;
}

async function updateImage() {
  const kernels = [...document.querySelectorAll("#kernel-bank input:checked")].map((box) => box.value);
  let answer;
  try {
    answer = await api("features", { image: uploaded || $("image-select").value, kernels });
    showError(null);
  } catch (error) { showError(error); return; }
  const maps = $("maps");
  maps.replaceChildren();
  const input = document.createElement("canvas"); paint(input, answer.image, false);
  maps.appendChild(figureWith(input, "input", `${answer.image.length} x ${answer.image[0].length} grey`));
  for (const map of answer.maps) {
    const canvas = document.createElement("canvas"); paint(canvas, map.map, true);
    canvas.dataset.kernel = map.name;
    maps.appendChild(figureWith(canvas, map.name, `${map.note}; kernel ${matrixText(map.kernel)}`));
  }
}

// ----- network ----------------------------------------------------------------------------------------
let network = null;
let photo = null;

async function updateNetwork() {
  try {
    network = await api("network", { model: $("model").value, input: $("net-input").value });
    showError(null);
  } catch (error) { showError(error); return; }
  const table = $("net-table");
  table.replaceChildren();
  const head = document.createElement("tr");
  for (const title of ["layer", "kind", "output shape", "params", "MACs", "RF", "jump"]) {
    const th = document.createElement("th"); th.textContent = title; head.appendChild(th);
  }
  table.appendChild(head);
  for (const layer of network.layers) {
    const tr = document.createElement("tr");
    const rf = layer.rf ? layer.rf.map(number).join("x") : "global";
    for (const value of [layer.name, layer.description, `(${layer.output_shape.join(", ")})`,
                         layer.params.toLocaleString("en"), layer.macs.toLocaleString("en"), rf,
                         layer.rf ? layer.jump.map(number).join("x") : "-"]) {
      const td = document.createElement("td"); td.textContent = value; tr.appendChild(td);
    }
    table.appendChild(tr);
  }
  const total = document.createElement("tr");
  total.innerHTML = "<td>total</td><td></td><td></td>";
  for (const value of [network.total_params.toLocaleString("en"), network.total_macs.toLocaleString("en"), "", ""]) {
    const td = document.createElement("td"); td.textContent = value; total.appendChild(td);
  }
  table.appendChild(total);
  const list = $("problems");
  list.replaceChildren(...network.problems.map((problem) => {
    const li = document.createElement("li"); li.className = problem.severity;
    li.textContent = `${problem.severity}: ${problem.line}`; return li;
  }));
  if (!network.problems.length) { const li = document.createElement("li"); li.textContent = "convlab check: no problems"; list.appendChild(li); }
  if (!network.final) { $("rf-text").textContent = "fix the errors above to see the receptive field"; return; }
  const [, , outH, outW] = network.final.output_shape;
  $("unit-i").max = outH - 1; $("unit-j").max = outW - 1;
  $("unit-i").value = Math.floor(outH / 2); $("unit-j").value = Math.floor(outW / 2);
  await drawField();
}

async function drawField() {
  if (!network || !network.final) return;
  if (!photo) photo = (await api("features", { image: "camera", kernels: ["identity"] })).image;
  const canvas = $("rf-canvas"), context = canvas.getContext("2d");
  const [, , height, width] = network.input_shape;
  const scratch = document.createElement("canvas"); paint(scratch, photo, false);
  context.imageSmoothingEnabled = true;
  context.drawImage(scratch, 0, 0, canvas.width, canvas.height);
  const final = network.final, i = Number($("unit-i").value), j = Number($("unit-j").value);
  const centre = [final.start[0] + i * final.jump[0], final.start[1] + j * final.jump[1]];
  const half = [(final.rf[0] - 1) / 2, (final.rf[1] - 1) / 2];
  const top = Math.max(0, centre[0] - half[0]), bottom = Math.min(height - 1, centre[0] + half[0]);
  const left = Math.max(0, centre[1] - half[1]), right = Math.min(width - 1, centre[1] + half[1]);
  const sy = canvas.height / height, sx = canvas.width / width;
  context.lineWidth = 3; context.strokeStyle = "#1d2330"; context.setLineDash([6, 3]);
  context.strokeRect(left * sx, top * sy, (right - left + 1) * sx, (bottom - top + 1) * sy);
  context.fillStyle = "rgba(255, 213, 74, 0.35)";
  context.fillRect(left * sx, top * sy, (right - left + 1) * sx, (bottom - top + 1) * sy);
  $("rf-text").textContent = `${final.name}[${i}, ${j}] sees input rows ${Math.ceil(top)}..${Math.floor(bottom)}, ` +
    `cols ${Math.ceil(left)}..${Math.floor(right)} (receptive field ${final.rf.map(number).join("x")}, ` +
    `jump ${final.jump.map(number).join("x")})`;
}

// ----- start --------------------------------------------------------------------------------------------
function debounce(fn, ms = 200) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

function fillSelect(select, names) {
  for (const name of names) { const option = document.createElement("option"); option.textContent = name; select.appendChild(option); }
}

async function start() {
  presets = await api("presets");
  const inputs = { "Lab 1 (4x4)": presets.labs.manual_conv.image, "Lab 2 edge (5x5)": presets.labs.edge.image,
    "ramp 6x6": [...Array(6)].map((_, i) => [...Array(6)].map((_, j) => i + j)) };
  const kernels = { "Lab 1 [[1, 0], [0, -1]]": presets.labs.manual_conv.kernel, "Lab 2 [-1, 1]": presets.labs.edge.kernel };
  for (const [name, kernel] of Object.entries(presets.kernels)) kernels[name] = kernel.matrix;
  fillSelect($("input-preset"), Object.keys(inputs));
  fillSelect($("kernel-preset"), Object.keys(kernels));
  $("input").value = matrixText(inputs["Lab 1 (4x4)"]);
  $("kernel").value = matrixText(kernels["Lab 1 [[1, 0], [0, -1]]"]);
  $("input-preset").addEventListener("change", () => { $("input").value = matrixText(inputs[$("input-preset").value]); updatePlayground(); });
  $("kernel-preset").addEventListener("change", () => { $("kernel").value = matrixText(kernels[$("kernel-preset").value]); updatePlayground(); });
  const later = debounce(updatePlayground);
  for (const id of ["input", "kernel", "stride", "padding", "dilation"]) $(id).addEventListener("input", later);
  for (const id of ["padding-kind", "padding-mode"]) $(id).addEventListener("change", updatePlayground);
  for (const [table, explain] of [[$("output"), explainCell], [$("mc-output"), explainChannels]]) {
    const pick = (event) => { const td = event.target.closest("td"); if (td) explain(Number(td.dataset.i), Number(td.dataset.j)); };
    table.addEventListener("mouseover", pick);
    table.addEventListener("focusin", pick);
  }
  $("step").addEventListener("click", step);
  $("play").addEventListener("click", togglePlay);
  const laterChannels = debounce(updateChannels);
  for (const id of ["mc-input", "mc-kernel", "mc-bias"]) $(id).addEventListener("input", laterChannels);

  fillSelect($("image-select"), presets.images);
  for (const name of Object.keys(presets.kernels)) {
    const label = document.createElement("label"), box = document.createElement("input");
    box.type = "checkbox"; box.value = name; box.checked = ["sobel_x", "sobel_y", "gaussian", "laplacian"].includes(name);
    label.append(box, name); $("kernel-bank").appendChild(label);
  }
  $("image-select").addEventListener("change", () => { uploaded = null; updateImage(); });
  $("apply-kernels").addEventListener("click", updateImage);
  $("upload").addEventListener("change", () => {
    const file = $("upload").files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => { uploaded = reader.result; updateImage(); };
    reader.readAsDataURL(file);
  });

  const models = $("model-list");
  for (const [name, shape] of Object.entries(presets.models)) {
    const option = document.createElement("option"); option.value = name; option.label = shape; models.appendChild(option);
  }
  $("model").addEventListener("change", () => { if (presets.models[$("model").value]) $("net-input").value = presets.models[$("model").value]; });
  $("summarize").addEventListener("click", updateNetwork);
  for (const id of ["unit-i", "unit-j"]) $(id).addEventListener("input", drawField);

  const tabs = [...document.querySelectorAll('[role="tab"]')];
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      const move = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (move) { const next = tabs[(index + move + tabs.length) % tabs.length]; selectTab(next); next.focus(); }
    });
  });
  await updatePlayground();
  await updateChannels();
  await updateImage();
  await updateNetwork();
  document.body.dataset.ready = "true";
}

start().catch(showError);
